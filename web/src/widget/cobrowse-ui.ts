// The visitor's co-browsing (the lazily loaded widget-cobrowse.js): the request
// with its two buttons, the bar that says the agent is viewing this page with Stop
// on every page while it is on, and rrweb's recorder under one masking policy.
// Agent-provided text is written with textContent.

import { record } from "@rrweb/record";
import { VisitorCobrowse, type Recorder, type VisitorCobrowseDeps } from "../lib/cobrowse-visitor";
import { DIAG_TAG } from "../protocol.gen";
import { captureDiagnostics } from "./cobrowse-diag";
import { mountGuide } from "./cobrowse-guide";
import { mountControlExec } from "./control-exec";
import { VisitorControl } from "../lib/control-visitor";
import { mountDrawing } from "./cobrowse-draw";
import { CLEARED, DRAWINGS_TAG } from "../lib/cobrowse-drawing";
import { fitForRelay, isBlockedSheets, maskToggles } from "../lib/cobrowse-mask";
import { usableSelectors, withExtra } from "../lib/private-selectors";
import { domParses } from "./selector-check";
import type { KeyValueStore, VisitorSession } from "../lib/visitor-session";
import { adoptStyles, h, replaceChildren } from "../ui/dom";
import css from "./cobrowse.css";
import type { Lang } from "./i18n";
import { COBROWSE_STRINGS } from "./cobrowse-i18n";

export interface CobrowseHost {
  session: VisitorSession;
  /** The Sightline server's origin (the relay's). */
  origin: string;
  /** Where the request card goes (inside the chat panel). */
  slot: HTMLElement;
  /** Where the always-visible bar goes. */
  floatParent: HTMLElement;
  styleRoot: ShadowRoot;
  lang: Lang;
  openPanel(): void;
}

export interface CobrowseApi {
  cobrowse: VisitorCobrowse;
  control: VisitorControl;
  render(): void;
  /**
   * The widget saw the page's address change without a load (`watchRoutes`)
   * and told the server: another route is another page.
   */
  routeChanged(): void;
}

/**
 * The masking policy, the same as the screen share's masks. Nothing masked leaves
 * the browser:
 * - elements marked `data-sightline-private` are blocked whole (the agent sees an
 *   empty box of the same size: no text, attributes, images or media inside);
 * - hidden inputs are blocked (they often carry tokens);
 * - the value of every input, textarea and select is replaced by a fixed-length
 *   placeholder (its length does not leak), unless the field or an ancestor is
 *   marked `data-sightline-visible`; a password field never shows; whether a
 *   checkbox or radio button is ticked shows only where marked visible too;
 * - the widget itself is blocked, and so is the share's repaint helper when it
 *   could not go into the widget (`sightline-nudge`, share-mask.ts).
 */
export const BLOCK_SELECTOR = "[data-sightline-private], input[type=hidden], sightline-widget, sightline-nudge";
/**
 * The site policy's private selectors (usable ones, as one list), blocked like
 * `data-sightline-private`: set by `mountCobrowse` from the visitor session.
 */
let sitePrivate = "";
const blockSelector = () => withExtra(BLOCK_SELECTOR, sitePrivate);
const privateSelector = () => withExtra("[data-sightline-private]", sitePrivate);
export const VISIBLE_SELECTOR = "[data-sightline-visible]";
export const MASK = "••••••••";

/** A field whose value is never shown, whatever the site marked visible. */
function alwaysPrivate(element: HTMLElement): boolean {
  const autocomplete = (element.getAttribute("autocomplete") || "").toLowerCase();
  return (
    (element instanceof HTMLInputElement && (element.type === "password" || element.type === "file")) ||
    // A password field shown by a "show password" toggle (rrweb marks it).
    element.hasAttribute("data-rr-is-password") ||
    /password|cc-|one-time-code/.test(autocomplete)
  );
}

function visible(element: HTMLElement | null): boolean {
  return !!element && !!element.closest(VISIBLE_SELECTOR) && !element.closest(privateSelector());
}

export function maskInput(text: string, element: HTMLElement): string {
  if (!alwaysPrivate(element) && visible(element)) return text;
  return text.length === 0 ? "" : MASK;
}

/** Text typed into editable regions and the default text of text areas. */
export const MASK_TEXT_SELECTOR = "[data-sightline-private], [contenteditable]:not([contenteditable=false]), textarea";

export function maskText(text: string, element: HTMLElement | null): string {
  if (!element?.closest(privateSelector()) && visible(element)) return text;
  return text.trim() ? MASK : text;
}

/**
 * Whether a node's ticked state must not show: a checkbox or radio button not
 * marked visible, or a node the recorder cannot find (fail closed).
 */
function toggleHidden(node: Node | null): boolean {
  if (!node) return true;
  if (!(node instanceof HTMLInputElement) || (node.type !== "checkbox" && node.type !== "radio")) return false;
  return !visible(node);
}

/** An element remote control never acts on: blocked, or a field that is always private. */
export function isPrivate(el: Element): boolean {
  return !!el.closest(blockSelector()) || (el instanceof HTMLElement && alwaysPrivate(el));
}

/** An element the recorder blocks (or one inside it). */
function blockedElement(node: Node | null): boolean {
  return node instanceof Element && !!node.closest(blockSelector());
}

/** The site's other tabs, where the browser has BroadcastChannel. */
function tabChannel(): VisitorCobrowseDeps["tabChannel"] {
  if (typeof BroadcastChannel !== "function") return undefined;
  const channel = new BroadcastChannel("sightline-cobrowse");
  return {
    post: (m) => channel.postMessage(m),
    listen: (fn) => channel.addEventListener("message", (e) => fn(e.data)),
  };
}

function rrwebRecorder(origin: string): Recorder {
  let stop: (() => void) | undefined;
  let stopDiag: (() => void) | undefined;
  let stopRest: (() => void) | undefined;
  // rrweb reads its block selector once, at the start: a snapshot asked for after
  // the site policy's selectors changed starts the recorder again (which takes it).
  let startedWith = "";
  let emitTo: ((item: unknown) => void) | undefined;
  const recorder: Recorder = {
    start(emit) {
      startedWith = blockSelector();
      emitTo = emit;
      stop =
        record({
          emit: (event) => {
            if (isBlockedSheets(event, (id) => blockedElement(record.mirror.getNode(id)))) return;
            const masked = maskToggles(event, (id) => toggleHidden(record.mirror.getNode(id)));
            if (masked) emit(fitForRelay(masked));
          },
          blockSelector: blockSelector(),
          // Every input (file inputs included: rrweb's maskAllInputs leaves their
          // file names), text area and select goes through maskInput.
          maskInputOptions: { input: true, textarea: true, select: true, password: true } as never,
          maskInputFn: maskInput,
          maskTextSelector: MASK_TEXT_SELECTOR,
          maskTextFn: maskText,
          inlineStylesheet: true,
          recordCanvas: false,
          collectFonts: false,
          inlineImages: false,
          slimDOMOptions: { script: true, comment: true, headFavicon: true, headMetaSocial: true, headMetaRobots: true, headMetaVerification: true },
          // Live, not a recording: pointer positions go out every 100 ms, and every
          // keystroke (not only the value on leaving the field).
          sampling: { mousemove: 50, mousemoveCallback: 100, scroll: 100 } as never,
        }) ?? undefined;
      stopDiag = captureDiagnostics((entry) => record.addCustomEvent(DIAG_TAG, entry), origin);
      // A page that begins capturing shows no drawings (it was loaded, or
      // loaded again): the agent's mirror drops any it still has.
      try {
        record.addCustomEvent(DRAWINGS_TAG, CLEARED);
      } catch {
        // Not recording yet (the page is still loading): nothing was drawn on it.
      }
      // rrweb samples moves without a trailing one: where the pointer came to
      // rest could be lost. Once it rests, its place goes out once more.
      let rest: ReturnType<typeof setTimeout> | null = null;
      const moved = (e: MouseEvent) => {
        if (rest !== null) clearTimeout(rest);
        const { clientX: x, clientY: y } = e;
        const target = e.target instanceof Node ? e.target : null;
        rest = setTimeout(() => {
          rest = null;
          const id = target ? record.mirror.getId(target) : -1;
          if (id >= 0) emit({ type: 3, timestamp: Date.now(), data: { source: 1, positions: [{ x, y, id, timeOffset: 0 }] } });
        }, 150);
      };
      document.addEventListener("mousemove", moved, { capture: true, passive: true });
      stopRest = () => {
        document.removeEventListener("mousemove", moved, { capture: true });
        if (rest !== null) clearTimeout(rest);
      };
    },
    snapshot() {
      if (emitTo && startedWith !== blockSelector()) {
        const emit = emitTo;
        recorder.stop();
        recorder.start(emit);
      } else {
        record.takeFullSnapshot(true);
      }
    },
    stop() {
      stopRest?.();
      stopRest = undefined;
      stopDiag?.();
      stopDiag = undefined;
      stop?.();
      stop = undefined;
    },
  };
  return recorder;
}

function fill(text: string, name: string): string {
  return text.replace("{name}", name);
}

export function mountCobrowse(host: CobrowseHost): CobrowseApi {
  adoptStyles(host.styleRoot, css);
  const t = COBROWSE_STRINGS[host.lang] ?? COBROWSE_STRINGS.en;
  const session = host.session;
  const relay = host.origin.replace(/^http/, "ws") + "/ws/stream?token=";
  let tabStorage: Storage | null = null;
  try {
    tabStorage = window.sessionStorage;
  } catch {
    tabStorage = null;
  }
  const memory = new Map<string, string>();
  // sessionStorage, or this page's memory where it is blocked (or throws).
  const kv: KeyValueStore = {
    get: (k) => {
      try {
        if (tabStorage) return tabStorage.getItem(k) ?? memory.get(k) ?? null;
      } catch {
        // blocked
      }
      return memory.get(k) ?? null;
    },
    set: (k, v) => {
      memory.set(k, v);
      try {
        tabStorage?.setItem(k, v);
      } catch {
        // blocked: co-browsing lasts as long as the page
      }
    },
    remove: (k) => {
      memory.delete(k);
      try {
        tabStorage?.removeItem(k);
      } catch {
        // blocked
      }
    },
  };
  // The site policy's private selectors: blocked from the next snapshot, taken at
  // once when they change while the page is being captured.
  let selectors = session.privateSelectors;
  sitePrivate = usableSelectors(selectors, domParses);
  session.subscribe(() => {
    if (session.privateSelectors === selectors) return;
    selectors = session.privateSelectors;
    sitePrivate = usableSelectors(selectors, domParses);
    cobrowse.refresh();
  });
  const cobrowse = new VisitorCobrowse(session, {
    relayUrl: (token) => relay + encodeURIComponent(token),
    tabStorage: kv,
    recorder: () => rrwebRecorder(host.origin),
    tabChannel: tabChannel(),
  });
  // What the agent points at, pings and highlights, over the page.
  const guide = mountGuide({
    parent: host.floatParent,
    node: (id) => record.mirror.getNode(id),
    agentName: () => cobrowse.grant?.agent?.display_name || session.agent?.display_name || t.someone,
  });
  // The agent's lines and arrows, and the visitor's way to clear them (in the bar).
  const drawing = mountDrawing({ parent: host.floatParent, node: (id) => record.mirror.getNode(id), changed: () => schedule() });
  const clearDrawings = () => {
    drawing.clear();
    // The agent's mirror clears them too.
    try {
      if (cobrowse.capturing) record.addCustomEvent(DRAWINGS_TAG, CLEARED);
    } catch {
      // Not recording after all: nothing to tell.
    }
  };
  cobrowse.onGuidance((items) => {
    guide.apply(items);
    drawing.apply(items);
  });
  // Remote control: its own request and answer, acting only in the tab being
  // co-browsed, and given back with one click or Esc.
  const exec = mountControlExec({
    node: (id) => record.mirror.getNode(id),
    isPrivate,
    report: (action) => control.report(action),
    hiddenText: (el) => !!el.closest(MASK_TEXT_SELECTOR) || !!el.querySelector(`${MASK_TEXT_SELECTOR}, ${blockSelector()}`),
    widget: host.styleRoot.host,
  });
  const control: VisitorControl = new VisitorControl(session, {
    relayUrl: (token) => relay + encodeURIComponent(token),
    inThisTab: () => cobrowse.capturing,
    execute: (inputs) => exec.execute(inputs),
    tabStorage: kv,
  });
  cobrowse.subscribe(() => control.recheck());
  const onEsc = (e: KeyboardEvent) => {
    if (e.key === "Escape" && e.isTrusted && control.controlling) {
      e.preventDefault();
      e.stopPropagation();
      control.stop();
    }
  };
  addEventListener("keydown", onEsc, { capture: true });
  // Esc works with the focus in a frame of the page too (those this page can reach).
  // (Keyed by document: a frame that navigates keeps its window but gets a new
  // document, whose listeners start empty. Frames in frames too, and frames
  // that load later: a capture-phase load listener looks again.)
  const framesHeard = new WeakSet<Document>();
  const hearFrames = (root: Document = document) => {
    for (const f of Array.from(root.querySelectorAll("iframe"))) {
      try {
        const d = f.contentDocument;
        const w = f.contentWindow;
        if (!d || !w) continue;
        if (!framesHeard.has(d)) {
          w.addEventListener("keydown", onEsc as EventListener, { capture: true });
          d.addEventListener("load", () => control.controlling && hearFrames(d), { capture: true });
          framesHeard.add(d);
        }
        hearFrames(d);
      } catch {
        // another origin: out of reach (and out of the agent's reach too)
      }
    }
  };
  document.addEventListener("load", () => control.controlling && hearFrames(), { capture: true });
  // A page the agent sent the visitor to: while co-browsing from this tab the
  // browser goes there (the server allowed it; only this site's own origin is
  // followed here); otherwise the chat shows it as a link. Each once.
  // Sequence numbers start again in every conversation: one mark per conversation.
  const pushedKey = () => `sightline.pushed_seq.${session.conversationId ?? ""}`;
  const markPushed = () => {
    if (kv.get(pushedKey()) === null) kv.set(pushedKey(), String(session.transcript.getEvents().reduce((n, e) => (e.kind === "page_pushed" ? Math.max(n, e.seq) : n), 0)));
  };
  markPushed();
  session.subscribe(markPushed);
  session.onEvent((e, live) => {
    if (e.kind !== "page_pushed" || e.seq <= Number(kv.get(pushedKey()) ?? 0)) return;
    kv.set(pushedKey(), String(e.seq));
    // A push replayed from the transcript is history, not a request now.
    if (!live) return;
    let url: URL | null = null;
    try {
      url = new URL(e.url);
    } catch {
      url = null;
    }
    if (cobrowse.capturing && url && url.origin === location.origin && url.href !== location.href) location.assign(url.href);
  });
  const controlCard = h("div", { class: "sl-cb-card", "data-testid": "control-asked", hidden: true });
  const card = h("div", { class: "sl-cb-card", "data-testid": "cobrowse-request", hidden: true });
  const bar = h("div", { class: "sl-cb-bar", role: "status", "data-testid": "cobrowse-indicator", hidden: true });
  host.slot.append(card, controlCard);
  host.floatParent.appendChild(bar);

  let scheduled = false;
  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(render);
  }

  function btn(text: string, testid: string, cls: string, onclick: () => void): HTMLButtonElement {
    return h("button", { class: `sl-cb-btn ${cls}`, type: "button", "data-testid": testid, text, onclick });
  }

  /** The request the panel was opened for (once each). */
  let openedFor = "";

  function render(): void {
    scheduled = false;
    const g = cobrowse.grant;
    const name = g?.agent?.display_name || session.agent?.display_name || t.someone;
    if (cobrowse.asking) {
      replaceChildren(
        card,
        h("p", { class: "sl-cb-who", text: fill(t.asks, name) }),
        g?.message ? h("p", { "data-testid": "cobrowse-request-text", text: g.message }) : null,
        h("p", { class: "sl-cb-note", text: fill(t.sees, name) }),
        h("p", { class: "sl-cb-note", text: t.never }),
        h("div", { class: "sl-cb-row" }, btn(t.allow, "cobrowse-allow", "sl-cb-primary", () => cobrowse.allow()), btn(t.decline, "cobrowse-decline", "", () => cobrowse.decline())),
      );
      card.hidden = false;
    } else {
      card.hidden = true;
      replaceChildren(card);
    }
    const cg = control.grant;
    const controller = cg?.agent?.display_name || name;
    if (control.asking) {
      replaceChildren(
        controlCard,
        h("p", { class: "sl-cb-who", text: fill(t.controlAsks, controller) }),
        cg?.message ? h("p", { "data-testid": "control-request-text", text: cg.message }) : null,
        h("p", { class: "sl-cb-note", text: fill(t.controlNote, controller) }),
        h("div", { class: "sl-cb-row" }, btn(t.controlAllow, "control-allow", "sl-cb-primary", () => control.allow()), btn(t.decline, "control-decline", "", () => control.decline())),
      );
      controlCard.hidden = false;
      if (openedFor !== cg?.id) {
        openedFor = cg?.id ?? "";
        host.openPanel();
      }
    } else {
      controlCard.hidden = true;
      replaceChildren(controlCard);
    }
    if (cobrowse.capturing) {
      const controlling = control.controlling;
      if (controlling) hearFrames();
      bar.classList.toggle("sl-cb-control", controlling);
      replaceChildren(
        bar,
        h("span", { "data-testid": controlling ? "control-indicator" : undefined, text: controlling ? fill(t.controlling, controller) : fill(t.viewing, name) }),
        controlling ? btn(t.takeBack, "control-revoke", "sl-cb-stop", () => control.stop()) : null,
        drawing.count > 0 ? btn(t.clearDrawings, "visitor-clear-drawings", "sl-cb-clear", clearDrawings) : null,
        btn(t.stop, "cobrowse-stop", controlling ? "" : "sl-cb-stop", () => cobrowse.stop()),
      );
      bar.hidden = false;
    } else {
      bar.hidden = true;
    }
  }

  control.subscribe(schedule);
  cobrowse.subscribe(schedule);
  session.subscribe(schedule);
  if ((window as unknown as { __sightlineTestHooks?: boolean }).__sightlineTestHooks === true) {
    (window as unknown as Record<string, unknown>).__sightlineCobrowse = cobrowse;
    (window as unknown as Record<string, unknown>).__sightlineControl = control;
  }
  render();
  const routeChanged = () => {
    if (!cobrowse.capturing) return;
    // The drawings were on the page before.
    clearDrawings();
    cobrowse.refresh();
  };
  return { cobrowse, control, render: schedule, routeChanged };
}

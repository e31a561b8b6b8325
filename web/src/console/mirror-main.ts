// Entry point of console/mirror.js, loaded by the console when it first shows a
// co-browsed page. It carries rrweb's replayer (large), so app.js stays small.
//
// The visitor's page is rebuilt in rrweb's sandboxed iframe (`sandbox=
// "allow-same-origin"`, never `allow-scripts`) under the console's own CSP (no
// script runs, no other origin is contacted); interaction with it is disabled.
// Everything in it came from the visitor's browser and is treated as hostile.

import { Replayer } from "@rrweb/replay";
import { toCanvas } from "html-to-image";
import css from "@rrweb/replay/dist/style.css";
import { sanitizeEvents, type SanitizeState } from "../lib/mirror-sanitize";
import { EventType, Interaction, Source } from "../lib/rrweb-codes";
import { h } from "../ui/dom";
import type { Anchor, ControlKey, Guidance } from "../protocol.gen";
import type { ControlIntent } from "../lib/control-agent";
import { createMirrorDrawing, type DrawMode } from "./mirror-drawing";

const META = EventType.Meta;
const INCREMENTAL = EventType.IncrementalSnapshot;
const VIEWPORT_RESIZE = Source.ViewportResize;
const MOUSE_INTERACTION = Source.MouseInteraction;
const MOUSE_MOVE = Source.MouseMove;
const { Focus: FOCUS, Click: CLICK, Blur: BLUR } = Interaction;
/** How the field the visitor is in shows in the mirror (rrweb does not focus it: triggerFocus is off). */
const FOCUS_OUTLINE = "3px solid #f59e0b";

interface RrwebEvent {
  type: number;
  timestamp: number;
  data?: { href?: string; width?: number; height?: number; source?: number; id?: number; x?: number; y?: number };
}

export interface MirrorInfo {
  width: number;
  height: number;
  href: string | null;
  /** The mirrored page's title (its <title>, as the visitor's tab shows it). */
  title: string | null;
  /**
   * The newest event's delay (ms) beyond the quickest seen in this mirror: the
   * visitor's and the agent's clocks may differ by anything, but not from one
   * event to the next, so the quickest arrival stands for no delay.
   */
  lagMs: number | null;
  /** The mirror shows a page (a full snapshot arrived). */
  live: boolean;
}

export interface Mirror {
  readonly el: HTMLElement;
  items(items: unknown[]): void;
  /** Fit the visitor's viewport into the stage, or show it at actual size (scrollable). */
  setFit(fit: boolean): void;
  /**
   * Holds the picture; what arrives meanwhile waits (up to a bound, past which the
   * mirror starts over from the next snapshot). Unfreezing plays it at once.
   * False when the held items overflowed: the caller asks for a fresh snapshot.
   */
  setFrozen(frozen: boolean): boolean;
  /** Frames were lost: show nothing until the next full snapshot. */
  reset(): void;
  info(): MirrorInfo;
  /**
   * What the visitor sees, as a picture at their viewport's size (1 CSS pixel to
   * 1 pixel): the mirror's page drawn by html-to-image at the visitor's scroll
   * position. Everything it needs is in the mirror already or comes through the
   * asset proxy. Null when no page is shown.
   */
  picture(): Promise<HTMLCanvasElement | null>;
  /**
   * The agent's pointer over the mirror, as guidance for the visitor's page:
   * where it is (at most every 40 ms), where it left, and a click (a ping, or in
   * highlight mode the element clicked).
   */
  onGuide(fn: (items: Guidance[]) => void): void;
  setGuideMode(mode: GuideMode): void;
  /** The spot of the visitor's page under a point of the console's window. */
  anchorAt(clientX: number, clientY: number): Anchor | null;
  /** Drags on the mirror draw lines for the visitor (null: they do not). */
  setDrawMode(mode: DrawMode | null): void;
  /** Takes the drawings away here, and from the visitor's page unless they cleared them. */
  clearDrawings(byVisitor: boolean): void;
  /**
   * Remote control (null: off). While on, a click on the mirror clicks the
   * visitor's page (a list box offers its options), keys typed with the mirror
   * focused type there, and the wheel scrolls there; each goes to `fn`.
   */
  setControl(fn: ((intents: ControlIntent[]) => void) | null): void;
  destroy(): void;
}

/** What a click on the mirror does: a ping where it is, or an outline around the element. */
export type GuideMode = "point" | "highlight";

/** How often the pointer's place goes out at most. */
const POINTER_EVERY_MS = 40;
/** Keys typed within this long go out as one text. */
const TYPE_EVERY_MS = 30;
/** Wheel steps within this long go out as one scroll. */
const SCROLL_EVERY_MS = 50;
const CONTROL_KEYS = new Set<string>(["Backspace", "Delete", "Enter", "Tab", "ArrowLeft", "ArrowRight", "Home", "End"]);

let styled = false;

function isEvent(x: unknown): x is RrwebEvent {
  return !!x && typeof x === "object" && typeof (x as RrwebEvent).type === "number" && typeof (x as RrwebEvent).timestamp === "number";
}

export function createMirror(onChange: () => void): Mirror {
  if (!styled) {
    styled = true;
    document.head.appendChild(h("style", { text: css }));
  }
  const stage = h("div", { class: "cb-stage", "data-testid": "cobrowse-mirror", "data-live": "false" });
  let replayer: Replayer | null = null;
  const sanitizeState: SanitizeState = { styleTexts: new Set() };
  let info: MirrorInfo = { width: 0, height: 0, href: null, title: null, lagMs: null, live: false };
  /** The smallest arrival time minus event time seen (clock offset plus the least delay). */
  let quickest = Number.POSITIVE_INFINITY;
  let fitMode = true;
  let held: unknown[] | null = null;
  let overflowed = false;
  const MAX_HELD = 50_000;
  /** The element shown as focused, to clear on blur or on the next focus. */
  let focused: HTMLElement | null = null;

  function showFocus(id: number | null): void {
    focused?.style.removeProperty("outline");
    focused?.style.removeProperty("outline-offset");
    focused?.removeAttribute("data-sl-focus");
    focused = null;
    if (id === null || !replayer) return;
    const node = replayer.getMirror().getNode(id) as HTMLElement | null;
    if (!node || node.nodeType !== 1 || !node.style) return;
    node.style.setProperty("outline", FOCUS_OUTLINE, "important");
    node.style.setProperty("outline-offset", "1px", "important");
    node.setAttribute("data-sl-focus", "");
    focused = node;
  }

  const fit = () => {
    if (!replayer || !info.width || !info.height) return;
    const scale = fitMode ? Math.min(stage.clientWidth / info.width, stage.clientHeight / info.height, 1) || 1 : 1;
    stage.dataset.fit = String(fitMode);
    const wrapper = replayer.wrapper;
    wrapper.style.transformOrigin = "0 0";
    wrapper.style.transform = `scale(${scale})`;
    stage.dataset.scale = scale.toFixed(3);
  };
  function anchorAt(cx: number, cy: number): Anchor | null {
    const frame = replayer?.iframe;
    const doc = frame?.contentDocument;
    const win = frame?.contentWindow;
    if (!replayer || !frame || !doc || !win || !info.live) return null;
    const r = frame.getBoundingClientRect();
    if (cx < r.left || cy < r.top || cx >= r.right || cy >= r.bottom) return null;
    const scale = r.width / (frame.offsetWidth || r.width || 1);
    const x = (cx - r.left) / scale;
    const y = (cy - r.top) / scale;
    // The mirror is inert (no focus, no clicks): hit testing skips inert nodes,
    // so it is lifted for this one synchronous look.
    const root = replayer.wrapper.parentElement as HTMLElement | null;
    if (root) root.inert = false;
    let el: Element | null;
    try {
      el = doc.elementFromPoint(x, y);
    } finally {
      if (root) root.inert = true;
    }
    const id = el ? replayer.getMirror().getId(el as unknown as Node) : -1;
    const clamp = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);
    const box = el?.getBoundingClientRect();
    const page = { x: Math.round(x + win.scrollX), y: Math.round(y + win.scrollY) };
    if (!el || !box || id < 0 || box.width <= 0 || box.height <= 0) return { node: null, fx: 0, fy: 0, ...page };
    return { node: id, fx: clamp((x - box.left) / box.width), fy: clamp((y - box.top) / box.height), ...page };
  }

  // The agent's pointer over the mirror: it is inert, so the events land on the stage.
  let guideFn: ((items: Guidance[]) => void) | null = null;
  let guideMode: GuideMode = "point";
  let pointerAt: Anchor | null = null;
  let pointerSentAt = 0;
  let pointerTimer: ReturnType<typeof setTimeout> | null = null;
  let highlighted: number | null = null;
  const sendPointer = () => {
    pointerTimer = null;
    pointerSentAt = performance.now();
    guideFn?.([{ kind: "pointer", at: pointerAt }]);
  };
  stage.addEventListener("pointermove", (e) => {
    if (!guideFn) return;
    pointerAt = anchorAt(e.clientX, e.clientY);
    if (pointerTimer !== null) return;
    const wait = POINTER_EVERY_MS - (performance.now() - pointerSentAt);
    if (wait <= 0) sendPointer();
    else pointerTimer = setTimeout(sendPointer, wait);
  });
  stage.addEventListener("pointerleave", () => {
    if (!guideFn) return;
    if (pointerTimer !== null) clearTimeout(pointerTimer);
    pointerTimer = null;
    pointerAt = null;
    sendPointer();
  });
  // Lines drawn on the mirror (mirror-drawing.ts): a drag in draw mode.
  const drawing = createMirrorDrawing({
    stage,
    frame: () => replayer?.iframe ?? null,
    node: (id) => replayer?.getMirror().getNode(id) ?? null,
    anchorAt,
    send: (items) => guideFn?.(items),
  });
  // Remote control: clicks, keys and the wheel go to the visitor's page.
  let controlFn: ((intents: ControlIntent[]) => void) | null = null;
  let typed = "";
  let typedTimer: ReturnType<typeof setTimeout> | null = null;
  let wheel = { dx: 0, dy: 0, at: null as Anchor | null };
  let wheelTimer: ReturnType<typeof setTimeout> | null = null;
  let options: HTMLElement | null = null;
  const flushTyped = () => {
    if (typedTimer !== null) clearTimeout(typedTimer);
    typedTimer = null;
    if (typed && controlFn) controlFn([{ kind: "text", text: typed }]);
    typed = "";
  };
  const closeOptions = () => {
    options?.remove();
    options = null;
  };
  /** The options of a list box in the mirror, to choose one for the visitor (their texts as text). */
  function offerOptions(select: HTMLSelectElement, node: number, cx: number, cy: number): void {
    closeOptions();
    const box = stage.getBoundingClientRect();
    const list = h("div", { class: "cb-options", role: "listbox", "data-testid": "control-options", "aria-label": "Choose an option for the visitor" });
    Array.from(select.options).forEach((o, i) => {
      list.appendChild(
        h("button", {
          type: "button",
          role: "option",
          class: "cb-option",
          "aria-selected": String(o.selected),
          disabled: o.disabled,
          text: (o.textContent ?? "").replace(/\s+/g, " ").trim() || `Option ${i + 1}`,
          onclick: (ev: MouseEvent) => {
            ev.stopPropagation();
            closeOptions();
            controlFn?.([{ kind: "select", node, option: i }]);
            stage.focus();
          },
        }),
      );
    });
    list.style.left = `${Math.round(cx - box.left + stage.scrollLeft)}px`;
    list.style.top = `${Math.round(cy - box.top + stage.scrollTop)}px`;
    list.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        ev.stopPropagation();
        closeOptions();
        stage.focus();
      }
    });
    stage.appendChild(list);
    options = list;
    (list.querySelector("[aria-selected=true]") as HTMLElement | null ?? (list.firstElementChild as HTMLElement | null))?.focus();
  }
  stage.addEventListener("keydown", (e) => {
    if (!controlFn || e.target !== stage || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (e.key.length === 1) {
      e.preventDefault();
      typed += e.key;
      if (typed.length >= 200) flushTyped();
      else if (typedTimer === null) typedTimer = setTimeout(flushTyped, TYPE_EVERY_MS);
    } else if (CONTROL_KEYS.has(e.key) && !(e.key === "Tab" && e.shiftKey)) {
      e.preventDefault();
      flushTyped();
      controlFn([{ kind: "key", key: e.key as ControlKey }]);
    }
  });
  stage.addEventListener(
    "wheel",
    (e) => {
      if (!controlFn) return;
      e.preventDefault();
      const unit = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? 800 : 1;
      wheel.dx += e.deltaX * unit;
      wheel.dy += e.deltaY * unit;
      wheel.at ??= anchorAt(e.clientX, e.clientY);
      if (wheelTimer !== null) return;
      wheelTimer = setTimeout(() => {
        wheelTimer = null;
        const clamp = (v: number) => Math.max(-100_000, Math.min(100_000, Math.round(v)));
        const { dx, dy, at } = wheel;
        wheel = { dx: 0, dy: 0, at: null };
        if (controlFn && (dx || dy)) controlFn([{ kind: "scroll", at, dx: clamp(dx), dy: clamp(dy) }]);
      }, SCROLL_EVERY_MS);
    },
    { passive: false },
  );
  stage.addEventListener("click", (e) => {
    const at = anchorAt(e.clientX, e.clientY);
    // In draw mode a click is a dot of a line, for the visitor to see, not a ping or control.
    if (drawing.mode) return;
    if (controlFn) {
      if ((e.target as Element | null)?.closest?.(".cb-options")) return;
      closeOptions();
      flushTyped();
      stage.focus({ preventScroll: true });
      if (!at) return;
      const el = at.node === null ? null : (replayer?.getMirror().getNode(at.node) as Element | null);
      if (el && el.nodeType === 1 && el.tagName === "SELECT") offerOptions(el as HTMLSelectElement, at.node as number, e.clientX, e.clientY);
      else controlFn([{ kind: "click", at }]);
      return;
    }
    if (!guideFn || !at) return;
    if (guideMode === "highlight") {
      // The same element again takes the outline away.
      highlighted = at.node !== null && at.node !== highlighted ? at.node : null;
      guideFn([{ kind: "highlight", node: highlighted }]);
    } else {
      guideFn([{ kind: "ping", at }]);
    }
  });

  const resize = typeof ResizeObserver === "function" ? new ResizeObserver(fit) : null;
  resize?.observe(stage);

  /**
   * The visitor's pointer and clicks. Every event plays at once (see start()), so
   * rrweb treats it as a catch-up: it only notes where the pointer is
   * (`mousePos`) and shows a click by nothing. Shown here instead, through the
   * replayer's own members (@rrweb/replay is pinned to 2.1.6; the pointer test
   * in e2e/cobrowse.test.mjs fails if they change).
   */
  function showPointer(item: RrwebEvent): void {
    const r = replayer as unknown as {
      mousePos: { x: number; y: number; id: number; debugData: unknown } | null;
      moveAndHover?: (x: number, y: number, id: number, isSync: boolean, debugData: unknown) => void;
      mouse?: HTMLElement;
    } | null;
    if (!r || typeof r.moveAndHover !== "function" || item.type !== INCREMENTAL) return;
    // The place comes from the event itself: rrweb applies an added event a
    // moment later, so what it notes (`mousePos`) would be the move before.
    const d = item.data as { source?: number; positions?: { x?: unknown; y?: unknown; id?: unknown }[]; x?: unknown; y?: unknown; id?: unknown; type?: number } | undefined;
    const last = d?.source === MOUSE_MOVE && Array.isArray(d.positions) ? d.positions[d.positions.length - 1] : d?.source === MOUSE_INTERACTION ? d : null;
    if (!last || typeof last.x !== "number" || typeof last.y !== "number" || !Number.isFinite(last.x) || !Number.isFinite(last.y)) return;
    r.mousePos = null;
    r.moveAndHover(last.x, last.y, typeof last.id === "number" ? last.id : -1, false, null);
    if (d?.source === MOUSE_INTERACTION && d.type === CLICK && r.mouse) {
      r.mouse.classList.remove("active");
      void r.mouse.offsetWidth;
      r.mouse.classList.add("active");
    }
  }

  function drop(): void {
    focused = null;
    replayer?.destroy();
    replayer = null;
    stage.replaceChildren();
    info = { ...info, live: false };
    stage.dataset.live = "false";
  }

  function start(): void {
    drop();
    const root = h("div", { class: "cb-root" });
    // Nothing in the mirror takes focus, keys or clicks: a link there must not be
    // followable from the keyboard either (it would navigate the frame, with the
    // agent's cookies, to an address the visitor's page chose).
    root.inert = true;
    stage.appendChild(root);
    replayer = new Replayer([], {
      root,
      liveMode: true,
      mouseTail: false,
      triggerFocus: false,
      showWarning: false,
      pauseAnimation: false,
      // Live mode never writes a virtual DOM back: events stamped before the
      // baseline would freeze the picture.
      useVirtualDom: false,
    });
    // Every event plays the moment it arrives: rrweb applies at once an event
    // stamped before the baseline, and schedules the rest by the visitor's clock
    // (a baseline of the snapshot's time delayed each change by the snapshot's own
    // latency and by any clock skew: measured, 170 ms on loopback).
    replayer.startLive(Number.MAX_SAFE_INTEGER);
    drawing.attach(replayer.wrapper);
    info = { ...info, live: true };
    stage.dataset.live = "true";
  }

  function apply(items: unknown[]): void {
      // The visitor's events are treated as crafted (see mirror-sanitize); what
      // they would load from elsewhere comes through the server's asset proxy.
      for (const item of sanitizeEvents(items, location.origin, sanitizeState)) {
        if (!isEvent(item)) continue;
        if (item.type === META) {
          start();
          info = { ...info, width: Number(item.data?.width) || 0, height: Number(item.data?.height) || 0, href: typeof item.data?.href === "string" ? item.data.href : null };
        }
        if (!replayer) continue;
        if (item.type === INCREMENTAL && item.data?.source === MOUSE_INTERACTION && typeof item.data.id === "number") {
          const kind = (item.data as { type?: number }).type;
          const id = item.data.id;
          // After rrweb has applied what came before it.
          if (kind === FOCUS) setTimeout(() => showFocus(id), 0);
          else if (kind === BLUR) setTimeout(() => focused && replayer?.getMirror().getId(focused) === id && showFocus(null), 0);
        }
        if (item.type === INCREMENTAL && item.data?.source === VIEWPORT_RESIZE) {
          info = { ...info, width: Number(item.data.width) || info.width, height: Number(item.data.height) || info.height };
        }
        const skew = Date.now() - item.timestamp;
        quickest = Math.min(quickest, skew);
        info = { ...info, lagMs: skew - quickest };
        try {
          replayer.addEvent(item as never);
          // After rrweb has applied it (addEvent applies in a microtask).
          queueMicrotask(() => showPointer(item));
        } catch {
          // A malformed event: wait for the next snapshot.
          drop();
        }
      }
      fit();
      onChange();
  }

  return {
    el: stage,
    items(items) {
      if (held) {
        for (const item of items) {
          if (held.length >= MAX_HELD) {
            held = [];
            overflowed = true;
            break;
          }
          held.push(item);
        }
        return;
      }
      apply(items);
    },
    setFit(on) {
      fitMode = on;
      stage.classList.toggle("cb-actual", !on);
      fit();
    },
    setFrozen(on) {
      stage.dataset.frozen = String(on);
      if (on) {
        held ??= [];
        return true;
      }
      const items = held ?? [];
      held = null;
      if (overflowed) {
        overflowed = false;
        drop();
        onChange();
        return false;
      }
      apply(items);
      return true;
    },
    reset() {
      drop();
      onChange();
    },
    onGuide(fn) {
      guideFn = fn;
    },
    setGuideMode(mode) {
      guideMode = mode;
      stage.dataset.guide = mode;
    },
    anchorAt,
    setDrawMode: (mode) => drawing.setMode(mode),
    clearDrawings: (byVisitor) => drawing.clear(!byVisitor),
    setControl(fn) {
      flushTyped();
      closeOptions();
      controlFn = fn;
      stage.dataset.control = String(!!fn);
      if (fn) stage.tabIndex = 0;
      else stage.removeAttribute("tabindex");
    },
    info: () => ({ ...info, title: replayer?.iframe.contentDocument?.title.trim().slice(0, 300) || null }),
    async picture() {
      const frame = replayer?.iframe;
      const doc = frame?.contentDocument;
      const win = frame?.contentWindow;
      if (!replayer || !doc || !win || !info.width || !info.height) return null;
      const root = doc.documentElement;
      const x = win.scrollX;
      const y = win.scrollY;
      return toCanvas(root, {
        width: info.width,
        height: info.height,
        canvasWidth: info.width,
        canvasHeight: info.height,
        pixelRatio: 1,
        backgroundColor: win.getComputedStyle(doc.body ?? root).backgroundColor || "#ffffff",
        // The page from where the visitor scrolled to.
        style: { transform: `translate(${-x}px, ${-y}px)`, transformOrigin: "0 0" },
        // rrweb's own additions to the mirror are not the visitor's page.
        filter: (node) => !(node.nodeType === 1 && /\breplayer-mouse/.test((node as Element).getAttribute("class") ?? "")),
        // Media and anything the proxy refused draw as empty, not as a failure.
        imagePlaceholder: "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==",
        cacheBust: false,
      });
    },
    destroy() {
      resize?.disconnect();
      drawing.destroy();
      drop();
      stage.remove();
    },
  };
}

(window as unknown as { __sightlineMirrorModule?: unknown }).__sightlineMirrorModule = { createMirror };

// The visitor's screen-sharing UI (the lazily loaded widget-share.js, also used
// by the /join page): the invitation with its two buttons, the picker note, while
// sharing a one-line bar ("Sharing your screen", a small live preview, a control
// that opens the preview of exactly what is sent with "Change what I share" under
// it, and "Stop sharing", always in view), plain-language problems, and the "I have
// a code" form.
// All agent-provided text is written with textContent.

import { SESSION_KEY_DIGITS, type ClientMessage, type ServerMessage } from "../protocol.gen";
import { fill } from "../lib/format";
import { VisitorShare, captureSupport, type CaptureEnv } from "../lib/share-visitor";
import type { VisitorSession } from "../lib/visitor-session";
import { ICONS, adoptStyles, h, icon, replaceChildren } from "../ui/dom";
import css from "./share.css";
import { prepareCapture, setSitePrivate } from "./share-mask";
import { InkBoard, decodeInk } from "../lib/ink";
import { inkLayer } from "../ui/ink-svg";
import type { Lang } from "./i18n";
import { SHARE_STRINGS } from "./share-i18n";

export interface ShareHost {
  session: VisitorSession;
  /** The Sightline server's origin (for the pop-up). */
  origin: string;
  /** Where the share UI goes (inside the chat panel). */
  slot: HTMLElement;
  /** Where the always-visible "Stop sharing" bar goes when the panel is closed. */
  floatParent: HTMLElement;
  /** Adopt the share stylesheet here. */
  styleRoot: Document | ShadowRoot;
  /** The site prefers sharing this tab (so that private fields can be masked). */
  preferTab?: boolean;
  /** Whether the chat panel is open (else the floating bar shows while sharing). */
  isOpen(): boolean;
  /** Open the chat panel (e.g. after "I have a code"). */
  openPanel(): void;
  /** The visitor's language [default: en]. */
  lang?: Lang;
  /**
   * Little room (the chat panel): the preview starts closed, as a thumbnail in
   * the sharing bar, so that the chat keeps most of the panel.
   */
  compact?: boolean;
  /** The picture bundle (loaded on first use): a phone answers an invitation with a screenshot. */
  images?: (then: (m: { send(f: File): void }) => void) => void;
}

/** Whether the visitor opened (1) or closed (0) the preview, for this tab's session. */
const PREVIEW_KEY = "sightline.sharePreview";

function loadPreviewOpen(fallback: boolean): boolean {
  try {
    const v = sessionStorage.getItem(PREVIEW_KEY);
    return v === null ? fallback : v === "1";
  } catch {
    return fallback; // storage blocked (e.g. a third-party frame)
  }
}

function savePreviewOpen(open: boolean): void {
  try {
    sessionStorage.setItem(PREVIEW_KEY, open ? "1" : "0");
  } catch {
    /* blocked: remembered for this page only */
  }
}

export interface ShareApi {
  openCodeForm(): void;
  share: VisitorShare;
  render(): void;
}

function framed(): boolean {
  try {
    return window.self !== window.top;
  } catch {
    return true;
  }
}

export function mountShare(host: ShareHost): ShareApi {
  adoptStyles(host.styleRoot, css);
  const t = SHARE_STRINGS[host.lang ?? "en"];
  const keyErrors: Record<string, string> = { not_found: t.keyWrong, rate_limited: t.keyRateLimited, bad_request: fill(t.keyDigits, { n: SESSION_KEY_DIGITS }) };
  const session = host.session;
  const hooks = (window as unknown as { __sightlineTestHooks?: boolean }).__sightlineTestHooks === true;
  let lastBoxes: unknown[] = [];
  let scheduled = false;

  const preview = h("video", { class: "sl-preview", "data-testid": "share-preview", muted: true, autoplay: true, playsinline: true, "aria-label": t.previewLabel });
  preview.muted = true;
  // The agent's drawings: over the preview, and over the page itself when this
  // very tab is shared (the picture is then the viewport). Never in the way.
  const board = new InkBoard();
  const previewInk = inkLayer(board, "share-preview-ink");
  const pageInk = inkLayer(board, "share-page-ink");
  pageInk.svg.style.position = "fixed";
  pageInk.svg.style.zIndex = "2147483645";
  // Opens and closes the preview; kept across renders so that it keeps the focus.
  let previewOpen = loadPreviewOpen(!host.compact);
  const previewToggle = h("button", {
    class: "sl-btn sl-icon",
    type: "button",
    "data-testid": "share-preview-toggle",
    onclick: () => {
      previewOpen = !previewOpen;
      savePreviewOpen(previewOpen);
      schedule();
      drawInk(); // the preview's size changed: the drawings follow
    },
  });
  previewToggle.appendChild(icon(ICONS.chevronDown, 18));
  // A click on the small preview opens it too (the button is the accessible way).
  const previewWrap = h("div", { class: "sl-preview-wrap", onclick: () => !previewOpen && previewToggle.click() }, preview, previewInk.svg as unknown as HTMLElement);
  let inkFrame = 0;
  const drawInk = () => {
    if (inkFrame) return;
    inkFrame = requestAnimationFrame(() => {
      inkFrame = 0;
      const now = performance.now();
      // The picture's box inside the preview (object-fit: contain).
      const vw = preview.videoWidth || 16;
      const vh = preview.videoHeight || 9;
      const k = Math.min(preview.clientWidth / vw, preview.clientHeight / vh) || 0;
      previewInk.svg.style.left = `${(preview.clientWidth - vw * k) / 2}px`;
      previewInk.svg.style.top = `${(preview.clientHeight - vh * k) / 2}px`;
      let more = previewInk.draw(vw * k, vh * k, now);
      const onPage = !!share.prepared?.selfCapture && !document.querySelector("[data-sightline-share-only]");
      if (onPage && !pageInk.svg.isConnected) host.floatParent.appendChild(pageInk.svg as unknown as HTMLElement);
      if (!onPage) pageInk.svg.remove();
      else more = pageInk.draw(innerWidth, innerHeight, now) || more;
      if (more) drawInk();
    });
  };
  const box = h("div", { class: "sl-share", "data-testid": "share", hidden: true });
  const floatBar = h("div", { class: "sl-float", "data-testid": "share-float", role: "status", hidden: true });
  host.slot.appendChild(box);
  host.floatParent.appendChild(floatBar);

  let codeOpen = false;
  let codeError = "";
  let redeeming = false;
  let waitingToRedeem: string | null = null;
  const codeInput = h("input", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: "11", placeholder: "123 456 789", "aria-label": fill(t.keyLabel, { n: SESSION_KEY_DIGITS }), "data-testid": "share-code-input" });

  // Steps taken while the socket is down go out after the next welcome (signals
  // do not: a reconnect brings a new setup and, if needed, a restart).
  const outbox: ClientMessage[] = [];
  /** What this browser offers for screen capture (see captureSupport). */
  function env(): CaptureEnv {
    const md = navigator.mediaDevices as MediaDevices | undefined;
    const fp = (document as unknown as { featurePolicy?: { allowsFeature(f: string): boolean } }).featurePolicy;
    let frameAllowed: boolean | null = null;
    try {
      frameAllowed = fp ? fp.allowsFeature("display-capture") : null;
    } catch {
      frameAllowed = null;
    }
    return { secure: window.isSecureContext, hasGetDisplayMedia: !!md && typeof md.getDisplayMedia === "function", framed: framed(), frameAllowed };
  }

  const share = new VisitorShare({
    send: (m) => {
      if (outbox.length === 0 && session.send(m)) return true;
      if (m.type === "share_progress") outbox.push(m);
      return false;
    },
    env,
    getDisplayMedia: (o) => navigator.mediaDevices.getDisplayMedia(o),
    createPc: (c) => new RTCPeerConnection(c),
    now: () => performance.now(),
    prepare: (stream, l) =>
      prepareCapture(stream, {
        fps: l.fps,
        extraPrivate: () => [preview],
        onFrame: (b) => (lastBoxes = b),
        nudgeParent: () => host.floatParent,
      }),
    captureOptions: () => (host.preferTab || document.querySelector("[data-sightline-share-only]") ? ({ preferCurrentTab: true } as Partial<DisplayMediaStreamOptions>) : {}),
    openPopup: (id) => {
      const token = session.token;
      if (!token) return false;
      // The token is the visitor's credential: it goes in the fragment, which is
      // never sent to a server; the pop-up removes it from its address at once.
      const url = `${host.origin}/join?share=${encodeURIComponent(id)}&lang=${host.lang ?? "en"}#t=${encodeURIComponent(token)}`;
      let w: Window | null = null;
      try {
        w = window.open(url, "sightline-share", "popup,width=560,height=720");
      } catch {
        w = null;
      }
      return !!w;
    },
    onChange: () => schedule(),
    onInk: (data) => {
      const ink = decodeInk(data);
      if (!ink) return;
      board.apply(ink, performance.now());
      drawInk();
    },
  });

  // ---- feed it from the session ----
  let conv = session.conversationId;
  // The site policy's private selectors, kept current: the masks are drawn anew
  // each frame.
  setSitePrivate(session.privateSelectors);
  session.subscribe(() => setSitePrivate(session.privateSelectors));
  for (const e of session.transcript.getEvents()) share.onEvent(e);
  session.onEvent((e) => share.onEvent(e));
  session.subscribe(() => {
    if (session.conversationId !== conv) {
      conv = session.conversationId;
      outbox.length = 0;
      share.reset();
      for (const e of session.transcript.getEvents()) share.onEvent(e);
    }
    while (outbox.length > 0 && session.ready && session.send(outbox[0])) outbox.shift();
    if (waitingToRedeem && session.ready) {
      const key = waitingToRedeem;
      waitingToRedeem = null;
      redeem(key);
    }
    schedule();
  });
  session.intercept((m: ServerMessage) => {
    if (m.type === "share_setup" && m.conversation === session.conversationId) void share.onSetup(m.share, m.setup);
    else if (m.type === "share_signal" && m.conversation === session.conversationId && m.from === "agent") void share.onSignal(m.share, m.signal).catch(() => undefined);
    else if (m.type === "conversation_changed") {
      redeeming = false;
      codeOpen = false;
      codeError = "";
      schedule();
    } else if (m.type === "error" && redeeming) {
      redeeming = false;
      codeError = keyErrors[m.code] ?? t.keyFailed;
      schedule();
      return true;
    }
    return false;
  });
  window.addEventListener("pagehide", () => share.stop());

  function redeem(key: string): void {
    if (!session.ready) {
      waitingToRedeem = key;
      session.start();
      return;
    }
    redeeming = true;
    codeError = "";
    if (!session.send({ type: "share_key_redeem", key })) {
      redeeming = false;
      codeError = t.notConnected;
    }
    schedule();
  }

  const codeForm = h(
    "form",
    { class: "sl-card", "data-testid": "share-code-form" },
    h("p", { class: "sl-who", text: t.keyPrompt }),
    h("div", { class: "sl-code" }, codeInput, h("button", { class: "sl-btn sl-primary", type: "submit", "data-testid": "share-code-submit", text: t.keyJoin })),
  );
  const codeErr = h("p", { class: "sl-err", role: "alert", "data-testid": "share-code-error", hidden: true });
  codeForm.appendChild(codeErr);
  codeForm.appendChild(h("button", { class: "sl-btn", type: "button", text: t.cancel, onclick: () => ((codeOpen = false), schedule()) }));
  codeForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const key = codeInput.value.replace(/[\s-]/g, "");
    if (!new RegExp(`^\\d{${SESSION_KEY_DIGITS}}$`).test(key)) {
      codeError = keyErrors.bad_request;
      schedule();
      return;
    }
    redeem(key);
  });

  // ---- rendering ----
  // A phone's answer to an invitation: the picture goes through the picture
  // bundle's upload, and the invitation is declined saying why.
  const picker = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", hidden: true, "data-testid": "share-screenshot-file" });
  picker.addEventListener("change", () => {
    const f = picker.files?.[0];
    picker.value = "";
    if (!f || share.phase !== "invited") return;
    host.images?.((m) => m.send(f));
    share.decline("this device cannot share its screen; the visitor sent a screenshot instead");
  });
  host.floatParent.appendChild(picker);

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(render);
  }

  function btn(text: string, testid: string, cls: string, onclick: () => void): HTMLButtonElement {
    return h("button", { class: `sl-btn ${cls}`, type: "button", "data-testid": testid, text, onclick });
  }

  function render(): void {
    scheduled = false;
    const parts: HTMLElement[] = [];
    const phase = share.phase;
    box.setAttribute("data-phase", phase);
    if (codeOpen) {
      codeErr.hidden = !codeError;
      codeErr.textContent = codeError;
      parts.push(codeForm);
    }
    if (share.problem) {
      parts.push(
        h(
          "div",
          { class: "sl-problem", role: "alert", "data-testid": "share-problem", "data-problem": share.problem },
          h("span", {
            // A standing block: where to lift it, in this browser's words.
            text: share.problem === "denied" ? `${t.problems.denied} ${/\bFirefox\//.test(navigator.userAgent) ? t.unblockFirefox : t.unblockOther}` : t.problems[share.problem],
          }),
          h("button", { class: "sl-x", type: "button", "aria-label": t.dismiss, text: "×", onclick: () => ((share.problem = null), schedule()) }),
        ),
      );
    }
    if (phase === "invited" && host.images && captureSupport(env()) === "unsupported") {
      // A phone or tablet cannot share its screen: it can send a screenshot instead.
      const who = share.agentName || t.theAgent;
      parts.push(
        h(
          "div",
          { class: "sl-card", "data-testid": "share-invite-card", "data-alternative": "screenshot" },
          h("p", { class: "sl-who", text: fill(t.asks, { name: who }) }),
          h("p", { "data-testid": "share-invite-text", text: share.invitation || "" }),
          h("p", { class: "sl-note", "data-testid": "share-no-capture", text: t.noShareNote }),
          h("div", { class: "sl-row" }, btn(t.choosePicture, "share-screenshot", "sl-primary", () => picker.click()), btn(t.decline, "share-decline", "", () => share.decline())),
        ),
      );
    } else if (phase === "invited") {
      const who = share.agentName || t.theAgent;
      parts.push(
        h(
          "div",
          { class: "sl-card", "data-testid": "share-invite-card" },
          h("p", { class: "sl-who", text: fill(t.asks, { name: who }) }),
          h("p", { "data-testid": "share-invite-text", text: share.invitation || "" }),
          h("p", { class: "sl-note", text: t.inviteNote }),
          h(
            "div",
            { class: "sl-row" },
            btn(t.accept, "share-accept", "sl-primary", () => share.accept()),
            btn(t.decline, "share-decline", "", () => share.decline()),
          ),
        ),
      );
    } else if (phase === "picking") {
      parts.push(h("div", { class: "sl-card", "data-testid": "share-picking" }, h("p", { text: t.picking })));
    } else if (phase === "popup") {
      parts.push(h("div", { class: "sl-card", "data-testid": "share-popup-note" }, h("p", { text: t.popup })));
    } else if (phase === "elsewhere") {
      parts.push(h("div", { class: "sl-card", "data-testid": "share-elsewhere" }, h("p", { text: t.elsewhere })));
    } else if (phase === "sharing" || phase === "changing") {
      const track = share.prepared?.track ?? null;
      const cur = preview.srcObject as MediaStream | null;
      if (track && (!cur || cur.getVideoTracks()[0] !== track)) preview.srcObject = new MediaStream([track]);
      const state = share.peer?.state ?? "connecting";
      previewToggle.setAttribute("aria-expanded", String(previewOpen));
      previewToggle.setAttribute("aria-label", previewOpen ? t.hidePreview : t.showPreview);
      previewToggle.title = previewOpen ? t.hidePreview : t.showPreview;
      // One flex line: preview thumbnail, what is going on, the toggle, Stop. An
      // open preview wraps onto a line of its own below, with "Change" under it.
      parts.push(
        h(
          "div",
          { class: "sl-bar", "data-testid": "share-active", "data-preview": previewOpen ? "open" : "closed" },
          previewWrap,
          h(
            "div",
            { class: "sl-bar-text" },
            h("span", { class: "sl-live", "data-testid": "share-live", title: t.floatSharing, text: t.floatSharing }),
            h("span", { class: "sl-conn", "data-testid": "share-conn", "data-state": state, title: t.conn[state], text: t.conn[state] }),
          ),
          previewToggle,
          btn(t.stop, "share-stop", "sl-danger", () => share.stop()),
          share.prepared?.selfCapture ? h("p", { class: "sl-note", "data-testid": "share-masked", text: t.masked }) : null,
          previewOpen ? h("div", { class: "sl-row sl-more" }, btn(phase === "changing" ? t.choosing : t.change, "share-change", "", () => share.change())) : null,
        ),
      );
    }
    if (!(phase === "sharing" || phase === "changing") && preview.srcObject) preview.srcObject = null;
    if (!(phase === "sharing" || phase === "changing") && board.size > 0) {
      board.clear();
      drawInk();
    }
    replaceChildren(box, ...parts);
    box.hidden = parts.length === 0;
    if (preview.isConnected && preview.srcObject && preview.paused) void preview.play().catch(() => undefined);
    const sharing = phase === "sharing" || phase === "changing";
    floatBar.hidden = !sharing || host.isOpen();
    if (!floatBar.hidden) replaceChildren(floatBar, h("span", { class: "sl-live", text: t.floatSharing }), btn(t.floatStop, "share-float-stop", "sl-danger", () => share.stop()));
  }

  if (hooks) {
    (window as unknown as Record<string, unknown>).__sightlineShare = {
      share,
      get pc() {
        return share.peer?.pc ?? null;
      },
      get sender() {
        return share.peer?.sender ?? null;
      },
      get raw() {
        return share.prepared?.raw ?? null;
      },
      get track() {
        return share.prepared?.track ?? null;
      },
      get boxes() {
        return lastBoxes;
      },
      /** As if the browser's own "Stop sharing" was clicked. */
      endTrack() {
        share.prepared?.raw.dispatchEvent(new Event("ended"));
      },
    };
  }

  render();
  return {
    share,
    render: schedule,
    openCodeForm() {
      codeOpen = true;
      codeError = "";
      host.openPanel();
      schedule();
      queueMicrotask(() => codeInput.focus());
    },
  };
}

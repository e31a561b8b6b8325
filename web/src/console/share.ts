// Screen sharing in the console: "Ask to see screen" in the composer bar (or
// "Ask for a screenshot" for a visitor whose device cannot share), the share's
// progress and the viewer beside the chat, and session keys.

import type { AgentSession } from "../lib/agent-session";
import { AgentShares, SHARE_STATE_TEXT, isLive } from "../lib/share-agent";
import { screenOffer } from "../lib/visitor-details";
import type { ShareState } from "../protocol.gen";
import { h, icon, replaceChildren } from "../ui/dom";
import { CONSOLE_ICONS, iconButton } from "./icons";
import { openForm } from "./dialog";
import type { InboxView } from "./inbox";
import { Viewer } from "./viewer";

const DEFAULT_INVITATION = "May I see your screen? It would help me guide you.";
const DEFAULT_SCREENSHOT_REQUEST = "Could you send me a screenshot? Take one on your device, then choose it here.";

/** The chat header's words for a share that has not started yet (the full sentence is its tooltip). */
const PENDING_TEXT: Partial<Record<ShareState, string>> = {
  invited: "Invitation sent",
  accepted: "The visitor agreed",
  choosing: "The visitor is choosing what to share…",
};

export class ShareUi {
  readonly shares: AgentShares;
  private readonly aside = h("aside", { class: "share-aside", "data-testid": "share-panel", "aria-label": "Screen share", hidden: true });
  private readonly statusEl = h("div", { class: "share-status", "data-testid": "share-status", role: "status" });
  private readonly viewer: Viewer;
  private readonly inviteBtn: HTMLButtonElement;
  /** Offered instead of the invitation when the visitor's device cannot share (phones, tablets). */
  private readonly shotBtn: HTMLButtonElement;
  /** "Screenshot asked · Withdraw" in the chat header while the visitor has not answered. */
  private readonly shotStatus = h("div", { class: "head-status", "data-testid": "screenshot-status", role: "status" });
  private scheduled = false;
  /** Where a snapshot of the shared screen goes (the snapshot editor). */
  onSnapshot: ((frame: HTMLCanvasElement) => void) | null = null;

  constructor(
    private readonly session: AgentSession,
    private readonly inbox: InboxView,
  ) {
    this.shares = new AgentShares(session, { createPc: (c) => new RTCPeerConnection(c) });
    this.viewer = new Viewer({
      end: () => this.selected && this.shares.end(this.selected),
      setMode: (m) => this.selected && this.shares.setMode(this.selected, m),
      restart: () => this.selected && this.shares.restart(this.selected),
      snapshot: (frame) => this.onSnapshot?.(frame),
    });
    this.inviteBtn = iconButton("screen", "Ask to see screen", { class: "btn ghost icon-btn", "data-testid": "share-invite-open", onclick: () => this.openInvite() });
    this.shotBtn = iconButton("phone", "Ask for a screenshot", { class: "btn ghost icon-btn", "data-testid": "screenshot-ask", hidden: true, onclick: () => this.openScreenshotAsk() });
    inbox.tools.append(this.inviteBtn, this.shotBtn);
    this.aside.append(this.statusEl, this.viewer.el);
    inbox.el.appendChild(this.aside);
    session.subscribe(() => this.schedule());
    this.shares.subscribe(() => this.schedule());
    if ((window as unknown as { __sightlineTestHooks?: boolean }).__sightlineTestHooks === true) {
      (window as unknown as Record<string, unknown>).__sightlineAgentShare = { shares: this.shares, viewer: this.viewer };
    }
    this.render();
  }

  private get selected(): string | null {
    return this.session.selected;
  }

  private openInvite(): void {
    const id = this.selected;
    if (!id) return;
    openForm({
      title: "Ask to see the visitor's screen",
      description: "The visitor sees this message with “Share my screen” and “No thanks”. Nothing is shared unless they choose to.",
      fields: [{ name: "message", label: "Invitation", value: DEFAULT_INVITATION }],
      submitLabel: "Send invitation",
      onSubmit: async (v) => {
        if (!this.shares.invite(id, v.message)) throw new Error("Not connected. Try again in a moment.");
      },
    });
  }

  private openScreenshotAsk(): void {
    const id = this.selected;
    if (!id) return;
    openForm({
      title: "Ask for a screenshot",
      description: "The visitor's device cannot share its screen. They see this message with “Choose a picture” and “No thanks”: they take a screenshot on their device and pick it, and it arrives in the chat.",
      fields: [{ name: "message", label: "Request", value: DEFAULT_SCREENSHOT_REQUEST }],
      submitLabel: "Send request",
      onSubmit: async (v) => {
        const message = v.message.trim() || null;
        if (!this.session.send({ type: "screenshot_ask", conversation: id, message })) throw new Error("Not connected. Try again in a moment.");
      },
    });
  }

  /** The screenshot request waiting for the visitor's answer, in the chat header. */
  private renderScreenshot(id: string | null, active: boolean, request: { id: string; state: string } | null): void {
    const open = active && !!id && request?.state === "asked";
    if (!open || !request) {
      this.shotStatus.remove();
      return;
    }
    replaceChildren(
      this.shotStatus,
      icon(CONSOLE_ICONS.phone, 16),
      h("span", { "data-testid": "screenshot-state", "data-state": request.state, title: "The visitor has not answered yet", text: "Screenshot asked" }),
      h("span", { "aria-hidden": "true", text: "·" }),
      h("button", {
        class: "linkish",
        type: "button",
        "data-testid": "screenshot-withdraw",
        text: "Withdraw",
        title: "Take the request back: the visitor's prompt goes away",
        onclick: () => {
          if (!this.session.send({ type: "screenshot_end", request: request.id })) this.session.say("Not connected. Try again in a moment.");
        },
      }),
    );
    if (this.shotStatus.parentElement !== this.inbox.headSlot) this.inbox.headSlot.appendChild(this.shotStatus);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.render());
  }

  render(): void {
    this.scheduled = false;
    const id = this.selected;
    const e = id ? this.session.get(id) : undefined;
    const mine = !!e && this.session.isMine(e.summary);
    const active = !!e && e.summary.status === "active" && mine;
    const share = e?.summary.share ?? null;
    const live = isLive(share);
    // What this visitor's device can do decides the offer; it changes when they
    // come back from another device (the summary's `visitor` follows them).
    const offer = screenOffer(e?.summary.visitor);
    this.inviteBtn.hidden = offer.ask !== "share";
    this.shotBtn.hidden = offer.ask !== "screenshot";
    this.inviteBtn.disabled = !active || live;
    this.inviteBtn.title = live ? "A screen share is already under way" : offer.why;
    const request = e?.summary.screenshot ?? null;
    const asked = request?.state === "asked";
    this.shotBtn.disabled = !active || asked;
    this.shotBtn.title = asked ? "A screenshot request is waiting for the visitor's answer" : offer.why;
    this.renderScreenshot(id, active, request);
    // The viewer opens once there is something to see: until then the invitation
    // is a line in the chat header ("Invitation sent · Withdraw"), not a black panel.
    const entry = id ? (this.shares.live.get(id) ?? null) : null;
    const pending = active && live && !!share && share.state !== "sharing" && !entry?.stream;
    const show = active && live && !pending;
    this.aside.hidden = !show;
    this.inbox.el.classList.toggle("sharing", show);
    if (!(show || pending) || !share || !id) {
      // Kept in the hidden panel: its last state stays on the page, readable.
      if (this.statusEl.parentElement !== this.aside) this.aside.prepend(this.statusEl);
      this.viewer.show(null);
      return;
    }
    this.aside.dataset.state = share.state;
    const withdraw = h("button", {
      class: pending ? "linkish" : "btn small",
      type: "button",
      "data-testid": "share-cancel",
      text: share.state === "invited" ? "Withdraw" : "Cancel",
      title: share.state === "invited" ? "Take the invitation back: the visitor's prompt goes away" : "Stop the screen share before it starts",
      onclick: () => this.shares.end(id),
    });
    if (pending) {
      this.statusEl.className = "head-status";
      replaceChildren(
        this.statusEl,
        icon(CONSOLE_ICONS.screen, 16),
        h("span", { "data-testid": "share-state", "data-state": share.state, title: SHARE_STATE_TEXT[share.state], text: PENDING_TEXT[share.state] ?? SHARE_STATE_TEXT[share.state] }),
        h("span", { "aria-hidden": "true", text: "·" }),
        withdraw,
      );
      if (this.statusEl.parentElement !== this.inbox.headSlot) this.inbox.headSlot.appendChild(this.statusEl);
    } else {
      this.statusEl.className = "share-status";
      replaceChildren(
        this.statusEl,
        h("span", { class: `share-dot ${share.state}` }),
        h("span", { "data-testid": "share-state", "data-state": share.state, text: SHARE_STATE_TEXT[share.state] }),
        share.state !== "sharing" ? withdraw : null,
      );
      if (this.statusEl.parentElement !== this.aside) this.aside.prepend(this.statusEl);
    }
    this.viewer.el.hidden = !show;
    this.viewer.show(show ? entry : null);
  }
}

/** The session-key dialog: a big code with a countdown, for voice support. */
export function openKeyDialog(shares: AgentShares, session: AgentSession, toast: (t: string) => void): void {
  const keyEl = h("div", { class: "key-code", "data-testid": "share-key", text: "··· ··· ···" });
  const countdown = h("p", { class: "muted", "data-testid": "share-key-countdown", text: "Creating a code…" });
  // What the caller is asked for: sharing their screen (on /join), or co-browsing
  // (they type the code into the chat on the site).
  let purpose: "screen_share" | "cobrowse" = "screen_share";
  const how = h("p", {});
  const explain = () => {
    how.textContent =
      purpose === "cobrowse"
        ? "Read this code to the caller. On the website they open the chat, choose “I have a code” and type it; they are then asked to let you co-browse."
        : `Read this code to the caller. They open ${location.origin}/join (or “I have a code” in the chat) and type it.`;
  };
  explain();
  const purposeBtn = (value: "screen_share" | "cobrowse", text: string) =>
    h("button", {
      class: "btn small",
      type: "button",
      "data-testid": `share-key-for-${value === "cobrowse" ? "cobrowse" : "screen"}`,
      "aria-pressed": String(purpose === value),
      text,
      onclick: () => {
        if (purpose === value) return;
        purpose = value;
        for (const b of Array.from(choice.children)) b.setAttribute("aria-pressed", String(b === choice.children[value === "cobrowse" ? 1 : 0]));
        explain();
        keyEl.textContent = "··· ··· ···";
        keyEl.removeAttribute("data-key");
        expiresAt = 0;
        countdown.textContent = "Creating a code…";
        if (!shares.createKey(purpose)) close();
      },
    });
  const choice = h("div", { class: "key-choice", role: "group", "aria-label": "The caller is asked to" }, purposeBtn("screen_share", "Share their screen"), purposeBtn("cobrowse", "Co-browse"));
  const closeBtn = h("button", { class: "btn", type: "button", "data-testid": "share-key-close", text: "Close" });
  const modal = h(
    "div",
    { class: "modal key-modal", role: "dialog", "aria-modal": "true", "aria-labelledby": "key-title", "data-testid": "share-key-dialog" },
    h("h2", { id: "key-title", text: "Session key" }),
    choice,
    how,
    keyEl,
    countdown,
    h("div", { class: "modal-actions" }, closeBtn),
  );
  const backdrop = h("div", { class: "backdrop" }, modal);
  const known = new Set(session.mine().map((e) => e.summary.id));
  let expiresAt = 0;
  const tick = () => {
    if (!expiresAt) return;
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    countdown.textContent = left > 0 ? `Expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}` : "This code has expired. Create a new one.";
    keyEl.classList.toggle("expired", left === 0);
  };
  const timer = setInterval(tick, 1000);
  const offKey = shares.onKey((k) => {
    keyEl.textContent = k.key.replace(/(\d{3})(?=\d)/g, "$1 ");
    keyEl.dataset.key = k.key;
    expiresAt = k.expiresAt;
    tick();
  });
  const offSession = session.subscribe(() => {
    // The caller joined: open their conversation.
    const joined = session.mine().find((e) => !known.has(e.summary.id) && e.summary.status === "active" && session.isMine(e.summary));
    if (joined) {
      close();
      session.select(joined.summary.id);
      toast("The caller joined with the code.");
    }
  });
  function close(): void {
    clearInterval(timer);
    offKey();
    offSession();
    backdrop.remove();
  }
  closeBtn.addEventListener("click", close);
  backdrop.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") close();
  });
  document.body.appendChild(backdrop);
  closeBtn.focus();
  if (!shares.createKey()) close();
}

// Screen sharing in the console: "Ask to see screen" in the composer bar (or
// "Ask for a screenshot" for a visitor whose device cannot share), the share's
// progress and the viewer beside the chat, and session keys.
//
// `ShareUi` works out what the selected conversation shows (`ShareView`, a
// signal) and places its panels in the inbox's slots (elements of its own, which
// Preact's render into a shared parent would replace); the buttons and status lines are Preact components that read that signal.

import { render } from "preact";
import { signal, type ReadonlySignal } from "@preact/signals";
import type { AgentSession } from "../lib/agent-session";
import { AgentShares, SHARE_STATE_TEXT, isLive } from "../lib/share-agent";
import { screenOffer } from "../lib/visitor-details";
import type { ShareState } from "../protocol.gen";
import { Icon, IconButton } from "./components";
import { CONSOLE_ICONS } from "./icons";
import { openForm } from "./dialog";
import type { InboxView } from "./inbox";
import { Viewer } from "./viewer";

// The session-key dialog lives in key-dialog.tsx; the shell finds it here.
export { openKeyDialog } from "./key-dialog";

const DEFAULT_INVITATION = "May I see your screen? It would help me guide you.";
const DEFAULT_SCREENSHOT_REQUEST = "Could you send me a screenshot? Take one on your device, then choose it here.";

/** The chat header's words for a share that has not started yet (the full sentence is its tooltip). */
const PENDING_TEXT: Partial<Record<ShareState, string>> = {
  invited: "Invitation sent",
  accepted: "The visitor agreed",
  choosing: "The visitor is choosing what to share…",
};

/** What the selected conversation shows of screen sharing. */
export interface ShareView {
  /** The composer's offer: a share, a screenshot (a phone), and why. */
  ask: "share" | "screenshot" | null;
  why: string;
  /** The conversation is ours and active. */
  active: boolean;
  /** A share is under way (the invitation included). */
  live: boolean;
  /** A screenshot request the visitor has not answered yet. */
  screenshot: { id: string } | null;
  /**
   * The share's line: in the chat header until there is a picture (`pending`),
   * then above the viewer. Once over, the last line stays (in the hidden panel, readable).
   */
  share: { conversation: string; state: ShareState; pending: boolean } | null;
}

const NOTHING: ShareView = { ask: null, why: "", active: false, live: false, screenshot: null, share: null };

/** "Ask to see screen" / "Ask for a screenshot" in the composer bar. */
export function ShareTools({ view, onInvite, onScreenshot }: { view: ReadonlySignal<ShareView>; onInvite: () => void; onScreenshot: () => void }) {
  const v = view.value;
  const asked = v.screenshot !== null;
  return (
    <>
      <IconButton
        icon="screen"
        label="Ask to see screen"
        class="btn ghost icon-btn"
        data-testid="share-invite-open"
        hidden={v.ask !== "share"}
        disabled={!v.active || v.live}
        title={v.live ? "A screen share is already under way" : v.why}
        onClick={onInvite}
      />
      <IconButton
        icon="phone"
        label="Ask for a screenshot"
        class="btn ghost icon-btn"
        data-testid="screenshot-ask"
        hidden={v.ask !== "screenshot"}
        disabled={!v.active || asked}
        title={asked ? "A screenshot request is waiting for the visitor's answer" : v.why}
        onClick={onScreenshot}
      />
    </>
  );
}

/** The screenshot request waiting for the visitor's answer ("Screenshot asked · Withdraw"), in the chat header. */
export function ScreenshotStatus({ view, onWithdraw }: { view: ReadonlySignal<ShareView>; onWithdraw: (request: string) => void }) {
  const request = view.value.screenshot;
  if (!request) return null;
  return (
    <>
      <Icon paths={CONSOLE_ICONS.phone} size={16} />
      <span data-testid="screenshot-state" data-state="asked" title="The visitor has not answered yet">
        Screenshot asked
      </span>
      <span aria-hidden="true">·</span>
      <button class="linkish" type="button" data-testid="screenshot-withdraw" title="Take the request back: the visitor's prompt goes away" onClick={() => onWithdraw(request.id)}>
        Withdraw
      </button>
    </>
  );
}

/**
 * The share's progress: "Invitation sent · Withdraw" in the chat header while
 * pending, then the state above the viewer (with Cancel until the picture comes).
 */
export function ShareStatus({ view, onEnd }: { view: ReadonlySignal<ShareView>; onEnd: (conversation: string) => void }) {
  const share = view.value.share;
  if (!share) return null;
  const { conversation, state, pending } = share;
  const withdraw = (
    <button
      class={pending ? "linkish" : "btn small"}
      type="button"
      data-testid="share-cancel"
      title={state === "invited" ? "Take the invitation back: the visitor's prompt goes away" : "Stop the screen share before it starts"}
      onClick={() => onEnd(conversation)}
    >
      {state === "invited" ? "Withdraw" : "Cancel"}
    </button>
  );
  return pending ? (
    <>
      <Icon paths={CONSOLE_ICONS.screen} size={16} />
      <span data-testid="share-state" data-state={state} title={SHARE_STATE_TEXT[state]}>
        {PENDING_TEXT[state] ?? SHARE_STATE_TEXT[state]}
      </span>
      <span aria-hidden="true">·</span>
      {withdraw}
    </>
  ) : (
    <>
      <span class={`share-dot ${state}`} />
      <span data-testid="share-state" data-state={state}>
        {SHARE_STATE_TEXT[state]}
      </span>
      {state !== "sharing" ? withdraw : null}
    </>
  );
}

export class ShareUi {
  private readonly cleanups: (() => void)[] = [];
  readonly shares: AgentShares;
  private readonly view = signal<ShareView>(NOTHING);
  private readonly aside = document.createElement("aside");
  /** The share's line: in the chat header while pending, else at the top of the panel. */
  private readonly statusEl = document.createElement("div");
  /** "Screenshot asked · Withdraw" in the chat header while the visitor has not answered. */
  private readonly shotStatus = document.createElement("div");
  private readonly viewer: Viewer;
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
    Object.assign(this.aside, { className: "share-aside", hidden: true });
    this.aside.setAttribute("data-testid", "share-panel");
    this.aside.setAttribute("aria-label", "Screen share");
    this.statusEl.className = "share-status";
    this.statusEl.setAttribute("data-testid", "share-status");
    this.statusEl.setAttribute("role", "status");
    this.shotStatus.className = "head-status";
    this.shotStatus.setAttribute("data-testid", "screenshot-status");
    this.shotStatus.setAttribute("role", "status");
    // Ours sit in a box of their own among the composer's tools, laid out as its children.
    const tools = document.createElement("span");
    tools.className = "contents";
    inbox.tools.append(tools);
    render(<ShareTools view={this.view} onInvite={() => this.openInvite()} onScreenshot={() => this.openScreenshotAsk()} />, tools);
    render(<ShareStatus view={this.view} onEnd={(c) => this.shares.end(c)} />, this.statusEl);
    render(<ScreenshotStatus view={this.view} onWithdraw={(r) => this.withdrawScreenshot(r)} />, this.shotStatus);
    this.aside.append(this.statusEl, this.viewer.el);
    inbox.el.appendChild(this.aside);
    this.cleanups.push(session.subscribe(() => this.schedule()), this.shares.subscribe(() => this.schedule()));
    if ((window as unknown as { __sightlineTestHooks?: boolean }).__sightlineTestHooks === true) {
      (window as unknown as Record<string, unknown>).__sightlineAgentShare = { shares: this.shares, viewer: this.viewer };
    }
    this.render();
  }

  /** Stops following the session and the shares (the agent logged out). */
  dispose(): void {
    for (const f of this.cleanups.splice(0)) f();
    this.shares.stop();
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

  private withdrawScreenshot(request: string): void {
    if (!this.session.send({ type: "screenshot_end", request })) this.session.say("Not connected. Try again in a moment.");
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.render());
  }

  /** Works out the view, then places the panel and the status lines in the inbox. */
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
    const request = e?.summary.screenshot ?? null;
    const asked = active && !!id && request?.state === "asked" ? { id: request.id } : null;
    // The viewer opens once there is something to see: until then the invitation
    // is a line in the chat header ("Invitation sent · Withdraw"), not a black panel.
    const entry = id ? (this.shares.live.get(id) ?? null) : null;
    const pending = active && live && !!share && share.state !== "sharing" && !entry?.stream;
    const show = active && live && !pending;
    const line = (show || pending) && share && id ? { conversation: id, state: share.state, pending } : null;
    this.view.value = { ask: offer.ask, why: offer.why, active, live, screenshot: asked, share: line ?? this.view.value.share };

    if (asked) {
      if (this.shotStatus.parentElement !== this.inbox.headSlot) this.inbox.headSlot.appendChild(this.shotStatus);
    } else this.shotStatus.remove();
    this.aside.hidden = !show;
    this.inbox.el.classList.toggle("sharing", show);
    if (!line || !share) {
      // Kept in the hidden panel: its last state stays on the page, readable.
      if (this.statusEl.parentElement !== this.aside) this.aside.prepend(this.statusEl);
      this.viewer.show(null);
      return;
    }
    this.aside.dataset.state = share.state;
    this.statusEl.className = pending ? "head-status" : "share-status";
    const place = pending ? this.inbox.headSlot : this.aside;
    if (this.statusEl.parentElement !== place) {
      if (pending) place.appendChild(this.statusEl);
      else place.prepend(this.statusEl);
    }
    this.viewer.el.hidden = !show;
    this.viewer.show(show ? entry : null);
  }
}

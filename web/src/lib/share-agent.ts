// The agent's side of screen sharing, without DOM: invitations, session keys,
// and one receive-only peer connection per live share. The console renders it.

import type { ServerMessage, ShareMode, ShareSetup, ShareState, ShareSummary } from "../protocol.gen";
import type { AgentSession } from "./agent-session";
import type { Timers } from "./connection";
import { SharePeer } from "./share-peer";

export interface LiveShare {
  conversation: string;
  shareId: string;
  peer: SharePeer;
  stream: MediaStream | null;
}

export interface SessionKey {
  key: string;
  expiresAt: number;
}

export interface AgentSharesDeps {
  createPc: (config: RTCConfiguration) => RTCPeerConnection;
  timers?: Timers;
  now?: () => number;
}

/** What the agent reads for each state of a share. */
export const SHARE_STATE_TEXT: Record<ShareState, string> = {
  invited: "Invitation sent — waiting for the visitor to answer",
  accepted: "The visitor agreed to share",
  choosing: "The visitor is choosing what to share…",
  sharing: "The visitor is sharing their screen",
  declined: "The visitor declined to share their screen",
  cancelled: "The visitor closed the picker or chose Block, without sharing",
  failed: "Screen sharing failed",
  ended: "Screen sharing ended",
};

export function isLive(s: ShareSummary | null | undefined): boolean {
  return !!s && (s.state === "invited" || s.state === "accepted" || s.state === "choosing" || s.state === "sharing");
}

export class AgentShares {
  readonly live = new Map<string, LiveShare>();
  key: SessionKey | null = null;
  /** Setups for shares of conversations this tab does not show (yet). */
  private readonly pending = new Map<string, { share: string; setup: ShareSetup }>();
  private listeners = new Set<() => void>();
  private keyListeners = new Set<(key: SessionKey) => void>();

  constructor(
    private readonly session: AgentSession,
    private readonly deps: AgentSharesDeps,
  ) {
    session.onServerMessage((m) => this.onMessage(m));
    session.subscribe(() => this.sweep());
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onKey(fn: (key: SessionKey) => void): () => void {
    this.keyListeners.add(fn);
    return () => this.keyListeners.delete(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** The conversation's current share, from its summary. */
  shareOf(conversation: string): ShareSummary | null {
    return this.session.get(conversation)?.summary.share ?? null;
  }

  invite(conversation: string, message: string | null): boolean {
    const text = message && message.trim() ? message.trim() : null;
    const ok = this.session.send({ type: "share_invite", conversation, message: text });
    if (!ok) this.session.say("Not connected. Try again in a moment.");
    return ok;
  }

  end(conversation: string): void {
    const s = this.shareOf(conversation);
    if (!s || !isLive(s)) return;
    if (!this.session.send({ type: "share_end", share: s.id })) this.session.say("Not connected. Try again in a moment.");
  }

  setMode(conversation: string, mode: ShareMode): boolean {
    const l = this.live.get(conversation);
    if (!l) return false;
    const ok = this.session.send({ type: "share_signal", share: l.shareId, signal: { kind: "mode", mode } });
    if (ok) {
      l.peer.mode = mode;
      this.changed();
    }
    return ok;
  }

  /** Ask the visitor's browser for a new connection (the agent's "Reconnect"). */
  restart(conversation: string): void {
    this.live.get(conversation)?.peer.restartNow();
  }

  /** A session key for a caller; it asks them to share their screen, or to co-browse. */
  createKey(capability: "screen_share" | "cobrowse" = "screen_share"): boolean {
    const ok = this.session.send(capability === "cobrowse" ? { type: "share_key_create", capability } : { type: "share_key_create" });
    if (!ok) this.session.say("Not connected. Try again in a moment.");
    return ok;
  }

  private onMessage(m: ServerMessage): void {
    switch (m.type) {
      case "share_setup": {
        const cur = this.live.get(m.conversation);
        if (cur && cur.shareId === m.share) {
          void cur.peer.updateSetup(m.setup, this.shareOf(m.conversation)?.state === "sharing");
          return;
        }
        // Only the console tab showing the conversation connects (an agent may
        // have several tabs open; the visitor's browser talks to one of them).
        if (this.session.selected !== m.conversation) {
          this.pending.set(m.conversation, { share: m.share, setup: m.setup });
          return;
        }
        this.attach(m.conversation, m.share, m.setup);
        break;
      }
      case "share_signal": {
        const cur = this.live.get(m.conversation);
        if (cur && cur.shareId === m.share && m.from === "visitor") void cur.peer.handleSignal(m.signal).catch(() => undefined);
        break;
      }
      case "share_key_created":
        this.key = { key: m.key, expiresAt: m.expires_at };
        for (const fn of this.keyListeners) fn(this.key);
        this.changed();
        break;
      default:
        break;
    }
  }

  private attach(conversation: string, share: string, setup: ShareSetup): void {
    if (this.live.has(conversation)) this.drop(conversation);
    this.pending.delete(conversation);
    const sharing = this.shareOf(conversation)?.state === "sharing";
    const entry: LiveShare = { conversation, shareId: share, stream: null, peer: null as unknown as SharePeer };
    entry.peer = new SharePeer("agent", setup, {
      createPc: this.deps.createPc,
      timers: this.deps.timers,
      now: this.deps.now,
      send: (signal) => this.session.send({ type: "share_signal", share, signal }),
      onChange: () => this.changed(),
      onTrack: (stream) => {
        entry.stream = stream;
        this.changed();
      },
    });
    this.live.set(conversation, entry);
    // Joining a share already under way (console reloaded, or the conversation
    // opened later): ask the visitor's browser for a new offer.
    if (sharing) entry.peer.restartNow();
    this.changed();
  }

  /** Close peers whose share is over (or whose conversation left). */
  private sweep(): void {
    for (const [conv, p] of this.pending) {
      const s = this.shareOf(conv);
      if (!s || s.id !== p.share || !isLive(s)) this.pending.delete(conv);
      else if (this.session.selected === conv) this.attach(conv, p.share, p.setup);
    }
    for (const [conv, l] of this.live) {
      const s = this.shareOf(conv);
      if (!s || s.id !== l.shareId || !isLive(s)) this.drop(conv);
    }
  }

  private drop(conversation: string): void {
    const l = this.live.get(conversation);
    if (!l) return;
    this.live.delete(conversation);
    l.peer.close();
    this.changed();
  }

  stop(): void {
    for (const conv of [...this.live.keys()]) this.drop(conv);
  }
}

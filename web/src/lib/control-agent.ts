// The agent's side of remote control, without DOM: asking, ending, and one
// publishing stream per conversation that carries the agent's clicks, keys,
// choices and scrolling to the visitor's page (docs/protocol.md, "Remote
// control"), and brings back the page's answer to each.

import { MAX_CONTROL_BYTES, MAX_CONTROL_ITEMS, type ControlInput, type ControlRefusal, type ControlResult, type GrantSummary, type ServerMessage } from "../protocol.gen";
import type { AgentSession } from "./agent-session";
import type { Timers } from "./connection";
import { Reassembler, frameMessage } from "./stream-frames";
import { StreamSocket, type BinarySocketLike, type StreamLink } from "./stream-socket";

export const DEFAULT_CONTROL_MESSAGE = "May I click and type on this page for you? You can take back control at any moment with one click or Esc.";

/** What the agent reads for each state of a remote-control grant. */
export const CONTROL_STATE_TEXT: Record<GrantSummary["state"], string> = {
  asked: "Asked for control — waiting for the visitor",
  allowed: "The visitor gave you control — connecting…",
  choosing: "The visitor gave you control — connecting…",
  active: "You have control",
  declined: "The visitor declined remote control",
  cancelled: "The request for control was withdrawn",
  failed: "Remote control failed",
  ended: "Remote control ended",
};

/** Why the visitor's page did not do what the agent asked, for the agent. */
export const CONTROL_REFUSAL_TEXT: Record<ControlRefusal, string> = {
  private: "That field is private: only the visitor can fill it in.",
  file_picker: "Choosing files is left to the visitor.",
  outside_page: "That would leave the page (a download, another site or a new window): ask the visitor to do it.",
  not_found: "That element is no longer on the visitor's page.",
  no_field: "Click a field first, then type.",
  disabled: "That element is disabled on the visitor's page.",
  visitor_active: "The visitor is using the page right now; they come first. Try again in a moment.",
};

export function controlGrant(grants: GrantSummary[] | undefined): GrantSummary | null {
  return grants?.find((g) => g.capability === "remote_control") ?? null;
}

export function isControlLive(g: GrantSummary | null): boolean {
  return !!g && (g.state === "asked" || g.state === "allowed" || g.state === "choosing" || g.state === "active");
}

/** An input before it is numbered. */
export type ControlIntent = ControlInput extends infer T ? (T extends { seq: number } ? Omit<T, "seq"> : never) : never;

export interface AgentControlDeps {
  relayUrl: (token: string) => string;
  createSocket?: (url: string) => BinarySocketLike;
  timers?: Timers;
  /** The visitor's page answered an input (done, or refused and why). */
  onResult?: (conversation: string, result: ControlResult, input: ControlInput | undefined) => void;
  onLink?: (conversation: string, link: StreamLink) => void;
}

interface Live {
  grant: string;
  stream: string;
  socket: StreamSocket;
  nextSeq: number;
  nextMessage: number;
  /** Inputs sent and not answered yet (the newest few). */
  waiting: Map<number, ControlInput>;
  /** When each was sent (performance.now()), for figures. */
  sentAt: Map<number, number>;
}

/** Inputs kept for matching answers. */
const MAX_WAITING = 256;

export class AgentControl {
  readonly live = new Map<string, Live>();
  private readonly joinAsked = new Set<string>();
  /** Round trips of answered inputs (ms), newest last, for figures. */
  readonly roundTrips: number[] = [];

  constructor(
    private readonly session: AgentSession,
    private readonly deps: AgentControlDeps,
  ) {
    session.onServerMessage((m) => this.onMessage(m));
    session.subscribe(() => this.sweep());
  }

  ask(conversation: string, message: string | null): boolean {
    return this.session.send({ type: "grant_ask", conversation, capability: "remote_control", message: message?.trim() || null });
  }

  /** Withdraws the request or gives control back. */
  end(conversation: string): boolean {
    const g = controlGrant(this.session.get(conversation)?.summary.grants);
    if (!g || !isControlLive(g)) return false;
    this.close(conversation);
    return this.session.send({ type: "grant_end", grant: g.id });
  }

  /** Control is granted and its stream open: inputs can go. */
  ready(conversation: string): boolean {
    return !!this.live.get(conversation)?.socket.isOpen;
  }

  /**
   * Sends inputs to the visitor's page, numbered, as one message. False when no
   * stream is open or it would be over the relay's limits (nothing is sent).
   */
  send(conversation: string, intents: ControlIntent[]): boolean {
    const live = this.live.get(conversation);
    if (!live?.socket.isOpen || intents.length === 0 || intents.length > MAX_CONTROL_ITEMS) return false;
    const inputs = intents.map((i) => ({ ...i, seq: live.nextSeq++ >>> 0 }) as ControlInput);
    const bytes = new TextEncoder().encode(JSON.stringify(inputs));
    if (bytes.length > MAX_CONTROL_BYTES) return false;
    const frames = frameMessage(live.nextMessage++ >>> 0, bytes, false);
    if (frames.length !== 1 || !live.socket.send(frames[0])) return false;
    const now = typeof performance === "object" ? performance.now() : Date.now();
    for (const input of inputs) {
      live.waiting.set(input.seq, input);
      live.sentAt.set(input.seq, now);
      if (live.waiting.size > MAX_WAITING) {
        const oldest = live.waiting.keys().next().value as number;
        live.waiting.delete(oldest);
        live.sentAt.delete(oldest);
      }
    }
    return true;
  }

  private onMessage(m: ServerMessage): void {
    if (m.type !== "stream_granted" || m.capability !== "remote_control" || m.role !== "publisher") return;
    // Only the console showing the conversation controls it (an agent's other
    // tabs would each hold a publishing socket for nothing).
    if (this.session.selected !== m.conversation) return;
    let live = this.live.get(m.conversation);
    if (!live || live.stream !== m.stream) {
      this.close(m.conversation);
      live = this.openLive(m.conversation, m.grant, m.stream);
    }
    live.socket.open(m.token);
  }

  private openLive(conversation: string, grant: string, stream: string): Live {
    const frames = new Reassembler();
    const live: Live = {
      grant,
      stream,
      nextSeq: 1,
      nextMessage: 1,
      waiting: new Map(),
      sentAt: new Map(),
      socket: new StreamSocket({
        url: this.deps.relayUrl,
        needToken: () => {
          if (this.live.get(conversation) === live) this.session.send({ type: "stream_join", stream });
        },
        // The relay asks publishers for snapshots; control has none to give.
        onControl: () => undefined,
        onFrame: (frame) => {
          const message = frames.push(frame);
          if (!message || message.compressed) return;
          let results: unknown;
          try {
            results = JSON.parse(new TextDecoder().decode(message.bytes));
          } catch {
            return;
          }
          if (!Array.isArray(results)) return;
          const now = typeof performance === "object" ? performance.now() : Date.now();
          for (const r of results as ControlResult[]) {
            if (!r || typeof r.seq !== "number") continue;
            const input = live.waiting.get(r.seq);
            const sent = live.sentAt.get(r.seq);
            live.waiting.delete(r.seq);
            live.sentAt.delete(r.seq);
            if (sent !== undefined) {
              this.roundTrips.push(now - sent);
              if (this.roundTrips.length > 1000) this.roundTrips.shift();
            }
            this.deps.onResult?.(conversation, r, input);
          }
        },
        onLink: (link) => this.deps.onLink?.(conversation, link),
        createSocket: this.deps.createSocket,
        timers: this.deps.timers,
      }),
    };
    this.live.set(conversation, live);
    return live;
  }

  /**
   * Closes streams whose grant has ended or whose conversation is no longer
   * shown, and joins the shown conversation's (after a reconnect, a reload, or
   * coming back to it).
   */
  private sweep(): void {
    const shown = this.session.selected;
    for (const [conversation, live] of this.live) {
      const g = controlGrant(this.session.get(conversation)?.summary.grants);
      if (!g || g.id !== live.grant || !isControlLive(g) || conversation !== shown) this.close(conversation);
    }
    for (const stream of [...this.joinAsked]) {
      const g = shown ? controlGrant(this.session.get(shown)?.summary.grants) : null;
      if (g?.stream !== stream) this.joinAsked.delete(stream);
    }
    const e = shown ? this.session.get(shown) : undefined;
    if (!e || !this.session.isMine(e.summary)) return;
    const g = controlGrant(e.summary.grants);
    if (!g?.stream || !isControlLive(g) || this.live.has(e.summary.id) || this.joinAsked.has(g.stream)) return;
    if (this.session.send({ type: "stream_join", stream: g.stream })) this.joinAsked.add(g.stream);
  }

  private close(conversation: string): void {
    const live = this.live.get(conversation);
    if (!live) return;
    this.live.delete(conversation);
    live.socket.close();
    this.deps.onLink?.(conversation, "ended");
  }
}

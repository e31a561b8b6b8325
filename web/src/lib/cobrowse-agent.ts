// The agent's side of co-browsing, without DOM: asking, ending, and one
// subscribing stream per conversation whose items (rrweb events) go, in order, to
// whatever shows them (the console's mirror).

import { MAX_GUIDANCE_BYTES, MAX_GUIDANCE_ITEMS, type Guidance, type GrantSummary, type ServerMessage } from "../protocol.gen";
import type { AgentSession } from "./agent-session";
import type { Timers } from "./connection";
import { Reassembler, decodeItems, frameMessage } from "./stream-frames";
import { StreamSocket, type BinarySocketLike, type StreamLink } from "./stream-socket";

export const DEFAULT_COBROWSE_MESSAGE = "May I see the page you are on? I can then guide you through it.";

/** What the agent reads for each state of a co-browse grant. */
export const COBROWSE_STATE_TEXT: Record<GrantSummary["state"], string> = {
  asked: "Asked to co-browse — waiting for the visitor to answer",
  allowed: "The visitor allowed co-browsing — connecting…",
  choosing: "The visitor allowed co-browsing — connecting…",
  active: "Co-browsing: you see the visitor's page",
  declined: "The visitor declined co-browsing",
  cancelled: "Co-browsing was withdrawn",
  failed: "Co-browsing failed",
  ended: "Co-browsing ended",
};

export function cobrowseGrant(grants: GrantSummary[] | undefined): GrantSummary | null {
  return grants?.find((g) => g.capability === "cobrowse") ?? null;
}

export function isCobrowseLive(g: GrantSummary | null): boolean {
  return !!g && (g.state === "asked" || g.state === "allowed" || g.state === "choosing" || g.state === "active");
}

/** What the mirror is told. */
export interface MirrorSink {
  /** Items in the order the visitor's page produced them. */
  items(conversation: string, items: unknown[]): void;
  /** Frames were lost: drop the picture and wait for the next full snapshot. */
  resync(conversation: string): void;
  /** The stream's link changed (connecting, open, waiting, ended). */
  link(conversation: string, link: StreamLink): void;
  /** Whether the visitor's co-browsing page is connected (the relay says so on every change). */
  publisher?(conversation: string, present: boolean): void;
}

export interface AgentCobrowseDeps {
  relayUrl: (token: string) => string;
  createSocket?: (url: string) => BinarySocketLike;
  timers?: Timers;
}

interface Live {
  grant: string;
  stream: string;
  socket: StreamSocket;
  frames: Reassembler;
  decoding: Promise<void>;
  /** Bytes and items received, for the viewer's live figures. */
  bytes: number;
  items: number;
  /** Whether the visitor's page publishes now (null: not said yet). */
  publisherPresent: boolean | null;
  /** Guidance messages sent up (their numbers). */
  guidanceSent: number;
}

export class AgentCobrowse {
  readonly live = new Map<string, Live>();
  private sinks = new Set<MirrorSink>();
  /** Streams this console has asked to join (once each). */
  private readonly joinAsked = new Set<string>();

  constructor(
    private readonly session: AgentSession,
    private readonly deps: AgentCobrowseDeps,
  ) {
    session.onServerMessage((m) => this.onMessage(m));
    session.subscribe(() => this.sweep());
  }

  addSink(sink: MirrorSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  ask(conversation: string, message: string | null): boolean {
    const text = message?.trim() || null;
    return this.session.send({ type: "grant_ask", conversation, capability: "cobrowse", message: text });
  }

  /** Withdraws an invitation or ends co-browsing. */
  end(conversation: string): boolean {
    const g = cobrowseGrant(this.session.get(conversation)?.summary.grants);
    if (!g || !isCobrowseLive(g)) return false;
    this.close(conversation);
    return this.session.send({ type: "grant_end", grant: g.id });
  }

  /** Joins the stream again, so that the visitor sends a fresh full snapshot. */
  refresh(conversation: string): boolean {
    const live = this.live.get(conversation);
    return !!live && this.session.send({ type: "stream_join", stream: live.stream });
  }

  /**
   * Shows something on the visitor's page (pointer, ping, highlight): one
   * guidance message up the conversation's stream. False when no stream is open
   * or the message would be over the relay's limits.
   */
  guide(conversation: string, items: Guidance[]): boolean {
    const live = this.live.get(conversation);
    if (!live?.socket.isOpen || items.length === 0 || items.length > MAX_GUIDANCE_ITEMS) return false;
    const bytes = new TextEncoder().encode(JSON.stringify(items));
    const [frame] = frameMessage(live.guidanceSent++ >>> 0, bytes, false);
    if (frame.length > MAX_GUIDANCE_BYTES) return false;
    return live.socket.send(frame);
  }

  stats(conversation: string): { bytes: number; items: number } | null {
    const l = this.live.get(conversation);
    return l ? { bytes: l.bytes, items: l.items } : null;
  }

  private onMessage(m: ServerMessage): void {
    if (m.type !== "stream_granted" || m.capability !== "cobrowse" || m.role !== "subscriber") return;
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
      frames,
      decoding: Promise.resolve(),
      bytes: 0,
      items: 0,
      publisherPresent: null,
      guidanceSent: 0,
      socket: new StreamSocket({
        url: this.deps.relayUrl,
        needToken: () => {
          if (this.live.get(conversation) === live) this.session.send({ type: "stream_join", stream });
        },
        onControl: (c) => {
          if (c.type === "resync") {
            frames.reset();
            for (const s of this.sinks) s.resync(conversation);
          } else if (c.type === "publisher") {
            live.publisherPresent = c.present;
            for (const s of this.sinks) s.publisher?.(conversation, c.present);
          }
        },
        onFrame: (frame) => {
          live.bytes += frame.length;
          const message = frames.push(frame);
          if (!message) return;
          // Inflating is asynchronous: a chain keeps the items in order.
          live.decoding = live.decoding.then(async () => {
            let items: unknown[];
            try {
              items = await decodeItems(message);
            } catch {
              frames.reset();
              for (const s of this.sinks) s.resync(conversation);
              return;
            }
            if (this.live.get(conversation) !== live) return;
            live.items += items.length;
            for (const s of this.sinks) s.items(conversation, items);
          }).catch(() => {
            // A sink that failed must not stop the stream: start over from a snapshot.
            frames.reset();
            for (const s of this.sinks) s.resync(conversation);
          });
        },
        onLink: (link) => {
          for (const s of this.sinks) s.link(conversation, link);
        },
        createSocket: this.deps.createSocket,
        timers: this.deps.timers,
      }),
    };
    this.live.set(conversation, live);
    return live;
  }

  /** Closes streams whose grant has ended, and rejoins live ones after a reconnect. */
  private sweep(): void {
    for (const [conversation, live] of this.live) {
      const g = cobrowseGrant(this.session.get(conversation)?.summary.grants);
      if (!g || g.id !== live.grant || !isCobrowseLive(g)) this.close(conversation);
    }
    // A console opened (or reloaded) while co-browsing is on joins the stream
    // (only the owner's: an invited colleague is never granted it).
    for (const e of this.session.mine()) {
      if (!this.session.isMine(e.summary)) continue;
      const g = cobrowseGrant(e.summary.grants);
      if (!g?.stream || !isCobrowseLive(g) || this.live.has(e.summary.id) || this.joinAsked.has(g.stream)) continue;
      if (this.session.send({ type: "stream_join", stream: g.stream })) this.joinAsked.add(g.stream);
    }
  }

  private close(conversation: string): void {
    const live = this.live.get(conversation);
    if (!live) return;
    this.live.delete(conversation);
    live.socket.close();
    for (const s of this.sinks) s.link(conversation, "ended");
  }
}

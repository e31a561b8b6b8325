// The visitor's side of co-browsing, without DOM: the grant's state, the visitor's
// answers, and the capture's way to the relay. The recorder (rrweb, in the
// separately loaded widget-cobrowse.js) is injected; this module decides when it
// runs and carries what it emits.
//
// Consent is kept per tab: the tab where the visitor clicked Allow remembers the
// grant (sessionStorage), so that after a navigation or a reload it asks for a
// fresh stream token and captures the new page with no action by either side;
// another tab of the same visitor captures nothing.

import type { ConversationSummary, Event, GrantState, Guidance, ServerMessage } from "../protocol.gen";
import type { Timers } from "./connection";
import { grantFromEvent, grantFromSummary, type GrantView } from "./grant-view";
import { Reassembler, encodeItems } from "./stream-frames";
import { SPENT, StreamSocket, type BinarySocketLike } from "./stream-socket";
import type { KeyValueStore, VisitorSession } from "./visitor-session";

/** sessionStorage key: the co-browse grant this tab allowed. */
export const COBROWSE_TAB_KEY = "sightline.cobrowse_grant";

export type CobrowseGrant = GrantView;

/** What captures the page (rrweb's recorder in the browser). */
export interface Recorder {
  /** Starts capturing: a full snapshot first, then every change, to `emit`. */
  start(emit: (item: unknown) => void): void;
  /** Emits a fresh full snapshot. */
  snapshot(): void;
  stop(): void;
}

export interface VisitorCobrowseDeps {
  relayUrl: (token: string) => string;
  /** Per-tab storage (sessionStorage). */
  tabStorage: KeyValueStore;
  recorder: () => Recorder;
  createSocket?: (url: string) => BinarySocketLike;
  timers?: Timers;
  /** How long captured items wait to go out together. */
  flushMs?: number;
  /** Most items held while the stream is not open; past it the next snapshot replaces them. */
  maxQueued?: number;
  /**
   * The site's other tabs (a BroadcastChannel). A duplicated tab inherits the
   * per-tab storage, grant included: each tab that starts capturing says so, and
   * a tab that hears another claim its grant stops and forgets it, so only one
   * tab (the newest page) is ever mirrored.
   */
  tabChannel?: { post(message: unknown): void; listen(fn: (message: unknown) => void): void };
}

/** What a tab that starts capturing tells the others. */
interface TabClaim {
  type: "cobrowse_claim";
  grant: string;
  tab: string;
}

/**
 * How long captured items wait to go out together: a burst of changes becomes one
 * message, and a single change reaches the agent within about this much more
 * (measured on loopback: 50 ms gave a change-to-mirror p50 of 54 ms).
 */
const FLUSH_MS = 20;

const LIVE: GrantState[] = ["asked", "allowed", "choosing", "active"];
const RUNNING: GrantState[] = ["allowed", "choosing", "active"];

export class VisitorCobrowse {
  grant: CobrowseGrant | null = null;
  private stream: StreamSocket | null = null;
  private recorder: Recorder | null = null;
  private queue: unknown[] = [];
  private dirty = false;
  private flushTimer: unknown = null;
  private nextMessage = 1;
  private sending: Promise<void> = Promise.resolve();
  private startSent = false;
  private listeners = new Set<() => void>();
  private guides = new Set<(items: Guidance[]) => void>();
  private readonly timers: Timers;
  /** Bytes of frames handed to the relay (for figures and tests). */
  bytesSent = 0;
  framesSent = 0;
  /** How long the newest full snapshot held the main thread (ms). */
  lastSnapshotMs: number | null = null;
  /** This tab, for claims. */
  private readonly tabId: string;

  constructor(
    private readonly session: VisitorSession,
    private readonly deps: VisitorCobrowseDeps,
  ) {
    this.timers = deps.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      random: () => Math.random(),
    };
    this.tabId = Math.floor(this.timers.random() * 2 ** 48).toString(36) + Math.floor(this.timers.random() * 2 ** 48).toString(36);
    deps.tabChannel?.listen((m) => this.onClaim(m));
    session.intercept((m) => this.onMessage(m));
    session.onEvent((e) => this.onEvent(e));
    // Loaded after the welcome and the events (widget-cobrowse.js comes when they
    // say co-browsing is asked for or on): start from what the session knows.
    if (session.ready) this.fromSummary(session.welcomeSummary);
    for (const e of session.transcript.getEvents()) this.onEvent(e);
  }

  /**
   * What the agent shows on this page (pointer, pings, highlights), as it
   * arrives; when capture stops, a last call takes the pointer and highlight away.
   */
  onGuidance(fn: (items: Guidance[]) => void): () => void {
    this.guides.add(fn);
    return () => this.guides.delete(fn);
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** An invitation waiting for the visitor's answer. */
  get asking(): boolean {
    return this.grant?.state === "asked";
  }

  /** This tab is capturing (or about to). */
  get capturing(): boolean {
    return !!this.grant && RUNNING.includes(this.grant.state) && this.ownsGrant(this.grant.id);
  }

  allow(): boolean {
    const g = this.grant;
    if (!g || g.state !== "asked") return false;
    this.remember(g.id);
    return this.session.send({ type: "grant_step", grant: g.id, step: "allow", detail: null });
  }

  decline(): boolean {
    const g = this.grant;
    if (!g || g.state !== "asked") return false;
    return this.session.send({ type: "grant_step", grant: g.id, step: "decline", detail: null });
  }

  /** The visitor stops co-browsing: capture ends here at once, and the server revokes. */
  stop(): boolean {
    const g = this.grant;
    if (!g || !LIVE.includes(g.state)) return false;
    // Forgotten at once: nothing (a reconnect, a token on its way) resumes it.
    if (this.ownsGrant(g.id)) this.forget();
    this.teardown();
    return this.session.send({ type: "grant_end", grant: g.id });
  }

  private onMessage(msg: ServerMessage): boolean | void {
    switch (msg.type) {
      case "visitor_welcome":
        this.fromSummary(msg.conversation);
        break;
      case "conversation_changed":
        this.fromSummary(msg.conversation);
        break;
      case "stream_granted":
        if (msg.capability !== "cobrowse" || msg.role !== "publisher") return;
        if (this.grant?.id === msg.grant) this.grant.stream = msg.stream;
        // Only for the grant this tab allowed and that is not over (the token may
        // come just before the event that says it is allowed).
        if (!this.ownsGrant(msg.grant) || this.grant?.id !== msg.grant || !LIVE.includes(this.grant.state)) return true;
        this.ensureStream().open(msg.token);
        return true;
    }
  }

  private onEvent(e: Event): void {
    if (e.kind !== "grant" || e.capability !== "cobrowse") return;
    this.grant = grantFromEvent(this.grant, e);
    if (!LIVE.includes(e.state)) {
      if (this.deps.tabStorage.get(COBROWSE_TAB_KEY) === e.grant) this.forget();
      this.teardown();
    }
    this.changed();
  }

  private fromSummary(summary: ConversationSummary | null): void {
    const g = summary?.grants.find((x) => x.capability === "cobrowse") ?? null;
    if (!g) {
      if (this.grant) this.teardown();
      this.grant = null;
      this.changed();
      return;
    }
    this.grant = grantFromSummary(this.grant, g);
    if (!LIVE.includes(g.state)) this.teardown();
    // After a navigation or a reconnect: this tab goes on under the same consent.
    if (RUNNING.includes(g.state) && g.stream && this.ownsGrant(g.id)) {
      const stream = g.stream;
      // The welcome is being handled: ask once the session may send.
      queueMicrotask(() => {
        if (this.capturing && this.grant?.stream === stream) this.session.send({ type: "stream_join", stream });
      });
    }
    this.changed();
  }

  private ensureStream(): StreamSocket {
    if (this.stream && this.stream.state !== "ended") return this.stream;
    const stream = new StreamSocket({
      url: this.deps.relayUrl,
      needToken: () => {
        const s = this.grant?.stream;
        if (s && this.capturing) this.session.send({ type: "stream_join", stream: s });
      },
      onControl: (c) => {
        if (this.stream !== stream) return;
        switch (c.type) {
          case "joined":
            this.markStarted();
            this.dirty = true;
            this.scheduleFlush();
            break;
          case "snapshot_needed":
            this.snapshot();
            break;
          case "refused":
            // Over the stream's rate: what was dropped is replaced by a snapshot.
            this.dirty = true;
            break;
          case "resync":
            break;
        }
      },
      onFrame: (frame) => {
        if (this.stream !== stream || !this.recorder) return;
        const items = decodeGuidance(frame);
        if (items) this.guide(items);
      },
      onLink: (link, info) => {
        if (link === "ended" && this.stream === stream && info.code === SPENT) {
          // The session has sent all it may: it cannot go on, so it ends as
          // failed with the reason, which both sides read in the transcript.
          const g = this.grant;
          if (g) this.session.send({ type: "grant_step", grant: g.id, step: "fail", detail: "the co-browsing session reached its size limit" });
          this.forget();
        }
        if (link === "ended" && this.stream === stream) this.teardown();
        this.changed();
      },
      createSocket: this.deps.createSocket,
      timers: this.deps.timers,
    });
    this.stream = stream;
    return stream;
  }

  private markStarted(): void {
    const g = this.grant;
    if (!g || this.startSent || g.state !== "allowed") return;
    this.startSent = true;
    this.session.send({ type: "grant_step", grant: g.id, step: "start", detail: null });
  }

  /**
   * While capturing, a fresh full snapshot: the masking policy changed, or the
   * page's route did (the widget has told the server, which adds the transcript
   * line when this is the mirrored tab), and the agent sees the new address.
   */
  refresh(): void {
    if (this.recorder) this.snapshot();
  }

  /** A full snapshot replaces everything queued before it. */
  private snapshot(): void {
    this.queue = [];
    this.dirty = false;
    const clock = typeof performance === "object" ? performance : Date;
    const started = clock.now();
    if (!this.recorder) {
      const g = this.grant;
      if (g) {
        const claim: TabClaim = { type: "cobrowse_claim", grant: g.id, tab: this.tabId };
        try {
          this.deps.tabChannel?.post(claim);
        } catch {
          // No channel: one tab is the usual case.
        }
      }
      this.recorder = this.deps.recorder();
      this.recorder.start((item) => this.emit(item));
    } else {
      this.recorder.snapshot();
    }
    this.lastSnapshotMs = clock.now() - started;
    this.scheduleFlush();
  }

  private emit(item: unknown): void {
    if (!this.recorder) return;
    this.queue.push(item);
    if (this.queue.length > (this.deps.maxQueued ?? 5000)) {
      this.queue = [];
      this.dirty = true;
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== null) return;
    this.flushTimer = this.timers.setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, this.deps.flushMs ?? FLUSH_MS);
  }

  private flush(): void {
    const stream = this.stream;
    if (!stream || !stream.isOpen || !this.recorder) return;
    if (this.dirty) {
      // Something was lost on the way: start over from a full snapshot.
      this.snapshot();
      return;
    }
    if (this.queue.length === 0) return;
    const items = this.queue;
    this.queue = [];
    const id = this.nextMessage++;
    this.sending = this.sending.then(async () => {
      let frames: Uint8Array[];
      try {
        frames = await encodeItems(id, items);
      } catch {
        // Too large to send (over 16 MiB): lost, and a snapshot would be too.
        return;
      }
      for (const frame of frames) {
        if (this.stream !== stream || !stream.send(frame)) {
          this.dirty = true;
          this.scheduleFlush();
          return;
        }
        this.bytesSent += frame.length;
        this.framesSent++;
      }
    });
  }

  private teardown(): void {
    if (this.flushTimer !== null) this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.recorder) this.guide([{ kind: "pointer", at: null }, { kind: "highlight", node: null }, { kind: "clear" }]);
    this.recorder?.stop();
    this.recorder = null;
    const stream = this.stream;
    this.stream = null;
    stream?.close();
    this.queue = [];
    this.dirty = false;
    this.startSent = false;
  }

  /** Another tab of this visitor started capturing this tab's grant: it goes on there, not here. */
  private onClaim(message: unknown): void {
    const c = message as Partial<TabClaim> | null;
    if (!c || c.type !== "cobrowse_claim" || c.tab === this.tabId || typeof c.grant !== "string" || !this.ownsGrant(c.grant)) return;
    this.forget();
    this.teardown();
    this.changed();
  }

  private ownsGrant(id: string): boolean {
    return this.deps.tabStorage.get(COBROWSE_TAB_KEY) === id;
  }

  private remember(id: string): void {
    try {
      this.deps.tabStorage.set(COBROWSE_TAB_KEY, id);
    } catch {
      // Storage blocked: co-browsing lasts as long as the page.
    }
  }

  private forget(): void {
    try {
      this.deps.tabStorage.remove(COBROWSE_TAB_KEY);
    } catch {
      // nothing to do
    }
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  private guide(items: Guidance[]): void {
    for (const fn of this.guides) fn(items);
  }
}

const KINDS = new Set(["pointer", "ping", "highlight", "stroke", "clear"]);

/**
 * A guidance message from the agent: one frame (the relay checked its shape;
 * anything odd is dropped all the same). Null when it is not one.
 */
export function decodeGuidance(frame: Uint8Array): Guidance[] | null {
  const message = new Reassembler().push(frame);
  if (!message || message.compressed) return null;
  let items: unknown;
  try {
    items = JSON.parse(new TextDecoder().decode(message.bytes));
  } catch {
    return null;
  }
  if (!Array.isArray(items)) return null;
  return items.filter((i): i is Guidance => !!i && typeof i === "object" && KINDS.has((i as { kind?: string }).kind ?? ""));
}

// The visitor's side of the protocol, without any DOM: token storage, hello and
// replay, the conversation's state, the outbox and typing. The widget renders it.

import {
  PROTOCOL_VERSION,
  type AgentRef,
  type ClientFrame,
  type ClientMessage,
  type ConversationStatus,
  type ConversationSummary,
  type ErrorCode,
  type Event,
  type PageInfo,
  type ServerMessage,
  type VisitorDevice,
} from "../protocol.gen";
import { Connection, type ConnectionState, type SocketFactory, type Timers } from "./connection";
import { checkText } from "./format";
import { newClientId } from "./ids";
import { Transcript, type OutboxItem } from "./transcript";
import { TypingIndicator, TypingSender } from "./typing";

export const TOKEN_KEY = "sightline.visitor_token";
/** The user id this browser's visitor was last identified as (`Sightline.identify`). */
export const IDENTITY_KEY = "sightline.identity";

/** A string store such as localStorage; it never throws (blocked storage is its own affair: the widget's falls back to memory). */
export interface KeyValueStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/**
 * What the widget shows about the link to the server. `refused`: the server
 * closed with {@link ORIGIN_REFUSED}, the page's site is not allowed; nothing
 * reconnects, not even `start()`.
 */
export type LinkState = "idle" | "connecting" | "online" | "reconnecting" | "refused";

/** The `ref` of an `identify` frame, which the server's refusal echoes. */
export const IDENTIFY_REF = "identify";

/** Close code of a visitor socket opened from a site that is not allowed. */
export const ORIGIN_REFUSED = 4403;

export type ConversationState = "none" | ConversationStatus;

export interface VisitorSessionOptions {
  wsUrl: string;
  storage: KeyValueStore;
  page: () => PageInfo | null;
  /** What this browser can do, said in every hello (the widget's; /join says nothing). */
  device?: () => VisitorDevice;
  createSocket?: SocketFactory;
  timers?: Timers;
  now?: () => number;
}

export type SendResult = { ok: true; item: OutboxItem } | { ok: false; reason: "empty" | "too_long" };

export class VisitorSession {
  readonly transcript = new Transcript();
  /** The server's summary from the last welcome (may be stale; events win). */
  private summary: ConversationSummary | null = null;
  private readonly conn: Connection<ServerMessage, ClientFrame>;
  private readonly opts: VisitorSessionOptions;
  private readonly now: () => number;
  private readonly abandoned = new Set<string>();
  private welcomed = false;
  /** Null until the first welcome; then the newest the server said (kept while reconnecting). */
  private available: boolean | null = null;
  /** The site policy's private selectors (applied by the co-browse and share bundles). */
  privateSelectors: string[] = [];
  private everOnline = false;
  /** Who the host page says the visitor is (`Sightline.identify`): said after every welcome. */
  private identity: Extract<ClientMessage, { type: "identify" }> | null = null;
  private helloAfterSeq = 0;
  /** The page moved after the hello went and before the welcome: said with the welcome. */
  private pageUnsaid = false;
  private listeners = new Set<() => void>();
  private eventListeners = new Set<(event: Event, live: boolean) => void>();
  private replaying = false;
  /**
   * `synced` answers still to come before the transcript is whole: after a
   * welcome to another conversation than ours, the server's first replay started
   * from our old conversation's `after_seq`; the full one we ask for comes second.
   */
  private syncsPending = 0;
  private interceptors = new Set<(msg: ServerMessage) => boolean | void>();
  readonly typingOut: TypingSender;
  readonly typingIn: TypingIndicator;
  link: LinkState = "idle";
  /**
   * A problem to show to the visitor, as the server's code (cleared on the next
   * success): the server's own words are English, the widget words it in the
   * visitor's language. A failed message's `error` is such a code too.
   */
  notice: ErrorCode | null = null;

  constructor(opts: VisitorSessionOptions) {
    this.opts = opts;
    this.now = opts.now ?? (() => Date.now());
    this.conn = new Connection<ServerMessage, ClientFrame>({
      url: opts.wsUrl,
      hello: () => this.hello(),
      onMessage: (m) => this.onMessage(m),
      onState: (s, info) => this.onConnState(s, info.closeCode),
      onClose: (code) => code !== ORIGIN_REFUSED,
      createSocket: opts.createSocket,
      timers: opts.timers,
    });
    this.typingOut = new TypingSender(
      (active) => {
        if (this.welcomed && this.hasOpenConversation()) this.conn.send({ type: "typing", conversation: null, active });
      },
      this.now,
      opts.timers,
    );
    this.typingIn = new TypingIndicator(() => this.changed(), opts.timers);
    this.transcript.subscribe(() => this.changed());
  }

  /** Re-render on any change. Returns an unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Hear about each new event, and whether it arrived live (not in a replay). */
  onEvent(fn: (event: Event, live: boolean) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  /**
   * See every server message before the session does (screen sharing uses this);
   * return true to say it was handled (no notice shown for an error).
   */
  intercept(fn: (msg: ServerMessage) => boolean | void): () => void {
    this.interceptors.add(fn);
    return () => this.interceptors.delete(fn);
  }

  /** Send a message (with a `ref`, if any) now if the server has welcomed us; false otherwise. */
  send(msg: ClientFrame): boolean {
    return this.welcomed && this.conn.send(msg);
  }

  /**
   * The visitor moved to another page without one loading (a single-page app's
   * route): the server keeps it as their page, and the agent handling them sees
   * it. Said on a welcomed socket; else with the next welcome, unless a hello
   * says the page first.
   */
  pageChanged(): void {
    const page = this.opts.page();
    this.pageUnsaid = !!page && !this.send({ type: "page_changed", page });
  }

  /** The conversation as the last welcome described it (events since may be newer). */
  get welcomeSummary(): ConversationSummary | null {
    return this.summary;
  }

  /** The server has welcomed us on the current socket. */
  get ready(): boolean {
    return this.welcomed;
  }

  /** The visitor's credential (for the screen-sharing pop-up on the server's origin). */
  get token(): string | null {
    return this.opts.storage.get(TOKEN_KEY);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  get hasToken(): boolean {
    return !!this.token;
  }

  get started(): boolean {
    return this.link !== "idle";
  }

  start(): void {
    if (this.link === "idle") {
      this.link = "connecting";
      this.conn.start();
      this.changed();
    }
  }

  stop(): void {
    this.conn.stop();
    this.link = "idle";
    this.changed();
  }

  /** Try to reconnect now (e.g. the browser went back online). */
  reconnectNow(): void {
    this.conn.reconnectNow();
  }

  get conversationId(): string | null {
    return this.transcript.conversationId;
  }

  /** The conversation's state, from the events we have (or the welcome summary). */
  get state(): ConversationState {
    const events = this.transcript.getEvents();
    if (events.length === 0) {
      const s = this.summary;
      return s && s.id === this.transcript.conversationId ? s.status : "none";
    }
    let state: ConversationState = "waiting";
    for (const e of events) {
      // A transfer names the new agent, or none: back to waiting.
      if (e.kind === "agent_joined" || e.kind === "transferred") state = e.agent ? "active" : "waiting";
      else if (e.kind === "closed") state = "closed";
    }
    return state;
  }

  /** Whether any agent is available, as the server last said (null before it has). */
  get agentsAvailable(): boolean | null {
    return this.available;
  }

  /** The e-mail address the visitor left on this conversation, if any. */
  get visitorEmail(): string | null {
    let email: string | null = null;
    for (const e of this.transcript.getEvents()) if (e.kind === "email_left") email = e.email;
    return email;
  }

  /** Leave an e-mail address on the open conversation (while nobody is available). */
  leaveEmail(email: string): boolean {
    return this.send({ type: "leave_email", email: email.trim() });
  }

  /**
   * Say who the host page says the visitor is, signed by the host site's server.
   * Sent now if connected, and again after every welcome (the server answers
   * `identified`, or an error whose `ref` is {@link IDENTIFY_REF}).
   */
  identify(id: string, name: string | null, email: string | null, signature: string): void {
    // Another user on this browser (the last one logged out without reset()):
    // they start afresh and never see the other's chat.
    const store = this.opts.storage;
    const before = store.get(IDENTITY_KEY);
    if (before && before !== id) this.reset();
    store.set(IDENTITY_KEY, id);
    this.identity = { type: "identify", id, name, email, signature };
    this.sendIdentity();
  }

  /**
   * Forget this browser's visitor (`Sightline.reset()`, when the host site's user
   * logs out): a new anonymous visitor with an empty chat, on a new socket.
   */
  reset(): void {
    this.opts.storage.remove(TOKEN_KEY);
    this.opts.storage.remove(IDENTITY_KEY);
    this.identity = this.summary = null;
    // The old conversation's late events are ignored; the transcript empties, its
    // unsent messages too (they were the other person's).
    this.switchTo(null);
    this.transcript.reset(null, true);
    this.conn.restart();
  }

  private sendIdentity(): void {
    if (this.identity && this.welcomed) this.conn.send({ ...this.identity, ref: IDENTIFY_REF });
  }

  /** The agent handling the conversation, if any. */
  get agent(): AgentRef | null {
    let agent: AgentRef | null = null;
    if (this.summary && this.summary.id === this.transcript.conversationId) agent = this.summary.agent;
    for (const e of this.transcript.getEvents()) {
      if (e.kind === "agent_joined" || e.kind === "transferred") agent = e.agent;
      // The owner's newest name; a colleague taking part does not become the owner.
      else if (e.kind === "message" && e.from === "agent" && e.agent && (!agent || e.agent.id === agent.id)) agent = e.agent;
    }
    return agent;
  }

  hasOpenConversation(): boolean {
    const s = this.state;
    return s === "waiting" || s === "active";
  }

  /** Queue a text message and send it when connected. */
  sendText(raw: string): SendResult {
    const check = checkText(raw);
    if (!check.ok) return { ok: false, reason: check.reason === "empty" ? "empty" : "too_long" };
    this.typingOut.stop();
    const item = this.transcript.enqueue(newClientId(), { kind: "text", text: check.text }, this.now());
    this.start();
    this.transmit(item);
    return { ok: true, item };
  }

  /** Send a failed message again. */
  retry(clientId: string): void {
    const item = this.transcript.retry(clientId);
    if (item) this.transmit(item);
  }

  /** End the current conversation. */
  closeConversation(): void {
    if (!this.hasOpenConversation()) return;
    this.typingOut.stop();
    this.conn.send({ type: "close", conversation: null });
  }

  /** Call on each input event of the composer. */
  typing(empty: boolean): void {
    this.typingOut.input(empty);
  }

  private transmit(item: OutboxItem): void {
    if (!this.welcomed) return; // sent after the next welcome
    this.conn.send({ type: "send", conversation: null, client_id: item.clientId, body: item.body });
  }


  private hello(): ClientMessage {
    this.welcomed = this.pageUnsaid = false;
    this.helloAfterSeq = this.transcript.conversationId ? this.transcript.lastSeq : 0;
    return {
      type: "visitor_hello",
      protocol: PROTOCOL_VERSION,
      token: this.token,
      after_seq: this.helloAfterSeq,
      page: this.opts.page(),
      device: this.opts.device?.(),
    };
  }

  private onConnState(s: ConnectionState, closeCode?: number): void {
    if (s === "open" || s === "connecting") {
      this.link = this.everOnline ? "reconnecting" : "connecting";
    } else if (s === "waiting") {
      this.welcomed = false;
      this.link = "reconnecting";
      this.typingIn.set(false);
    } else {
      this.link = closeCode === ORIGIN_REFUSED ? "refused" : "idle";
    }
    this.changed();
  }

  /** Make `id` the current conversation (the server started a new one). */
  private switchTo(id: string | null): void {
    if (this.transcript.conversationId === id) return;
    if (this.transcript.conversationId) this.abandoned.add(this.transcript.conversationId);
    this.transcript.reset(id);
    this.typingIn.set(false);
  }

  /** Whether a message about conversation `id` concerns us, switching if it is new. */
  private accept(id: string): boolean {
    if (id === this.transcript.conversationId) return true;
    if (this.abandoned.has(id)) return false;
    this.switchTo(id);
    return true;
  }

  private onMessage(msg: ServerMessage): void {
    let handled = false;
    for (const fn of this.interceptors) if (fn(msg) === true) handled = true;
    if (handled) return;
    switch (msg.type) {
      case "conversation_changed": {
        // A session key started a new conversation; its events follow.
        this.summary = msg.conversation;
        this.abandoned.delete(msg.conversation.id);
        this.switchTo(msg.conversation.id);
        this.replaying = false;
        this.changed();
        break;
      }
      case "visitor_welcome": {
        if (msg.token && msg.token !== this.token) this.opts.storage.set(TOKEN_KEY, msg.token);
        this.summary = msg.conversation;
        this.available = msg.agents_available;
        this.privateSelectors = msg.private_selectors;
        const id = msg.conversation ? msg.conversation.id : null;
        const switched = id !== this.transcript.conversationId;
        if (switched) {
          this.abandoned.delete(id ?? "");
          this.switchTo(id);
        }
        this.welcomed = true;
        this.everOnline = true;
        this.link = "online";
        this.notice = null;
        this.conn.markHealthy();
        // Before the messages waiting to go: a conversation they start carries the identity.
        this.sendIdentity();
        if (this.pageUnsaid) this.pageChanged();
        this.replaying = !!id;
        this.syncsPending = id && switched && this.helloAfterSeq > 0 ? 2 : 0;
        if (id && switched && this.helloAfterSeq > 0) {
          // The server replayed a different conversation from our after_seq: fetch it all.
          this.conn.send({ type: "sync", conversation: id, after_seq: 0 });
        }
        for (const item of this.transcript.pending()) this.transmit(item);
        this.changed();
        break;
      }
      case "event": {
        if (!this.accept(msg.conversation)) return;
        const isNew = this.transcript.addEvent(msg.event);
        // Live events come in order: one arriving means every earlier one this
        // visitor may see has arrived (the gaps are agents' notes). `accept` made
        // this conversation the transcript's.
        if (!this.replaying) this.transcript.markComplete(msg.event.seq);
        if (!isNew) return;
        const e = msg.event;
        if (e.kind === "message" && e.from === "agent") this.typingIn.set(false);
        if (e.kind === "closed") {
          this.typingIn.set(false);
          this.typingOut.stop();
        }
        for (const fn of this.eventListeners) fn(e, !this.replaying);
        break;
      }
      case "privacy_changed":
        this.privateSelectors = msg.private_selectors;
        this.changed();
        break;
      case "availability":
        this.available = msg.agents_available;
        this.changed();
        break;
      case "synced":
        if (msg.conversation === this.transcript.conversationId && --this.syncsPending <= 0) {
          this.syncsPending = 0;
          // Everything up to last_seq that a visitor may see is here (notes are not).
          this.transcript.markComplete(msg.last_seq);
          this.replaying = false;
          this.changed();
        }
        break;
      case "ack":
        if (!this.accept(msg.conversation)) return;
        this.transcript.ack(msg.client_id, msg.seq);
        break;
      case "typing":
        if (msg.conversation === this.transcript.conversationId && msg.from === "agent") this.typingIn.set(msg.active);
        break;
      case "error":
        if (msg.client_id && this.transcript.fail(msg.client_id, msg.code)) break;
        this.notice = msg.code;
        this.changed();
        break;
      default:
        break;
    }
  }
}

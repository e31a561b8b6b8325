// The agent's side of the protocol, without any DOM: the queue of waiting
// conversations, the agent's own conversations with their transcripts, unread
// counts, outboxes and typing. The console renders it.

import {
  PROTOCOL_VERSION,
  type AgentPresence,
  type AgentRef,
  type ClientFrame,
  type ClientMessage,
  type ConversationSummary,
  type ErrorCode,
  type Event,
  type InviteRole,
  type MessageBody,
  type Permissions,
  type ServerMessage,
} from "../protocol.gen";
import { Connection, type ConnectionState, type SocketFactory, type Timers } from "./connection";
import { MAX_LINK_TITLE_CHARS, checkLink, checkText, ellipsize, sentence } from "./format";
import { newClientId } from "./ids";
import { Transcript } from "./transcript";
import { TypingIndicator, TypingSender } from "./typing";

export interface ConversationEntry {
  summary: ConversationSummary;
  transcript: Transcript;
  /** Visitor messages that arrived while another conversation was selected. */
  unread: number;
  /** A replay is under way (events are not counted as unread). */
  syncing: boolean;
  /** The transcript has been replayed at least once since the last welcome. */
  synced: boolean;
  /** We asked to accept it and wait for the answer. */
  accepting: boolean;
  /** The visitor is typing. */
  visitorTyping: TypingIndicator;
  typingOut: TypingSender;
  /** We are in it as a colleague's invitee, in this role (kept once it closes, until dismissed). */
  invitedAs: InviteRole | null;
}

export type AgentLink = "idle" | "connecting" | "online" | "reconnecting" | "stopped";

export interface AgentSessionOptions {
  wsUrl: string;
  createSocket?: SocketFactory;
  timers?: Timers;
  now?: () => number;
  /** Where the agent's Away choice is kept between page loads (the console: localStorage). */
  awayStore?: { get(): boolean; set(away: boolean): void };
}

export type SendCheck = { ok: true } | { ok: false; reason: string };

// The request reference: every client frame may carry `"ref"` next to `"type"`
// (`ClientFrame`), and an `error` refusing that frame echoes it, so an error can be
// matched to the request it answers.
type OutgoingFrame = ClientFrame;

/** A request whose refusal the session acts on, by the reference it was sent with. */
type PendingRequest =
  | { kind: "accept"; conversation: string }
  | { kind: "away"; conversation: null; was: boolean }
  | { kind: "transfer"; conversation: string; to: string | null };

export class AgentSession {
  me: AgentRef | null = null;
  isAdmin = false;
  /** What this agent may use (their permissions and the site policy's); the server decides. */
  permissions: Permissions = { screen_share: true, cobrowse: true, remote_control: true, session_keys: true };
  /** Whether it is within the office hours (always without any); outside them visitors are told no one is available. */
  officeOpen = true;
  /** Away: not answering visitors (they are told whether anyone is available). */
  away = false;
  link: AgentLink = "idle";
  selected: string | null = null;
  /** A message for the agent (cleared by the UI). */
  notice: { text: string; at: number } | null = null;
  readonly conversations = new Map<string, ConversationEntry>();
  /** Colleagues with a console open, as the server last listed them (null: asked, not answered). */
  agents: AgentPresence[] | null = null;
  /** Conversations we are handing over, to whom (null: the queue), until the server answers. */
  readonly handingOver = new Map<string, string | null>();
  /** Conversations we asked to leave, until the server answers. */
  private readonly leaving = new Set<string>();
  private readonly conn: Connection<ServerMessage, OutgoingFrame>;
  private readonly opts: AgentSessionOptions;
  private readonly now: () => number;
  private welcomed = false;
  private everOnline = false;
  private listeners = new Set<() => void>();
  private waitingListeners = new Set<(entry: ConversationEntry) => void>();
  private handoverListeners = new Set<(entry: ConversationEntry, event: Event & { kind: "transferred" }) => void>();
  /** Conversations that became ours without our accepting them, until their history arrives. */
  private readonly handedIn = new Set<string>();
  private messageListeners = new Set<(entry: ConversationEntry, event: Event) => void>();
  private authListeners = new Set<() => void>();
  private linkFailureListeners = new Set<(failures: number) => void>();
  private rawListeners = new Set<(msg: ServerMessage) => void>();
  /** Requests sent on this connection and not yet answered, by their `ref`. */
  private readonly pending = new Map<string, PendingRequest>();
  private refCount = 0;

  constructor(opts: AgentSessionOptions) {
    this.opts = opts;
    this.now = opts.now ?? (() => Date.now());
    this.away = opts.awayStore?.get() ?? false;
    this.conn = new Connection<ServerMessage, OutgoingFrame>({
      url: opts.wsUrl,
      hello: () => {
        this.welcomed = false;
        return { type: "agent_hello", protocol: PROTOCOL_VERSION, away: this.away };
      },
      onMessage: (m) => this.onMessage(m),
      onState: (s, info) => this.onConnState(s, info.attempt),
      // 4001: the server ended this agent's sessions (logged out, disabled).
      onClose: (code) => {
        if (code !== 4001) return true;
        queueMicrotask(() => {
          for (const fn of this.authListeners) fn();
        });
        return false;
      },
      createSocket: opts.createSocket,
      timers: opts.timers,
    });
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  /** A conversation newly joined the queue (live, after the first welcome). */
  onNewWaiting(fn: (entry: ConversationEntry) => void): () => void {
    this.waitingListeners.add(fn);
    return () => this.waitingListeners.delete(fn);
  }
  /**
   * A colleague (or an admin) handed us a conversation: `event` is the hand-over,
   * with its note. Told once the conversation's history has arrived.
   */
  onHandedToMe(fn: (entry: ConversationEntry, event: Event & { kind: "transferred" }) => void): () => void {
    this.handoverListeners.add(fn);
    return () => this.handoverListeners.delete(fn);
  }
  /** A live visitor message in one of our conversations. */
  onVisitorMessage(fn: (entry: ConversationEntry, event: Event) => void): () => void {
    this.messageListeners.add(fn);
    return () => this.messageListeners.delete(fn);
  }
  /** The server says we are not (or no longer) logged in. */
  onAuthLost(fn: () => void): () => void {
    this.authListeners.add(fn);
    return () => this.authListeners.delete(fn);
  }
  /** Consecutive failed connection attempts (the UI may check the session). */
  onLinkFailure(fn: (failures: number) => void): () => void {
    this.linkFailureListeners.add(fn);
    return () => this.linkFailureListeners.delete(fn);
  }

  /** Every server message, after the session handled it (screen sharing uses this). */
  onServerMessage(fn: (msg: ServerMessage) => void): () => void {
    this.rawListeners.add(fn);
    return () => this.rawListeners.delete(fn);
  }

  /** Send a message if connected and welcomed; false otherwise. */
  send(msg: ClientMessage): boolean {
    return this.welcomed && this.conn.send(msg);
  }

  /** Show a message to the agent (a toast). */
  say(text: string): void {
    this.setNotice(text);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  start(): void {
    if (this.link === "idle" || this.link === "stopped") {
      this.link = "connecting";
      this.conn.start();
    }
  }

  stop(): void {
    this.conn.stop();
    for (const e of this.conversations.values()) {
      e.typingOut.stop();
      e.visitorTyping.set(false);
    }
    this.link = "stopped";
    this.changed();
  }

  reconnectNow(): void {
    this.conn.reconnectNow();
  }

  /** Waiting conversations, oldest first. */
  waiting(): ConversationEntry[] {
    return [...this.conversations.values()]
      .filter((e) => e.summary.status === "waiting")
      .sort((a, b) => a.summary.created_at - b.summary.created_at || (a.summary.id < b.summary.id ? -1 : 1));
  }

  /**
   * This agent's conversations (active, and closed ones not yet dismissed), and
   * those a colleague invited them into, newest first.
   */
  mine(): ConversationEntry[] {
    return [...this.conversations.values()]
      .filter((e) => e.summary.status !== "waiting" && (this.isMine(e.summary) || e.invitedAs !== null))
      .sort((a, b) => b.summary.created_at - a.summary.created_at || (a.summary.id < b.summary.id ? -1 : 1));
  }

  unreadTotal(): number {
    let n = 0;
    for (const e of this.conversations.values()) n += e.unread;
    return n;
  }

  get(id: string): ConversationEntry | undefined {
    return this.conversations.get(id);
  }

  isMine(s: ConversationSummary): boolean {
    return !!(this.me && s.agent && s.agent.id === this.me.id);
  }

  /** How a colleague invited us into this conversation, if they did (and it is still active). */
  invitedRole(s: ConversationSummary): InviteRole | null {
    const me = this.me;
    return (me && s.invitees?.find((i) => i.agent.id === me.id)?.role) || null;
  }

  /** Whether we may write in it: ours, or we take part in it, while it is active. */
  mayWrite(s: ConversationSummary): boolean {
    return s.status === "active" && (this.isMine(s) || this.invitedRole(s) === "participant");
  }

  /**
   * Invite a colleague (online) into one of our conversations, read-only
   * (`observer`) or taking part (`participant`), or change their role; with a
   * note only agents see. The server decides (the owner or an admin may).
   */
  invite(id: string, agent: number, role: InviteRole, note: string): SendCheck {
    const e = this.conversations.get(id);
    if (!e || e.summary.status !== "active" || !(this.isMine(e.summary) || this.isAdmin)) return { ok: false, reason: "This conversation is not open." };
    const text = note.trim();
    if (text && !checkText(text).ok) return { ok: false, reason: "The note is too long." };
    if (!this.send({ type: "invite", conversation: id, agent, role, note: text || null })) return { ok: false, reason: "Not connected. Try again in a moment." };
    return { ok: true };
  }

  /** Take an invitee out of one of our conversations. */
  uninvite(id: string, agent: number): boolean {
    return this.send({ type: "uninvite", conversation: id, agent });
  }

  /** Leave a conversation we were invited into. */
  leave(id: string): boolean {
    const e = this.conversations.get(id);
    if (!e || !this.invitedRole(e.summary)) return false;
    e.typingOut.stop();
    if (!this.send({ type: "leave", conversation: id })) return false;
    this.leaving.add(id);
    return true;
  }

  select(id: string | null): void {
    this.selected = id;
    const e = id ? this.conversations.get(id) : undefined;
    if (e) {
      e.unread = 0;
      // Waiting conversations can be read before accepting them.
      if (this.needsSync(e)) this.sync(e);
    }
    this.changed();
  }

  accept(id: string): void {
    const e = this.conversations.get(id);
    if (!e || e.summary.status !== "waiting") return;
    const ref = `accept-${++this.refCount}`;
    e.accepting = true;
    if (this.conn.send({ type: "accept", conversation: id, ref })) {
      this.pending.set(ref, { kind: "accept", conversation: id });
    } else {
      e.accepting = false;
      this.setNotice("Not connected. Try again in a moment.");
    }
    this.changed();
  }

  /** Forget the pending requests about a conversation (answered, or gone). */
  private settle(conversation: string): void {
    for (const [ref, req] of this.pending) if (req.conversation === conversation) this.pending.delete(ref);
  }

  close(id: string): void {
    const e = this.conversations.get(id);
    if (!e || e.summary.status !== "active") return;
    e.typingOut.stop();
    if (!this.conn.send({ type: "close", conversation: id })) this.setNotice("Not connected. Try again in a moment.");
  }

  /** Ask the server who is online to hand a conversation to (the answer updates `agents`). */
  listAgents(): void {
    this.agents = null;
    if (!this.send({ type: "list_agents" })) this.setNotice("Not connected. Try again in a moment.");
    this.changed();
  }

  /**
   * Hand one of our conversations to a colleague (`to`, their display name for
   * the notice in `toName`), or back to the queue (`to` null), with a note only
   * agents see. Whatever the visitor granted us ends (the server does it).
   */
  transfer(id: string, to: number | null, toName: string | null, note: string): SendCheck {
    const e = this.conversations.get(id);
    if (!e || e.summary.status !== "active" || !this.isMine(e.summary)) return { ok: false, reason: "This conversation is not open." };
    const text = note.trim();
    if (text && !checkText(text).ok) return { ok: false, reason: "The note is too long." };
    const ref = `transfer-${++this.refCount}`;
    if (!this.welcomed || !this.conn.send({ type: "transfer", conversation: id, to, note: text || null, ref })) return { ok: false, reason: "Not connected. Try again in a moment." };
    e.typingOut.stop();
    this.pending.set(ref, { kind: "transfer", conversation: id, to: toName });
    this.handingOver.set(id, toName);
    this.changed();
    return { ok: true };
  }

  /** Write an internal note in one of our conversations: agents see it, the visitor never does. */
  sendNote(id: string, raw: string): SendCheck {
    const e = this.conversations.get(id);
    if (!e || !this.mayWrite(e.summary)) return { ok: false, reason: "This conversation is not open." };
    const c = checkText(raw);
    if (!c.ok) return { ok: false, reason: c.reason === "empty" ? "Write a note first." : "The note is too long." };
    if (!this.send({ type: "note", conversation: id, client_id: newClientId(), text: raw })) return { ok: false, reason: "Not connected. Try again in a moment." };
    return { ok: true };
  }

  /** Remove a closed conversation from the list. */
  dismiss(id: string): void {
    const e = this.conversations.get(id);
    if (!e || e.summary.status !== "closed") return;
    this.conversations.delete(id);
    if (this.selected === id) this.selected = null;
    this.changed();
  }

  checkText(id: string, raw: string): SendCheck {
    const e = this.conversations.get(id);
    if (!e || !this.mayWrite(e.summary)) return { ok: false, reason: "This conversation is not open." };
    const c = checkText(raw);
    if (!c.ok) return { ok: false, reason: c.reason === "empty" ? "Write a message first." : "The message is too long." };
    return { ok: true };
  }

  sendText(id: string, raw: string): SendCheck {
    const check = this.checkText(id, raw);
    if (!check.ok) return check;
    this.post(id, { kind: "text", text: raw });
    return check;
  }

  sendLink(id: string, rawUrl: string, rawTitle: string): SendCheck {
    const e = this.conversations.get(id);
    if (!e || !this.mayWrite(e.summary)) return { ok: false, reason: "This conversation is not open." };
    const link = checkLink(rawUrl);
    if (!link.ok) {
      const reasons = {
        empty: "Enter a URL.",
        invalid: "That is not a valid URL.",
        scheme: "Only http and https links can be sent.",
        too_long: "The URL is too long.",
      };
      return { ok: false, reason: reasons[link.reason] };
    }
    const title = rawTitle.trim();
    this.post(id, { kind: "link", url: link.url, title: title ? ellipsize(title, MAX_LINK_TITLE_CHARS) : null });
    return { ok: true };
  }

  retry(id: string, clientId: string): void {
    const e = this.conversations.get(id);
    const item = e?.transcript.retry(clientId);
    if (e && item) this.transmit(id, item.clientId, item.body);
  }

  discard(id: string, clientId: string): void {
    this.conversations.get(id)?.transcript.discard(clientId);
  }

  typing(id: string, empty: boolean): void {
    this.conversations.get(id)?.typingOut.input(empty);
  }

  private post(id: string, body: MessageBody): void {
    const e = this.conversations.get(id);
    if (!e) return;
    e.typingOut.stop();
    const item = e.transcript.enqueue(newClientId(), body, this.now());
    this.transmit(id, item.clientId, item.body);
  }

  private transmit(id: string, clientId: string, body: MessageBody): void {
    if (!this.welcomed) return; // sent after the next welcome
    this.conn.send({ type: "send", conversation: id, client_id: clientId, body });
  }

  private setNotice(text: string): void {
    this.notice = { text, at: this.now() };
    this.changed();
  }

  private onConnState(s: ConnectionState, attempt: number): void {
    if (s === "open" || s === "connecting") this.link = this.everOnline ? "reconnecting" : "connecting";
    else if (s === "waiting") {
      this.welcomed = false;
      this.link = "reconnecting";
      for (const e of this.conversations.values()) {
        e.visitorTyping.set(false);
        e.syncing = false;
      }
      // Answers come on the connection a request was sent on; that one is gone.
      this.pending.clear();
      for (const fn of this.linkFailureListeners) fn(attempt);
    } else this.link = "stopped";
    this.changed();
  }

  private newEntry(summary: ConversationSummary): ConversationEntry {
    const entry: ConversationEntry = {
      summary,
      transcript: new Transcript(summary.id),
      unread: 0,
      syncing: false,
      synced: false,
      accepting: false,
      invitedAs: null,
      visitorTyping: new TypingIndicator(() => this.changed(), this.opts.timers),
      typingOut: new TypingSender(
        (active) => {
          if (this.mayWrite(entry.summary)) this.conn.send({ type: "typing", conversation: summary.id, active });
        },
        this.now,
        this.opts.timers,
      ),
    };
    entry.transcript.subscribe(() => this.changed());
    return entry;
  }

  /** The server has events we lack (and we are not already fetching them). */
  private needsSync(e: ConversationEntry): boolean {
    return this.welcomed && !e.syncing && e.summary.last_seq > e.transcript.lastSeq;
  }

  private sync(entry: ConversationEntry): void {
    if (!this.welcomed) return;
    entry.syncing = true;
    this.conn.send({ type: "sync", conversation: entry.summary.id, after_seq: entry.transcript.lastSeq });
  }

  private upsert(summary: ConversationSummary): ConversationEntry {
    let e = this.conversations.get(summary.id);
    if (e) e.summary = summary;
    else {
      e = this.newEntry(summary);
      this.conversations.set(summary.id, e);
    }
    return e;
  }

  private remove(id: string, why: string | null): void {
    const e = this.conversations.get(id);
    if (!e) return;
    e.typingOut.stop();
    e.visitorTyping.set(false);
    this.conversations.delete(id);
    this.settle(id);
    if (this.selected === id) {
      this.selected = null;
      if (why) this.setNotice(why);
    }
  }

  private onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case "agent_welcome":
        this.keepAway(msg.away);
        this.permissions = msg.permissions;
        this.officeOpen = msg.office_open;
        this.onWelcome(msg.agent, msg.is_admin, msg.conversations);
        break;
      case "permissions_changed":
        this.permissions = msg.permissions;
        this.changed();
        break;
      case "away_changed":
        this.keepAway(msg.away);
        this.changed();
        break;
      case "office_hours":
        this.officeOpen = msg.open;
        this.changed();
        break;
      case "conversation_updated":
        this.onUpdated(msg.conversation);
        break;
      case "agents":
        this.agents = msg.agents;
        this.changed();
        break;
      case "event": {
        const e = this.conversations.get(msg.conversation);
        if (!e) return;
        if (!e.transcript.addEvent(msg.event)) return;
        const ev = msg.event;
        const s = e.summary;
        if (ev.seq > s.last_seq) e.summary = { ...s, last_seq: ev.seq, last_activity_at: Math.max(s.last_activity_at, ev.at) };
        if (ev.kind === "message") {
          if (ev.body.kind === "text") e.summary = { ...e.summary, preview: ellipsize(ev.body.text, 120) };
          else if (ev.body.kind === "link") e.summary = { ...e.summary, preview: ev.body.title || ev.body.url };
          else e.summary = { ...e.summary, preview: "Image" };
          if (ev.from === "visitor") {
            e.visitorTyping.set(false);
            if (!e.syncing) {
              if (this.selected !== msg.conversation) e.unread++;
              for (const fn of this.messageListeners) fn(e, ev);
            }
          }
        } else if (ev.kind === "closed") {
          e.summary = { ...e.summary, status: "closed" };
          e.visitorTyping.set(false);
          e.typingOut.stop();
        } else if (ev.kind === "agent_joined" && e.summary.status === "waiting") {
          e.summary = { ...e.summary, status: "active", agent: ev.agent };
        } else if (ev.kind === "transferred" && ev.seq === e.summary.last_seq) {
          // Only the newest hand-over says whose it is (a replay brings older ones).
          e.summary = { ...e.summary, status: ev.agent ? "active" : "waiting", agent: ev.agent };
        }
        this.changed();
        break;
      }
      case "synced": {
        const e = this.conversations.get(msg.conversation);
        if (e) {
          e.syncing = false;
          e.synced = true;
          if (this.handedIn.delete(msg.conversation)) this.toldHandover(e);
          // Events may have happened meanwhile that were not sent to us live
          // (a waiting conversation's messages reach agents only as summaries).
          if (this.needsSync(e)) this.sync(e);
          this.changed();
        }
        break;
      }
      case "ack": {
        const e = this.conversations.get(msg.conversation);
        if (e) e.transcript.ack(msg.client_id, msg.seq);
        break;
      }
      case "typing": {
        const e = this.conversations.get(msg.conversation);
        if (e && msg.from === "visitor") e.visitorTyping.set(msg.active);
        break;
      }
      case "error":
        this.onError(msg.code, msg.message, msg.client_id, msg.ref ?? null);
        break;
      default:
        break;
    }
    for (const fn of this.rawListeners) fn(msg);
  }

  /** Away or Available: kept, told to the server (and so to the agent's other consoles). */
  setAway(away: boolean): void {
    const was = this.away;
    this.keepAway(away);
    const ref = `away-${++this.refCount}`;
    if (this.welcomed && this.conn.send({ type: "set_away", away, ref })) this.pending.set(ref, { kind: "away", conversation: null, was });
    this.changed();
  }

  private keepAway(away: boolean): void {
    this.away = away;
    this.opts.awayStore?.set(away);
  }

  private onWelcome(agent: AgentRef, isAdmin: boolean, list: ConversationSummary[]): void {
    const first = !this.everOnline;
    this.me = agent;
    this.isAdmin = isAdmin;
    this.welcomed = true;
    this.everOnline = true;
    this.link = "online";
    this.conn.markHealthy();
    this.pending.clear();
    const ids = new Set(list.map((s) => s.id));
    for (const [id, e] of [...this.conversations]) {
      if (ids.has(id)) continue;
      if (this.isMine(e.summary) || e.invitedAs !== null) {
        // Our conversations only leave the list by being closed.
        if (e.summary.status !== "closed") e.summary = { ...e.summary, status: "closed" };
      } else {
        this.remove(id, null);
      }
    }
    for (const s of list) {
      const known = this.conversations.get(s.id);
      const wasWaiting = known?.summary.status === "waiting";
      const e = this.upsert(s);
      e.accepting = false;
      e.synced = false;
      e.invitedAs = this.invitedRole(s);
      if (this.isMine(s) || e.invitedAs === "participant") {
        this.sync(e);
        for (const item of e.transcript.pending()) this.transmit(s.id, item.clientId, item.body);
      } else if (e.invitedAs) {
        this.sync(e);
      } else if (s.status === "waiting") {
        if (this.selected === s.id) this.sync(e);
        if (!wasWaiting && !first) for (const fn of this.waitingListeners) fn(e);
      }
    }
    this.changed();
  }

  /** The newest hand-over of `e`, if it gave the conversation to us: the listeners hear it. */
  private toldHandover(e: ConversationEntry): void {
    const events = e.transcript.getEvents();
    for (let i = events.length - 1; i >= 0; i--) {
      const ev = events[i];
      if (ev.kind !== "transferred") continue;
      if (ev.agent && ev.agent.id === this.me?.id && ev.by.id !== this.me.id) for (const fn of this.handoverListeners) fn(e, ev);
      return;
    }
  }

  private onUpdated(s: ConversationSummary): void {
    const prev = this.conversations.get(s.id);
    const handedTo = this.handingOver.get(s.id);
    if (handedTo !== undefined && !this.isMine(s)) {
      this.handingOver.delete(s.id);
      this.settle(s.id);
      if (this.selected === s.id) this.setNotice(handedTo ? `Handed to ${handedTo}.` : "Back in the queue.");
      if (s.status === "active") {
        this.remove(s.id, null);
        this.changed();
        return;
      }
    }
    // A closed conversation we do not list (never ours, or dismissed) stays away.
    if (s.status === "closed" && !prev) return;
    if (s.status === "waiting") {
      const e = this.upsert(s);
      e.invitedAs = null;
      if (!prev || prev.summary.status !== "waiting") for (const fn of this.waitingListeners) fn(e);
      if (this.selected === s.id && this.needsSync(e)) this.sync(e);
    } else if (this.isMine(s)) {
      const wasMine = !!prev && this.isMine(prev.summary);
      const e = this.upsert(s);
      // Handed to us after we were invited in: ours now.
      e.invitedAs = null;
      // Ours without our accepting it: a hand-over (or a caller's session key:
      // the history tells which). Told when the history is here.
      const handedIn = !wasMine && !e.accepting && s.status === "active" && this.welcomed;
      if (e.accepting) {
        e.accepting = false;
        this.settle(s.id);
        if (this.selected === null || this.selected === s.id) this.selected = s.id;
      }
      if (this.needsSync(e)) {
        if (handedIn) this.handedIn.add(s.id);
        this.sync(e);
      } else if (handedIn) {
        this.toldHandover(e);
      }
      if (s.status === "closed") {
        e.visitorTyping.set(false);
        e.typingOut.stop();
      }
    } else if (this.invitedRole(s)) {
      // A colleague invited us in (or changed our role, or it changed hands).
      const e = this.upsert(s);
      e.invitedAs = this.invitedRole(s);
      if (this.needsSync(e)) this.sync(e);
    } else if (prev?.invitedAs && s.status === "closed") {
      // Closed while we were in it: it stays in our list, closed, until dismissed.
      this.upsert(s);
      prev.visitorTyping.set(false);
      prev.typingOut.stop();
    } else if (prev?.invitedAs) {
      const owner = s.agent ? s.agent.display_name : "the agent handling it";
      const left = this.leaving.delete(s.id);
      this.remove(s.id, left ? "You left the conversation." : `You are no longer in this conversation (ask ${owner} to invite you again).`);
    } else if (prev) {
      const by = s.agent ? s.agent.display_name : "another agent";
      this.remove(s.id, s.status === "active" ? `This conversation was taken by ${by}.` : "The visitor left before anyone answered.");
    }
    this.changed();
  }

  private onError(code: ErrorCode, message: string, clientId: string | null, ref: string | null): void {
    if (clientId) {
      for (const e of this.conversations.values()) if (e.transcript.fail(clientId, sentence(message))) return;
    }
    if (code === "not_authenticated") {
      this.conn.stop();
      this.link = "stopped";
      for (const fn of this.authListeners) fn();
      this.changed();
      return;
    }
    // Only the request this error names is affected; an error without a reference
    // (or with one we did not send) touches no conversation.
    const req = ref !== null ? this.pending.get(ref) : undefined;
    if (ref !== null && req) {
      this.pending.delete(ref);
      // Refused (switched too quickly): the server's choice stands.
      if (req.kind === "away") this.keepAway(req.was);
      if (req.kind === "transfer") this.handingOver.delete(req.conversation);
      const e = req.kind === "accept" ? this.conversations.get(req.conversation) : undefined;
      if (req.kind === "accept" && e?.accepting) {
        e.accepting = false;
        if (code === "invalid_state" || code === "not_found" || code === "forbidden") {
          // Another agent was quicker, or the visitor left.
          this.remove(e.summary.id, null);
        }
      }
    }
    this.setNotice(sentence(message) || "The server refused the request.");
  }
}

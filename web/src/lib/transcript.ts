// One conversation as a client sees it: the server's events ordered by sequence
// number, plus an outbox of our own messages that the server has not confirmed yet.
// No DOM access.

import type { Event, MessageBody } from "../protocol.gen";

export type OutboxState = "pending" | "acked" | "failed";

export interface OutboxItem {
  clientId: string;
  body: MessageBody;
  state: OutboxState;
  /** Set once acked: where the server stored it. */
  seq?: number;
  /** Set when failed: the server's (or our) reason. */
  error?: string;
  /** Local time the message was written, for display until the event arrives. */
  createdAt: number;
}

export type TranscriptItem =
  | { type: "event"; seq: number; event: Event }
  | { type: "outbox"; item: OutboxItem };

export class Transcript {
  /** The conversation these events belong to; null before the first message. */
  conversationId: string | null;
  private events = new Map<number, Event>();
  private sorted: Event[] | null = [];
  private contiguous = 0;
  private max = 0;
  private outbox: OutboxItem[] = [];
  private seenClientIds = new Set<string>();
  private listeners = new Set<() => void>();
  /** Bumped on every change; lets renderers skip work. */
  version = 0;

  constructor(conversationId: string | null = null) {
    this.conversationId = conversationId;
  }

  /** Subscribe to changes; returns an unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }

  /**
   * Highest seq up to which every event is present. Use as `after_seq` when asking
   * the server for a replay, so that any gap is filled.
   */
  get lastSeq(): number {
    return this.contiguous;
  }

  /** Highest seq present. */
  get maxSeq(): number {
    return this.max;
  }

  get size(): number {
    return this.events.size;
  }

  has(seq: number): boolean {
    return this.events.has(seq);
  }

  /** Add a server event. Returns false (and changes nothing) if its seq is known. */
  addEvent(event: Event): boolean {
    if (!Number.isSafeInteger(event.seq) || event.seq < 1) return false;
    if (this.events.has(event.seq)) return false;
    this.events.set(event.seq, event);
    if (event.seq > this.max) this.max = event.seq;
    while (this.events.has(this.contiguous + 1)) this.contiguous++;
    if (this.sorted && (this.sorted.length === 0 || this.sorted[this.sorted.length - 1].seq < event.seq)) {
      this.sorted.push(event);
    } else {
      this.sorted = null;
    }
    if (event.kind === "message") {
      this.seenClientIds.add(event.client_id);
      // Our own message is now part of the transcript: drop it from the outbox.
      const i = this.outbox.findIndex((o) => o.clientId === event.client_id);
      if (i >= 0) this.outbox.splice(i, 1);
    }
    this.changed();
    return true;
  }

  /**
   * The server says every event up to `seq` that this reader may see has been
   * delivered (a replay's `synced`, or a live event on a socket that delivers in
   * order). A visitor's seqs have gaps where agents' internal notes are: without
   * this, `lastSeq` would stop at the first note and every reconnect would
   * replay everything after it again.
   */
  markComplete(seq: number): void {
    if (!Number.isSafeInteger(seq) || seq <= this.contiguous) return;
    this.contiguous = seq;
    while (this.events.has(this.contiguous + 1)) this.contiguous++;
  }

  /** Add several events (e.g. a replay); returns how many were new. */
  addEvents(events: Event[]): number {
    let n = 0;
    for (const e of events) if (this.addEvent(e)) n++;
    return n;
  }

  /** Events ordered by seq. */
  getEvents(): Event[] {
    if (!this.sorted) this.sorted = [...this.events.values()].sort((a, b) => a.seq - b.seq);
    return this.sorted;
  }

  lastEvent(): Event | undefined {
    const ev = this.getEvents();
    return ev[ev.length - 1];
  }

  /** Queue one of our messages; it stays `pending` until acked. */
  enqueue(clientId: string, body: MessageBody, now: number = Date.now()): OutboxItem {
    const item: OutboxItem = { clientId, body, state: "pending", createdAt: now };
    this.outbox.push(item);
    this.changed();
    return item;
  }

  /** The outbox item with this client id, if it is still in the outbox. */
  find(clientId: string): OutboxItem | undefined {
    return this.outbox.find((o) => o.clientId === clientId);
  }

  /** Whether a message with this client id is already in the transcript. */
  hasClientId(clientId: string): boolean {
    return this.seenClientIds.has(clientId);
  }

  /**
   * The server stored our message as `seq`. Returns whether the client id was ours.
   * The item stays visible (as acked) until the matching event arrives.
   */
  ack(clientId: string, seq: number): boolean {
    const item = this.find(clientId);
    if (!item) return this.seenClientIds.has(clientId);
    if (this.events.has(seq)) {
      const ev = this.events.get(seq);
      if (ev && ev.kind === "message" && ev.client_id === clientId) {
        this.outbox.splice(this.outbox.indexOf(item), 1);
        this.changed();
        return true;
      }
    }
    item.state = "acked";
    item.seq = seq;
    item.error = undefined;
    this.changed();
    return true;
  }

  /** The server refused our message. Returns whether the client id was ours. */
  fail(clientId: string, error: string): boolean {
    const item = this.find(clientId);
    if (!item || item.state === "acked") return false;
    item.state = "failed";
    item.error = error;
    this.changed();
    return true;
  }

  /** Put a failed message back to pending; returns it so the caller can send it. */
  retry(clientId: string): OutboxItem | undefined {
    const item = this.find(clientId);
    if (!item || item.state !== "failed") return undefined;
    item.state = "pending";
    item.error = undefined;
    this.changed();
    return item;
  }

  /** Remove a failed message the user gave up on. */
  discard(clientId: string): boolean {
    const item = this.find(clientId);
    if (!item || item.state === "acked") return false;
    this.outbox.splice(this.outbox.indexOf(item), 1);
    this.changed();
    return true;
  }

  /** Messages to (re-)send, oldest first: everything pending. */
  pending(): OutboxItem[] {
    return this.outbox.filter((o) => o.state === "pending");
  }

  outboxItems(): readonly OutboxItem[] {
    return this.outbox;
  }

  /**
   * The merged view: events by seq; acked outbox items at their seq (while their
   * event has not arrived); then pending and failed items in the order written.
   */
  items(): TranscriptItem[] {
    const out: TranscriptItem[] = [];
    const acked = this.outbox.filter((o) => o.state === "acked" && o.seq !== undefined && !this.events.has(o.seq));
    acked.sort((a, b) => (a.seq as number) - (b.seq as number));
    let ai = 0;
    for (const event of this.getEvents()) {
      while (ai < acked.length && (acked[ai].seq as number) < event.seq) out.push({ type: "outbox", item: acked[ai++] });
      out.push({ type: "event", seq: event.seq, event });
    }
    while (ai < acked.length) out.push({ type: "outbox", item: acked[ai++] });
    for (const o of this.outbox) if (o.state !== "acked") out.push({ type: "outbox", item: o });
    return out;
  }

  /**
   * Forget the events (the conversation changed); keep the outbox, whose messages
   * will go to the new conversation, unless `unsent` is dropped too (another
   * person: the messages were not theirs).
   */
  reset(conversationId: string | null, dropUnsent = false): void {
    this.conversationId = conversationId;
    this.events.clear();
    this.sorted = [];
    this.contiguous = 0;
    this.max = 0;
    this.seenClientIds.clear();
    this.outbox = dropUnsent ? [] : this.outbox.filter((o) => o.state !== "acked");
    this.changed();
  }
}

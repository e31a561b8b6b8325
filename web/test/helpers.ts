// Test doubles: a manual clock and scriptable WebSockets.

import type { SocketLike, Timers } from "../src/lib/connection";
import type { StreamControl } from "../src/protocol.gen";
import type { BinarySocketLike } from "../src/lib/stream-socket";

export class FakeClock implements Timers {
  now = 1_700_000_000_000;
  private seq = 0;
  private tasks: { id: number; at: number; fn: () => void }[] = [];
  randomValue = 0.5;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.tasks.push({ id, at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.tasks = this.tasks.filter((t) => t.id !== handle);
  }
  random(): number {
    return this.randomValue;
  }
  /** Run every timer due within `ms`, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      this.tasks.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.tasks[0];
      if (!next || next.at > end) break;
      this.tasks.shift();
      this.now = next.at;
      next.fn();
    }
    this.now = end;
  }
  get pending(): number {
    return this.tasks.length;
  }
  nowFn = (): number => this.now;
}

export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }
  // Server side:
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  serverClose(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  /** Sent messages, parsed. */
  messages(): { type: string; [k: string]: unknown }[] {
    return this.sent.map((s) => JSON.parse(s));
  }
  last(): { type: string; [k: string]: unknown } {
    const m = this.messages();
    return m[m.length - 1];
  }
}

export class SocketPool {
  sockets: FakeSocket[] = [];
  factory = (url: string): FakeSocket => {
    const s = new FakeSocket(url);
    this.sockets.push(s);
    return s;
  };
  get current(): FakeSocket {
    return this.sockets[this.sockets.length - 1];
  }
}

export class MemoryStore {
  data = new Map<string, string>();
  get(k: string): string | null {
    return this.data.has(k) ? (this.data.get(k) as string) : null;
  }
  set(k: string, v: string): void {
    this.data.set(k, v);
  }
  remove(k: string): void {
    this.data.delete(k);
  }
}

/** A stream socket on the relay, scripted from the relay's side. */
export class FakeRelaySocket implements BinarySocketLike {
  readyState = 0;
  bufferedAmount = 0;
  binaryType = "blob";
  sent: (Uint8Array | string)[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: Uint8Array | string): void {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(data);
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
  /** A control message; `joined` opens the socket first. */
  control(c: StreamControl): void {
    if (c.type === "joined") {
      this.readyState = 1;
      this.onopen?.({});
    }
    this.onmessage?.({ data: JSON.stringify(c) });
  }
  /** A binary frame from the relay. */
  frame(bytes: Uint8Array): void {
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }
  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
}

// One end of a stream on the relay (`/ws/stream?token=…`, docs/protocol.md "Stream
// sockets"). No DOM access: the socket constructor and timers are injectable.
//
// A token opens one socket, so every (re)connect needs a fresh one: the owner
// asks the chat socket (`stream_join`) when `needToken` is called and hands the
// answer (`stream_granted`) to `open`. Close code 4403 means the grant is gone:
// the stream is over and nothing reconnects.

import type { StreamControl } from "../protocol.gen";
import { realTimers, type Timers } from "./connection";

export interface BinarySocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type StreamLink = "connecting" | "open" | "waiting" | "ended";

export interface StreamSocketOptions {
  /** The relay URL for a token. */
  url: (token: string) => string;
  /** Ask for a fresh token (send `stream_join`); `open` gets it. */
  needToken: () => void;
  onControl: (control: StreamControl) => void;
  onFrame?: (frame: Uint8Array) => void;
  onLink?: (link: StreamLink, info: { code?: number; reason?: string }) => void;
  createSocket?: (url: string) => BinarySocketLike;
  timers?: Timers;
  /** Most bytes queued in the socket before `send` refuses (the caller resyncs). */
  maxBuffered?: number;
}

const OPEN = 1;
/** The relay's close code for a revoked grant. */
export const REVOKED = 4403;
/** The relay's close code for a stream that has sent all it may in its life. */
export const SPENT = 4413;

export class StreamSocket {
  private socket: BinarySocketLike | null = null;
  private timer: unknown = null;
  private attempt = 0;
  private link: StreamLink = "waiting";
  private readonly timers: Timers;
  private readonly maxBuffered: number;

  constructor(private readonly opts: StreamSocketOptions) {
    this.timers = opts.timers ?? realTimers;
    this.maxBuffered = opts.maxBuffered ?? 4 * 1024 * 1024;
  }

  get state(): StreamLink {
    return this.link;
  }

  get isOpen(): boolean {
    return this.link === "open" && this.socket?.readyState === OPEN;
  }

  /** Opens a socket with a fresh token (replacing any socket still open). */
  open(token: string): void {
    if (this.link === "ended") return;
    this.clearTimer();
    this.drop();
    const create = this.opts.createSocket ?? ((url: string) => new WebSocket(url) as unknown as BinarySocketLike);
    let socket: BinarySocketLike;
    try {
      socket = create(this.opts.url(token));
    } catch {
      this.retry();
      return;
    }
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.setLink("connecting", {});
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      if (typeof ev.data === "string") {
        let control: StreamControl;
        try {
          control = JSON.parse(ev.data) as StreamControl;
        } catch {
          return;
        }
        if (control.type === "joined") {
          this.attempt = 0;
          this.setLink("open", {});
        }
        this.opts.onControl(control);
      } else if (ev.data instanceof ArrayBuffer) {
        this.opts.onFrame?.(new Uint8Array(ev.data));
      }
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (ev.code === REVOKED || ev.code === SPENT) {
        this.end(ev.code, ev.reason);
        return;
      }
      this.setLink("waiting", { code: ev.code, reason: ev.reason });
      this.retry();
    };
    socket.onerror = () => {};
  }

  /** Sends a frame; false when the socket is not open or too far behind. */
  send(frame: Uint8Array): boolean {
    const s = this.socket;
    if (!s || this.link !== "open" || s.readyState !== OPEN) return false;
    if (s.bufferedAmount > this.maxBuffered) return false;
    s.send(frame);
    return true;
  }

  /** Ends the stream from this side: no reconnecting. */
  close(): void {
    this.end(1000, "closed");
  }

  private end(code: number, reason: string): void {
    if (this.link === "ended") return;
    this.clearTimer();
    this.drop();
    this.setLink("ended", { code, reason });
  }

  private retry(): void {
    if (this.link === "ended") return;
    const base = Math.min(10_000, 250 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 8);
    const delay = base * (0.5 + this.timers.random() / 2);
    this.clearTimer();
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      if (this.link !== "ended") this.opts.needToken();
    }, delay);
  }

  private drop(): void {
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onclose = s.onmessage = s.onerror = null;
      try {
        s.close(1000, "done");
      } catch {
        // already closed
      }
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private setLink(link: StreamLink, info: { code?: number; reason?: string }): void {
    this.link = link;
    this.opts.onLink?.(link, info);
  }
}

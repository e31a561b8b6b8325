// A reconnecting WebSocket client with app-level liveness checks. No DOM access:
// the socket constructor and the timers are injectable so tests can drive it.
//
// Life cycle: connect → (socket open) send hello → messages … → socket lost →
// wait (exponential backoff with jitter, or promptly after a server restart) →
// connect again → hello again. The owner sees every parsed message except pongs,
// and state changes.

/** The subset of the browser WebSocket that the client uses. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}

/** The browser's (or Node's) own timers and randomness: the default wherever `Timers` are taken. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};

/**
 * - `connecting`: a socket is being opened (first time or again).
 * - `open`: the socket is open and the hello has been sent.
 * - `waiting`: the socket was lost; a retry is scheduled (see `retryInMs`).
 * - `stopped`: `stop()` was called, or the owner refused to reconnect.
 */
export type ConnectionState = "connecting" | "open" | "waiting" | "stopped";

export interface StateInfo {
  /** Consecutive failed attempts since the last healthy connection. */
  attempt: number;
  /** When waiting: the delay before the next attempt. */
  retryInMs?: number;
  /** When the socket closed: its close code. */
  closeCode?: number;
}

export interface ConnectionOptions<In, Out> {
  url: string | (() => string);
  /** Built anew for every (re)connect and sent as soon as the socket opens. */
  hello: () => Out;
  onMessage: (msg: In) => void;
  onState?: (state: ConnectionState, info: StateInfo) => void;
  /**
   * Called when a socket closes (or is declared dead). Return `false` to stop
   * reconnecting (e.g. the server refused our credentials).
   */
  onClose?: (code: number, reason: string) => boolean | void;
  /** Builds a ping; pongs are recognised by `isPong` and not passed to `onMessage`. */
  ping?: (nonce: number) => Out;
  isPong?: (msg: In) => boolean;
  createSocket?: SocketFactory;
  timers?: Timers;
  pingIntervalMs?: number;
  /** Unanswered pings after which the socket counts as dead. */
  maxMissedPongs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Give up on a socket that has not opened after this long. */
  connectTimeoutMs?: number;
  /** Delay range before reconnecting after close code 1012 (service restart). */
  restartDelayMs?: number;
}

const WS_OPEN = 1;

/** Backoff delay for the given attempt (0-based): base·2^attempt capped, times 0.5–1.0. */
export function backoffDelay(attempt: number, initial: number, max: number, random: number): number {
  const base = Math.min(max, initial * Math.pow(2, Math.min(attempt, 30)));
  return Math.round(base * (0.5 + 0.5 * random));
}

export class Connection<In extends { type: string }, Out> {
  private readonly opts: ConnectionOptions<In, Out>;
  private readonly timers: Timers;
  private socket: SocketLike | null = null;
  private _state: ConnectionState = "stopped";
  private attempt = 0;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private connectTimer: unknown = null;
  private missed = 0;
  private nonce = 0;
  private started = false;
  private healthy = false;

  constructor(opts: ConnectionOptions<In, Out>) {
    this.opts = opts;
    this.timers = opts.timers ?? realTimers;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** True while a socket is open and the hello has been sent. */
  get isOpen(): boolean {
    return this._state === "open";
  }

  /** Start connecting (no-op when already started). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.attempt = 0;
    this.connect();
  }

  /** Close the socket and stop reconnecting. */
  stop(): void {
    this.started = false;
    this.clearTimers();
    this.dropSocket(1000, "bye");
    this.setState("stopped", { attempt: this.attempt });
  }

  /**
   * Skip the remaining backoff and try now (e.g. the browser reports it is online
   * again, or the user clicks "retry").
   */
  reconnectNow(): void {
    if (!this.started) return;
    if (this._state === "waiting") {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.connect();
    }
  }

  /**
   * Drop the current socket as if it had died and reconnect with backoff. Used by
   * owners that detect an inconsistent state, and by the liveness check.
   */
  restart(): void {
    if (!this.started || !this.socket) return;
    this.dropSocket(4000, "restart");
    this.onSocketClosed(1006, "dropped");
  }

  /**
   * Mark the connection as healthy (the server welcomed us): resets the backoff so
   * the next loss starts again from the initial delay.
   */
  markHealthy(): void {
    this.healthy = true;
    this.attempt = 0;
  }

  /** Send a message if the socket is open. Returns whether it was handed to the socket. */
  send(msg: Out): boolean {
    if (this._state !== "open" || !this.socket || this.socket.readyState !== WS_OPEN) return false;
    try {
      this.socket.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  private url(): string {
    return typeof this.opts.url === "function" ? this.opts.url() : this.opts.url;
  }

  private setState(state: ConnectionState, info: StateInfo): void {
    this._state = state;
    this.opts.onState?.(state, info);
  }

  private clearTimers(): void {
    for (const t of [this.retryTimer, this.pingTimer, this.connectTimer]) {
      if (t !== null) this.timers.clearTimeout(t);
    }
    this.retryTimer = this.pingTimer = this.connectTimer = null;
  }

  private connect(): void {
    this.clearTimers();
    this.healthy = false;
    this.missed = 0;
    this.setState("connecting", { attempt: this.attempt });
    let socket: SocketLike;
    try {
      const factory: SocketFactory =
        this.opts.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
      socket = factory(this.url());
    } catch {
      this.onSocketClosed(1006, "constructor failed");
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      if (this.connectTimer !== null) this.timers.clearTimeout(this.connectTimer);
      this.connectTimer = null;
      this.setState("open", { attempt: this.attempt });
      this.send(this.opts.hello());
      this.schedulePing();
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.missed = 0;
      if (typeof ev.data !== "string") return;
      let msg: In;
      try {
        msg = JSON.parse(ev.data) as In;
      } catch {
        return;
      }
      if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return;
      if (this.opts.isPong ? this.opts.isPong(msg) : msg.type === "pong") return;
      this.opts.onMessage(msg);
    };
    socket.onerror = () => {
      // Always followed by a close event.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.onSocketClosed(ev.code, ev.reason);
    };
    const timeout = this.opts.connectTimeoutMs ?? 10000;
    this.connectTimer = this.timers.setTimeout(() => {
      this.connectTimer = null;
      if (this.socket === socket && this._state === "connecting") {
        this.dropSocket(4000, "connect timeout");
        this.onSocketClosed(1006, "connect timeout");
      }
    }, timeout);
  }

  private schedulePing(): void {
    const interval = this.opts.pingIntervalMs ?? 20000;
    const maxMissed = this.opts.maxMissedPongs ?? 2;
    this.pingTimer = this.timers.setTimeout(() => {
      this.pingTimer = null;
      if (this._state !== "open" || !this.socket) return;
      if (this.missed >= maxMissed) {
        // Nothing heard for maxMissed intervals: the socket is dead even if the
        // browser has not noticed (e.g. a silently dropped TCP connection).
        this.dropSocket(4000, "no pong");
        this.onSocketClosed(1006, "no pong");
        return;
      }
      this.missed++;
      this.nonce++;
      const ping = this.opts.ping ? this.opts.ping(this.nonce) : ({ type: "ping", nonce: this.nonce } as unknown as Out);
      this.send(ping);
      this.schedulePing();
    }, interval);
  }

  /** Detach from the current socket and close it without waiting for its close event. */
  private dropSocket(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
    try {
      socket.close(code, reason);
    } catch {
      // A socket that is still connecting may throw on some browsers.
    }
  }

  private onSocketClosed(code: number, reason: string): void {
    this.clearTimers();
    if (!this.started) return;
    if (this.opts.onClose?.(code, reason) === false) {
      this.started = false;
      this.setState("stopped", { attempt: this.attempt, closeCode: code });
      return;
    }
    if (!this.healthy) this.attempt++;
    this.healthy = false;
    const initial = this.opts.initialBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 15000;
    let delay: number;
    if (code === 1012) {
      // Service restart: the server is coming back right away. If it is not
      // up yet, the next failure falls back to the normal backoff.
      const r = this.opts.restartDelayMs ?? 250;
      delay = Math.round(r * (0.5 + this.timers.random()));
    } else {
      delay = backoffDelay(this.attempt, initial, max, this.timers.random());
    }
    this.setState("waiting", { attempt: this.attempt, retryInMs: delay, closeCode: code });
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }
}

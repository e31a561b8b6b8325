// Typing notifications: throttled sending and self-expiring display. No DOM.

import { realTimers, type Timers } from "./connection";

/**
 * Turns keystrokes into `typing` messages: `true` on the first keystroke and again
 * every `refreshMs` while typing continues, `false` after `idleMs` without input or
 * when the message is sent.
 */
export class TypingSender {
  private active = false;
  private lastSent = 0;
  private idleTimer: unknown = null;

  constructor(
    private readonly send: (active: boolean) => void,
    private readonly now: () => number = () => Date.now(),
    private readonly timers: Timers = realTimers,
    private readonly refreshMs = 3000,
    private readonly idleMs = 4000,
  ) {}

  /** Call on every input event. `empty` stops typing (the field was cleared). */
  input(empty = false): void {
    if (empty) {
      this.stop();
      return;
    }
    const t = this.now();
    if (!this.active || t - this.lastSent >= this.refreshMs) {
      this.active = true;
      this.lastSent = t;
      this.send(true);
    }
    if (this.idleTimer !== null) this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = this.timers.setTimeout(() => {
      this.idleTimer = null;
      this.stop();
    }, this.idleMs);
  }

  /** Call when the message was sent or the composer lost its conversation. */
  stop(): void {
    if (this.idleTimer !== null) this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.active) {
      this.active = false;
      this.send(false);
    }
  }

  get isActive(): boolean {
    return this.active;
  }
}

/**
 * The other side's typing state for display. A `true` expires by itself after
 * `ttlMs`, in case the matching `false` never comes (lost connection).
 */
export class TypingIndicator {
  private timer: unknown = null;
  private _active = false;

  constructor(
    private readonly onChange: (active: boolean) => void,
    private readonly timers: Timers = realTimers,
    private readonly ttlMs = 6000,
  ) {}

  get active(): boolean {
    return this._active;
  }

  set(active: boolean): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    if (active) {
      this.timer = this.timers.setTimeout(() => {
        this.timer = null;
        this.update(false);
      }, this.ttlMs);
    }
    this.update(active);
  }

  private update(active: boolean): void {
    if (this._active === active) return;
    this._active = active;
    this.onChange(active);
  }
}

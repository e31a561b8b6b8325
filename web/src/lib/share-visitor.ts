// The visitor's side of a screen share, without DOM: the invitation, the
// deliberate clicks, the browser's picker, sharing, changing and stopping, and
// every failure mapped to a protocol step and a `Problem` (worded for the visitor, in
// their language, by widget/share-i18n.ts).
//
// Nothing is captured before the visitor clicks "Share my screen": `accept()` must
// be called from that click handler, and it calls getDisplayMedia synchronously
// (browsers require the click's user activation).

import type { ClientMessage, Event, ShareMode, ShareSetup, ShareState, Signal } from "../protocol.gen";
import { SharePeer } from "./share-peer";

export type VisitorPhase =
  /** No share, or one that is over. */
  | "idle"
  /** The agent asks; the visitor has not answered. */
  | "invited"
  /** The share continues in a pop-up window on the Sightline origin. */
  | "popup"
  /** The browser's picker is open. */
  | "picking"
  /** The screen is being sent. */
  | "sharing"
  /** The picker is open again to change what is shared (still sharing). */
  | "changing"
  /** Another window of this visitor shares (or shared) it. */
  | "elsewhere";

export type Problem =
  | "insecure"
  | "unsupported"
  | "frame"
  | "popup_blocked"
  | "cancelled"
  | "denied"
  | "system_denied"
  | "not_found"
  | "not_readable"
  | "aborted"
  | "activation"
  | "change_cancelled"
  | "other";

/** The short reason sent to the agent for a failure. */
const DETAIL: Record<Problem, string> = {
  insecure: "the page is not secure (https needed)",
  unsupported: "the browser cannot share its screen",
  frame: "screen sharing is not allowed in this frame",
  popup_blocked: "pop-up blocked",
  cancelled: "the visitor closed the picker or chose Block",
  denied: "the visitor's browser refused without asking them (screen sharing is blocked for this site)",
  system_denied: "the operating system refused screen recording",
  not_found: "nothing to capture",
  not_readable: "the screen could not be read",
  aborted: "the browser aborted the capture",
  activation: "the click did not reach the browser in time",
  change_cancelled: "the visitor kept the previous choice",
  other: "the browser could not share",
};

export interface CaptureEnv {
  /** `window.isSecureContext`. */
  secure: boolean;
  /** `navigator.mediaDevices.getDisplayMedia` exists. */
  hasGetDisplayMedia: boolean;
  /** The page runs inside a frame. */
  framed: boolean;
  /** `document.featurePolicy.allowsFeature('display-capture')`, or null where unknown. */
  frameAllowed: boolean | null;
}

export type Support = "ok" | "insecure" | "unsupported" | "frame";

/** Whether this page can capture, and if not why. A frame without permission shares from a pop-up. */
export function captureSupport(env: CaptureEnv): Support {
  if (env.framed && env.frameAllowed === false) return "frame";
  if (!env.secure) return env.framed ? "frame" : "insecure";
  if (!env.hasGetDisplayMedia) return "unsupported";
  return "ok";
}

export interface Classified {
  problem: Problem;
  step: "cancelled" | "failed";
  detail: string;
}

/**
 * A `NotAllowedError` sooner than this after the click is a standing block, not a
 * person closing the picker. Browsers give both the same error (Firefox even the
 * same message), so time tells them apart: Firefox refuses a site whose screen
 * sharing was blocked in about 230 ms, with no prompt at all, while a person must
 * first see a picker appear (it takes a while to open), take it in and move to
 * Cancel or press Escape, which takes a good deal longer than half a second.
 * The margin over 230 ms covers a slow computer; a person faster than this would
 * only read the block's advice (where to look in the address bar) instead.
 */
export const BLOCKED_WITHIN_MS = 500;

/**
 * Maps a getDisplayMedia rejection to a step, a reason for the agent and a message
 * for the visitor. `elapsedMs` is the time from the click to the rejection (null
 * when unknown): see BLOCKED_WITHIN_MS.
 */
export function classifyCaptureError(err: unknown, elapsedMs: number | null = null): Classified {
  const e = err as { name?: string; message?: string } | null;
  const name = e && typeof e.name === "string" ? e.name : "";
  const message = e && typeof e.message === "string" ? e.message : "";
  let problem: Problem;
  switch (name) {
    case "NotAllowedError":
      if (/permissions? policy|disallowed|not allowed in this (document|frame)/i.test(message)) problem = "frame";
      else if (/by system/i.test(message)) problem = "system_denied";
      else if (/user activation|user gesture/i.test(message)) problem = "activation";
      else if (/denied by (the )?(user agent|browser)/i.test(message)) problem = "denied";
      // Too soon for a person: the browser refused without asking.
      else if (elapsedMs !== null && elapsedMs >= 0 && elapsedMs < BLOCKED_WITHIN_MS) problem = "denied";
      // The usual case: the visitor dismissed the picker (Chromium) or chose
      // Block in the prompt (Firefox, whose prompt stays until answered).
      else problem = "cancelled";
      break;
    case "SecurityError":
      problem = "frame";
      break;
    case "NotFoundError":
    case "OverconstrainedError":
      problem = "not_found";
      break;
    case "NotReadableError":
      problem = "not_readable";
      break;
    case "AbortError":
      problem = "aborted";
      break;
    case "InvalidStateError":
      problem = "activation";
      break;
    case "NotSupportedError":
    case "TypeError":
      problem = "unsupported";
      break;
    default:
      problem = "other";
  }
  return { problem, step: problem === "cancelled" ? "cancelled" : "failed", detail: DETAIL[problem] };
}

/** The outgoing track after privacy processing (masking, cropping). */
export interface Prepared {
  /** What is sent (and previewed). */
  track: MediaStreamTrack;
  /** The captured track (its `ended` means the browser's own stop button). */
  raw: MediaStreamTrack;
  /** The visitor shares this very tab (masking applies). */
  selfCapture: boolean;
  stop(): void;
}

export interface VisitorShareDeps {
  send(msg: ClientMessage): boolean;
  env(): CaptureEnv;
  getDisplayMedia(options: DisplayMediaStreamOptions): Promise<MediaStream>;
  createPc: (config: RTCConfiguration) => RTCPeerConnection;
  /** Privacy processing; the default sends the captured track as it is. */
  prepare?(stream: MediaStream, limits: { fps: number }): Promise<Prepared>;
  /** Open the pop-up that shares from the Sightline origin; false when blocked. */
  openPopup?(shareId: string): boolean;
  /** Extra getDisplayMedia options (e.g. preferCurrentTab when the site restricts the share). */
  captureOptions?(): Partial<DisplayMediaStreamOptions>;
  /** A monotonic clock in milliseconds (to tell a standing block from a closed picker); without it every refusal counts as a closed picker. */
  now?(): number;
  onChange?(): void;
  /** The agent's drawing over the share (a message of the peer's ink channel, unchecked). */
  onInk?(data: string): void;
}

function passThrough(stream: MediaStream): Promise<Prepared> {
  const track = stream.getVideoTracks()[0];
  return Promise.resolve({ track, raw: track, selfCapture: false, stop: () => track.stop() });
}

/** getDisplayMedia options: video only, this tab allowed, surface switching offered. */
export function displayMediaOptions(extra: Partial<DisplayMediaStreamOptions> = {}): DisplayMediaStreamOptions {
  return {
    video: { frameRate: { ideal: 15, max: 30 } },
    audio: false,
    selfBrowserSurface: "include",
    // Chrome's "Share this tab instead" would swap the source under a track that
    // was never checked for this very tab (masking); "Change what I share" asks anew.
    surfaceSwitching: "exclude",
    systemAudio: "exclude",
    ...extra,
  } as DisplayMediaStreamOptions;
}

export class VisitorShare {
  shareId: string | null = null;
  /** The share's state as the server last told it. */
  serverState: ShareState | null = null;
  /** The invitation text. */
  invitation: string | null = null;
  agentName: string | null = null;
  phase: VisitorPhase = "idle";
  problem: Problem | null = null;
  /** What is sent; the preview shows it. */
  prepared: Prepared | null = null;
  peer: SharePeer | null = null;
  setup: ShareSetup | null = null;
  private ended = new Set<string>();

  constructor(private readonly deps: VisitorShareDeps) {}

  private changed(): void {
    this.deps.onChange?.();
  }

  private progress(step: "accepted" | "declined" | "choosing" | "sharing" | "cancelled" | "failed" | "stopped", detail: string | null = null): void {
    if (!this.shareId) return;
    this.deps.send({ type: "share_progress", share: this.shareId, step, detail });
  }

  /** A share event of the current conversation (live or replayed). */
  onEvent(e: Event): void {
    if (e.kind !== "share") return;
    if (e.share !== this.shareId) {
      // A new share (or the first we hear of): forget the old one.
      if (this.shareId && this.prepared) this.teardown();
      this.shareId = e.share;
      this.invitation = null;
      this.problem = null;
      this.phase = "idle";
    }
    this.serverState = e.state;
    if (e.state === "invited") {
      this.invitation = e.message;
      this.agentName = e.agent?.display_name ?? this.agentName;
      if (this.phase === "idle") this.phase = "invited";
    } else if (e.state === "accepted" || e.state === "choosing" || e.state === "sharing") {
      // Another window of ours moved it forward.
      if (this.phase === "invited") this.phase = "elsewhere";
    } else {
      this.ended.add(e.share);
      this.teardown();
      this.phase = "idle";
    }
    this.changed();
  }

  /** The conversation changed (or was reset): drop everything. */
  reset(): void {
    this.teardown();
    this.shareId = null;
    this.serverState = null;
    this.invitation = null;
    this.phase = "idle";
    this.problem = null;
    this.changed();
  }

  /** "Share my screen". Call from the click handler itself. */
  accept(): void {
    if (this.phase !== "invited" || !this.shareId) return;
    const shareId = this.shareId;
    const support = captureSupport(this.deps.env());
    this.problem = null;
    if (support === "frame") {
      if (this.deps.openPopup && this.deps.openPopup(shareId)) {
        this.phase = "popup";
        this.changed();
        return;
      }
      this.progress("accepted");
      this.fail("popup_blocked");
      return;
    }
    if (support !== "ok") {
      this.progress("accepted");
      this.fail(support);
      return;
    }
    this.progress("accepted");
    this.progress("choosing");
    this.phase = "picking";
    const elapsed = this.stopwatch();
    let pending: Promise<MediaStream>;
    try {
      pending = this.deps.getDisplayMedia(displayMediaOptions(this.deps.captureOptions?.()));
    } catch (err) {
      pending = Promise.reject(err);
    }
    this.changed();
    pending.then(
      (stream) => this.onCaptured(shareId, stream),
      (err) => {
        if (this.shareId !== shareId || this.phase !== "picking") return;
        const c = classifyCaptureError(err, elapsed());
        if (c.problem === "frame" && this.deps.openPopup && this.deps.openPopup(shareId)) {
          // The page's frame refused; the pop-up asks again (the share is cancelled here).
          this.progress("cancelled");
          this.phase = "idle";
          this.problem = "frame";
          this.changed();
          return;
        }
        this.fail(c.problem, c.step);
      },
    );
  }

  /** "No thanks". */
  /** `detail`: why, for the agent (e.g. a phone that sent a screenshot instead). */
  decline(detail: string | null = null): void {
    if (this.phase !== "invited") return;
    this.progress("declined", detail);
    this.phase = "idle";
    this.changed();
  }

  /** Starts timing (at the click); the returned function gives the milliseconds since, or null without a clock. */
  private stopwatch(): () => number | null {
    const now = this.deps.now;
    if (!now) return () => null;
    const start = now();
    return () => now() - start;
  }

  private fail(problem: Problem, step: "cancelled" | "failed" = "failed"): void {
    this.progress(step, step === "failed" ? DETAIL[problem] : null);
    this.problem = problem;
    this.teardown();
    this.phase = "idle";
    this.changed();
  }

  private fps(): number {
    return this.setup ? (this.setup.mode === "motion" ? this.setup.limits.motion_fps : this.setup.limits.text_fps) : 5;
  }

  private async onCaptured(shareId: string, stream: MediaStream): Promise<void> {
    if (this.shareId !== shareId || this.phase !== "picking" || this.ended.has(shareId)) {
      // Ended while the picker was open.
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    let prepared: Prepared;
    try {
      prepared = await this.prepareStream(stream);
    } catch (err) {
      this.fail(classifyCaptureError(err).problem);
      return;
    }
    if (this.shareId !== shareId || this.phase !== "picking") {
      prepared.stop();
      return;
    }
    // Ended while being prepared: as if its "Stop sharing" came now.
    if (prepared.raw.readyState === "ended") {
      prepared.stop();
      this.stop();
      return;
    }
    this.prepared = prepared;
    this.watch(prepared);
    this.phase = "sharing";
    this.progress("sharing");
    this.changed();
    await this.startPeer();
  }

  private watch(p: Prepared): void {
    p.raw.addEventListener("ended", () => {
      // The browser's own "Stop sharing" (or the shared window closed).
      if (this.prepared === p) this.stop();
    });
  }

  private async startPeer(): Promise<void> {
    if (!this.prepared || !this.setup || this.peer) return;
    const shareId = this.shareId;
    this.peer = new SharePeer("visitor", this.setup, {
      createPc: this.deps.createPc,
      send: (signal) => (shareId ? this.deps.send({ type: "share_signal", share: shareId, signal }) : false),
      onChange: () => this.changed(),
      onInk: (data) => this.deps.onInk?.(data),
    });
    await this.peer.setTrack(this.prepared.track);
    this.changed();
  }

  /** The server's `share_setup` (after our "accepted", and again after reconnecting). */
  async onSetup(shareId: string, setup: ShareSetup): Promise<void> {
    if (shareId !== this.shareId) return;
    this.setup = setup;
    if (this.peer) await this.peer.updateSetup(setup, true);
    else if (this.prepared) await this.startPeer();
  }

  async onSignal(shareId: string, signal: Signal): Promise<void> {
    if (shareId !== this.shareId || !this.peer) return;
    if (signal.kind === "mode" && this.setup) this.setup = { ...this.setup, mode: signal.mode as ShareMode };
    await this.peer.handleSignal(signal);
  }

  /** "Stop sharing" (also the browser's stop button). */
  stop(): void {
    if (this.phase !== "sharing" && this.phase !== "changing" && this.phase !== "picking") return;
    this.progress("stopped");
    this.teardown();
    this.phase = "idle";
    this.changed();
  }

  /** "Change what I share": the picker again; the old picture stays if it is cancelled. */
  change(): void {
    if (this.phase !== "sharing" || !this.shareId) return;
    const shareId = this.shareId;
    this.phase = "changing";
    this.problem = null;
    this.progress("choosing");
    const elapsed = this.stopwatch();
    let pending: Promise<MediaStream>;
    try {
      pending = this.deps.getDisplayMedia(displayMediaOptions(this.deps.captureOptions?.()));
    } catch (err) {
      pending = Promise.reject(err);
    }
    this.changed();
    pending.then(
      async (stream) => {
        if (this.shareId !== shareId || this.phase !== "changing") {
          for (const t of stream.getTracks()) t.stop();
          return;
        }
        const still = () => this.shareId === shareId && this.phase === "changing";
        let next: Prepared;
        try {
          next = await this.prepareStream(stream);
        } catch (err) {
          // The old picture goes on, as when the picker is cancelled.
          if (still()) this.backToSharing(classifyCaptureError(err).problem);
          return;
        }
        // Ended meanwhile (the share, or this capture): the new capture goes.
        if (!still() || next.raw.readyState === "ended") {
          next.stop();
          if (still()) this.backToSharing(this.problem);
          return;
        }
        const old = this.prepared;
        this.prepared = next;
        this.watch(next);
        if (this.peer) await this.peer.setTrack(next.track);
        old?.stop();
        this.backToSharing(this.problem);
      },
      (err) => {
        if (this.shareId !== shareId || this.phase !== "changing") return;
        const c = classifyCaptureError(err, elapsed());
        this.backToSharing(c.problem === "cancelled" ? "change_cancelled" : c.problem);
      },
    );
  }

  /** The privacy processing of a new capture (its tracks are stopped if it fails). */
  private async prepareStream(stream: MediaStream): Promise<Prepared> {
    try {
      const raw = stream.getVideoTracks()[0];
      if (!raw) throw Object.assign(new Error("no video"), { name: "NotFoundError" });
      setHint(raw);
      const prepared = await (this.deps.prepare ?? passThrough)(stream, { fps: Math.max(this.fps(), 15) });
      setHint(prepared.track);
      return prepared;
    } catch (err) {
      for (const t of stream.getTracks()) t.stop();
      throw err;
    }
  }

  /** A change of what is shared is over: sharing again, with `problem` to show. */
  private backToSharing(problem: Problem | null): void {
    this.problem = problem;
    this.phase = "sharing";
    this.progress("sharing");
    this.changed();
  }

  private teardown(): void {
    this.peer?.close();
    this.peer = null;
    this.prepared?.stop();
    this.prepared = null;
  }
}

function setHint(track: MediaStreamTrack | undefined): void {
  if (!track) return;
  try {
    track.contentHint = "detail";
  } catch {
    /* not supported */
  }
}

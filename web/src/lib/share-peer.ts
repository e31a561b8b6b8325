// The peer connection of a screen share, for both ends. No DOM: the
// RTCPeerConnection constructor is injected so tests can fake it.
//
// The visitor is the only offerer and sends the only (video) track; the agent
// answers with a receive-only connection. Candidates trickle through the server
// (`share_signal`). When the connection fails the visitor restarts ICE (the agent
// asks with `restart_request`), with backoff; after a while without a connection
// the state says "lost" (tries go on, slower).

import type { Role, ShareLimits, ShareMode, ShareSetup, Signal } from "../protocol.gen";
import { backoffDelay, realTimers, type Timers } from "./connection";
import { routeOf, shareFigures, type Route, type ShareFigures, type StatsSample } from "./share-stats";

export type PeerState = "connecting" | "direct" | "relayed" | "reconnecting" | "lost" | "closed";

/** Give up hope ("lost") after this long without a connection once connected. */
export const LOST_AFTER_MS = 30_000;
/** A "disconnected" connection that does not come back by itself within this gets an ICE restart. */
export const DISCONNECTED_GRACE_MS = 3_000;
/** After a restart attempt, check again this much later. */
export const RESTART_CHECK_MS = 8_000;

export interface PeerStateInput {
  connection: string;
  everConnected: boolean;
  route: Route | null;
  /** How long the connection has been down (ms), if it is. */
  downForMs: number | null;
}

/** The state to show, from the connection's state and what we know of its path. */
export function derivePeerState(s: PeerStateInput, lostAfterMs = LOST_AFTER_MS): PeerState {
  if (s.connection === "closed") return "closed";
  if (s.connection === "connected") return s.route === "relayed" ? "relayed" : "direct";
  const longDown = (s.downForMs ?? 0) >= lostAfterMs;
  if (!s.everConnected) return s.connection === "failed" && longDown ? "lost" : "connecting";
  return longDown ? "lost" : "reconnecting";
}

/** RTCConfiguration from the server's setup. */
export function rtcConfig(setup: ShareSetup): RTCConfiguration {
  return {
    iceServers: setup.ice_servers.map((s) => {
      const server: RTCIceServer = { urls: s.urls };
      if (s.username !== null) server.username = s.username;
      if (s.credential !== null) server.credential = s.credential;
      return server;
    }),
    iceTransportPolicy: setup.ice_transport_policy === "relay" ? "relay" : "all",
  };
}

/** The encoding limits for a mode: the bitrate cap, and the frame rate of the mode. */
export function encodingFor(limits: ShareLimits, mode: ShareMode): { maxBitrate: number; maxFramerate: number } {
  return { maxBitrate: limits.max_bitrate_bps, maxFramerate: mode === "motion" ? limits.motion_fps : limits.text_fps };
}

/** The DTLS fingerprint of an SDP (changes when the other end made a new connection). */
export function fingerprintOf(sdp: string | undefined | null): string | null {
  const m = sdp ? /a=fingerprint:(\S+ \S+)/.exec(sdp) : null;
  return m ? m[1] : null;
}

export interface PeerDeps {
  createPc: (config: RTCConfiguration) => RTCPeerConnection;
  /** Send a signal to the other end; false if it could not be sent (socket down). */
  send: (signal: Signal) => boolean;
  timers?: Timers;
  now?: () => number;
  onChange?: () => void;
  /** Agent: the visitor's video arrived (again). */
  onTrack?: (stream: MediaStream) => void;
  /** Visitor: a message on the ink channel (the agent's drawing), as text. */
  onInk?: (data: string) => void;
}

/** Most bytes of one ink message. */
export const MAX_INK_MESSAGE_BYTES = 16 * 1024;

export class SharePeer {
  pc: RTCPeerConnection | null = null;
  sender: RTCRtpSender | null = null;
  state: PeerState = "connecting";
  route: Route | null = null;
  mode: ShareMode;
  /** How many ICE restarts (or restart requests) since the last good connection. */
  restarts = 0;
  private setup: ShareSetup;
  private track: MediaStreamTrack | null = null;
  private queued: RTCIceCandidateInit[] = [];
  private everConnected = false;
  private downSince: number | null = null;
  private restartTimer: unknown = null;
  private checkTimer: unknown = null;
  private negotiating = false;
  private again: "ice" | "fresh" | null = null;
  private statsPrev: StatsSample | null = null;
  private readonly timers: Timers;
  private readonly now: () => number;
  private closed = false;
  /** The agent's drawings travel on this (negotiated, id 0: both ends make it, no signaling). */
  private ink: RTCDataChannel | null = null;

  constructor(
    readonly role: Role,
    setup: ShareSetup,
    private readonly deps: PeerDeps,
  ) {
    this.setup = setup;
    this.mode = setup.mode;
    this.timers = deps.timers ?? realTimers;
    this.now = deps.now ?? (() => Date.now());
    if (role === "agent") this.makePc();
  }

  get limits(): ShareLimits {
    return this.setup.limits;
  }

  private changed(): void {
    this.deps.onChange?.();
  }

  private makePc(): RTCPeerConnection {
    const old = this.pc;
    if (old) this.detach(old);
    const pc = this.deps.createPc(rtcConfig(this.setup));
    this.pc = pc;
    this.queued = [];
    pc.onicecandidate = (ev) => {
      if (this.pc !== pc || !ev.candidate || !ev.candidate.candidate) return;
      const c = ev.candidate;
      this.deps.send({
        kind: "candidate",
        candidate: c.candidate,
        sdp_mid: c.sdpMid ?? null,
        sdp_m_line_index: c.sdpMLineIndex ?? null,
        username_fragment: c.usernameFragment ?? null,
      });
    };
    pc.onconnectionstatechange = () => {
      if (this.pc === pc) this.evaluate();
    };
    pc.oniceconnectionstatechange = () => {
      if (this.pc === pc) this.evaluate();
    };
    this.ink = null;
    if (typeof pc.createDataChannel === "function") {
      try {
        const ink = pc.createDataChannel("ink", { negotiated: true, id: 0, ordered: true });
        this.ink = ink;
        if (this.role === "visitor") {
          ink.onmessage = (ev) => {
            if (this.pc === pc && typeof ev.data === "string" && ev.data.length <= MAX_INK_MESSAGE_BYTES) this.deps.onInk?.(ev.data);
          };
        }
      } catch {
        this.ink = null;
      }
    }
    if (this.role === "agent") {
      pc.ontrack = (ev) => {
        if (this.pc !== pc) return;
        const stream = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
        this.deps.onTrack?.(stream);
      };
    }
    return pc;
  }

  /** Agent: sends a drawing to the visitor's side; false when the channel is not open. */
  sendInk(data: string): boolean {
    const ink = this.ink;
    if (this.role !== "agent" || !ink || ink.readyState !== "open" || data.length > MAX_INK_MESSAGE_BYTES) return false;
    try {
      ink.send(data);
      return true;
    } catch {
      return false;
    }
  }

  private detach(pc: RTCPeerConnection): void {
    pc.onicecandidate = pc.onconnectionstatechange = pc.oniceconnectionstatechange = null;
    pc.ontrack = null;
    try {
      pc.close();
    } catch {
      /* already closed */
    }
  }

  // ------------------------------------------------------------ visitor

  /** Visitor: start sending `track` (first time) or switch to it (same connection, no renegotiation). */
  async setTrack(track: MediaStreamTrack): Promise<void> {
    this.track = track;
    if (this.sender && this.pc) {
      await this.sender.replaceTrack(track);
      await this.applyParams();
      return;
    }
    await this.fresh();
  }

  /** Visitor: a new connection from scratch (first start, or the agent's side was replaced). */
  private async fresh(): Promise<void> {
    if (this.closed || !this.track) return;
    const pc = this.makePc();
    this.sender = pc.addTrack(this.track);
    this.restartTimerClear();
    await this.offer(false);
  }

  private async offer(iceRestart: boolean): Promise<void> {
    const pc = this.pc;
    if (!pc || this.closed) return;
    if (this.negotiating || pc.signalingState !== "stable") {
      this.again = this.again === "fresh" ? "fresh" : "ice";
      return;
    }
    this.negotiating = true;
    try {
      const offer = await pc.createOffer(iceRestart ? { iceRestart: true } : {});
      if (this.pc !== pc) return;
      await pc.setLocalDescription(offer);
      if (this.pc !== pc) return;
      const sdp = pc.localDescription?.sdp ?? offer.sdp ?? "";
      this.deps.send({ kind: "description", type: "offer", sdp });
      await this.applyParams();
    } finally {
      if (this.pc === pc) this.negotiating = false;
    }
  }

  /** Visitor: the agent switched modes, or the limits changed. */
  async setMode(mode: ShareMode): Promise<void> {
    this.mode = mode;
    await this.applyParams();
    this.changed();
  }

  /** Visitor: cap the encoder (bitrate, frame rate for the mode), keep resolution under pressure. */
  async applyParams(): Promise<void> {
    const sender = this.sender;
    if (!sender) return;
    const params = sender.getParameters();
    if (!params.encodings || params.encodings.length === 0) params.encodings = [{}] as RTCRtpEncodingParameters[];
    const enc = encodingFor(this.setup.limits, this.mode);
    params.encodings[0].maxBitrate = enc.maxBitrate;
    params.encodings[0].maxFramerate = enc.maxFramerate;
    (params as RTCRtpSendParameters & { degradationPreference?: string }).degradationPreference = "maintain-resolution";
    try {
      await sender.setParameters(params);
    } catch {
      // Some browsers refuse degradationPreference in setParameters; the
      // track's contentHint "detail" asks for the same.
      try {
        const p = sender.getParameters();
        if (!p.encodings || p.encodings.length === 0) return;
        p.encodings[0].maxBitrate = enc.maxBitrate;
        p.encodings[0].maxFramerate = enc.maxFramerate;
        await sender.setParameters(p);
      } catch {
        /* not negotiated yet: applied again after the answer */
      }
    }
  }

  // ------------------------------------------------------------ both

  /** A signal from the other end. */
  async handleSignal(signal: Signal): Promise<void> {
    if (this.closed) return;
    switch (signal.kind) {
      case "description":
        if (this.role === "visitor" && signal.type === "answer") await this.onAnswer(signal.sdp);
        else if (this.role === "agent" && signal.type === "offer") await this.onOffer(signal.sdp);
        break;
      case "candidate": {
        const init: RTCIceCandidateInit = {
          candidate: signal.candidate,
          sdpMid: signal.sdp_mid,
          sdpMLineIndex: signal.sdp_m_line_index,
          usernameFragment: signal.username_fragment,
        };
        const pc = this.pc;
        if (!pc || !pc.remoteDescription) this.queued.push(init);
        else await pc.addIceCandidate(init).catch(() => undefined);
        break;
      }
      case "restart_request":
        // The agent's end is new or broken: start over with a new connection.
        if (this.role === "visitor") await this.fresh();
        break;
      case "mode":
        if (this.role === "visitor") await this.setMode(signal.mode);
        break;
    }
  }

  private async flushCandidates(pc: RTCPeerConnection): Promise<void> {
    const list = this.queued;
    this.queued = [];
    for (const c of list) await pc.addIceCandidate(c).catch(() => undefined);
  }

  private async onAnswer(sdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc || pc.signalingState !== "have-local-offer") return;
    try {
      await pc.setRemoteDescription({ type: "answer", sdp });
    } catch {
      // E.g. the agent's end was replaced and speaks another DTLS identity.
      await this.fresh();
      return;
    }
    await this.flushCandidates(pc);
    await this.applyParams();
    const again = this.again;
    this.again = null;
    if (again === "fresh") await this.fresh();
    else if (again === "ice") await this.offer(true);
  }

  private async onOffer(sdp: string): Promise<void> {
    let pc = this.pc;
    const prev = pc?.remoteDescription?.sdp;
    if (!pc || pc.signalingState === "closed" || (prev && fingerprintOf(prev) !== fingerprintOf(sdp))) {
      // The visitor made a new connection: so do we.
      pc = this.makePc();
    }
    if (pc.signalingState !== "stable") {
      await pc.setLocalDescription({ type: "rollback" }).catch(() => undefined);
    }
    await pc.setRemoteDescription({ type: "offer", sdp });
    for (const t of pc.getTransceivers()) {
      try {
        t.direction = "recvonly";
      } catch {
        /* stopped */
      }
    }
    const answer = await pc.createAnswer();
    if (this.pc !== pc) return;
    await pc.setLocalDescription(answer);
    this.deps.send({ kind: "description", type: "answer", sdp: pc.localDescription?.sdp ?? answer.sdp ?? "" });
    await this.flushCandidates(pc);
  }

  /**
   * The server sent the setup again (our socket reconnected). Take new ICE servers;
   * if the connection is not up, start again (signals may have been lost).
   */
  async updateSetup(setup: ShareSetup, visitorSharing: boolean): Promise<void> {
    this.setup = setup;
    const pc = this.pc;
    try {
      pc?.setConfiguration(rtcConfig(setup));
    } catch {
      /* some browsers refuse changing the policy */
    }
    if (this.role === "visitor") {
      if (this.mode !== setup.mode) await this.setMode(setup.mode);
      if (!pc) return;
      if (pc.signalingState === "have-local-offer") {
        // The answer may have been lost with the socket.
        this.negotiating = false;
        await pc.setLocalDescription({ type: "rollback" }).catch(() => undefined);
        await this.offer(true);
      } else if (pc.connectionState !== "connected") {
        await this.offer(true);
      }
    } else {
      this.mode = setup.mode;
      if (visitorSharing && (!pc || pc.connectionState !== "connected")) this.deps.send({ kind: "restart_request" });
    }
    this.changed();
  }

  /** Ask for (agent) or perform (visitor) a restart now. */
  restartNow(): void {
    if (this.role === "agent") this.deps.send({ kind: "restart_request" });
    else void this.offer(true);
  }

  private restartTimerClear(): void {
    if (this.restartTimer !== null) this.timers.clearTimeout(this.restartTimer);
    if (this.checkTimer !== null) this.timers.clearTimeout(this.checkTimer);
    this.restartTimer = this.checkTimer = null;
  }

  private scheduleRestart(delay?: number): void {
    if (this.restartTimer !== null || this.closed) return;
    const ms = delay ?? (this.restarts === 0 ? 0 : backoffDelay(this.restarts - 1, 1000, 15000, this.timers.random()));
    this.restartTimer = this.timers.setTimeout(() => {
      this.restartTimer = null;
      const pc = this.pc;
      if (!pc || this.closed || pc.connectionState === "connected") return;
      this.restarts++;
      if (this.role === "visitor") void this.offer(true);
      else if (pc.remoteDescription) this.deps.send({ kind: "restart_request" });
      this.checkTimer = this.timers.setTimeout(() => {
        this.checkTimer = null;
        this.evaluate();
        if (this.pc && this.pc.connectionState !== "connected") this.scheduleRestart();
      }, RESTART_CHECK_MS);
    }, ms);
  }

  /** Re-derive the state after a change of the connection. */
  evaluate(): void {
    const pc = this.pc;
    if (!pc) return;
    const cs = pc.connectionState;
    if (cs === "connected") {
      this.everConnected = true;
      this.downSince = null;
      this.restarts = 0;
      this.restartTimerClear();
      void this.refreshRoute();
    } else if (cs === "disconnected" || cs === "failed") {
      if (this.downSince === null) this.downSince = this.now();
      if (cs === "failed") this.scheduleRestart();
      else this.scheduleRestart(DISCONNECTED_GRACE_MS);
    } else if ((cs === "new" || cs === "connecting") && this.everConnected && this.downSince === null) {
      this.downSince = this.now();
    }
    const next = derivePeerState({
      connection: cs,
      everConnected: this.everConnected,
      route: this.route,
      downForMs: this.downSince === null ? null : this.now() - this.downSince,
    });
    if (next !== this.state) {
      this.state = next;
      this.changed();
    }
  }

  private async refreshRoute(): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    try {
      const report = await pc.getStats();
      const route = routeOf([...report.values()]).route;
      if (route && route !== this.route) {
        this.route = route;
        this.evaluate();
      }
    } catch {
      /* closed meanwhile */
    }
  }

  /** Current figures (and refreshes the route). */
  async stats(): Promise<ShareFigures | null> {
    const pc = this.pc;
    if (!pc) return null;
    const report = await pc.getStats();
    const figures = shareFigures([...report.values()], this.statsPrev, this.role === "agent" ? "inbound" : "outbound");
    this.statsPrev = figures.sample;
    if (figures.route && figures.route !== this.route) {
      this.route = figures.route;
      this.evaluate();
    } else if (pc.connectionState !== "connected") {
      this.evaluate();
    }
    return figures;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.restartTimerClear();
    if (this.pc) this.detach(this.pc);
    this.pc = null;
    this.sender = null;
    this.state = "closed";
    this.changed();
  }
}

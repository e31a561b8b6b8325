import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClientMessage, Event, Role, ShareSetup, ShareState, Signal } from "../src/protocol.gen";
import { cropInVideo, fitWithin, maskBoxes } from "../src/lib/share-geometry";
import { formatBitrate, routeOf, shareFigures } from "../src/lib/share-stats";
import { SharePeer, derivePeerState, encodingFor, fingerprintOf, rtcConfig, LOST_AFTER_MS } from "../src/lib/share-peer";
import { SHARE_STRINGS } from "../src/widget/share-i18n";
import { BLOCKED_WITHIN_MS, VisitorShare, captureSupport, classifyCaptureError, displayMediaOptions, type CaptureEnv, type Prepared } from "../src/lib/share-visitor";
import { FakeClock } from "./helpers";

// ------------------------------------------------------------------ geometry

test("mask boxes scale element rects from the viewport to the video, padded and clipped", () => {
  const viewport = { x: 0, y: 0, width: 1280, height: 720 };
  const boxes = maskBoxes(
    [
      { x: 100, y: 50, width: 200, height: 100 },
      { x: 1200, y: 700, width: 200, height: 100 }, // partly off screen
      { x: 2000, y: 10, width: 10, height: 10 }, // off screen
      { x: 10, y: 10, width: 0, height: 10 }, // empty
    ],
    viewport,
    { width: 640, height: 360 },
  );
  assert.deepEqual(boxes, [
    { x: 48, y: 23, width: 104, height: 54 },
    { x: 598, y: 348, width: 42, height: 12 },
  ]);
});

test("mask boxes relative to a crop target", () => {
  const boxes = maskBoxes([{ x: 150, y: 120, width: 50, height: 20 }], { x: 100, y: 100, width: 400, height: 200 }, { width: 800, height: 400 }, 0);
  assert.deepEqual(boxes, [{ x: 100, y: 40, width: 100, height: 40 }]);
  assert.deepEqual(maskBoxes([{ x: 0, y: 0, width: 5, height: 5 }], { x: 0, y: 0, width: 0, height: 0 }, { width: 10, height: 10 }), []);
});

test("canvas crop region and fitting", () => {
  assert.deepEqual(cropInVideo({ x: 640, y: 0, width: 640, height: 360 }, { width: 1280, height: 720 }, { width: 1920, height: 1080 }), { x: 960, y: 0, width: 960, height: 540 });
  assert.equal(cropInVideo({ x: 5000, y: 0, width: 10, height: 10 }, { width: 1280, height: 720 }, { width: 1280, height: 720 }), null);
  assert.deepEqual(fitWithin({ width: 3840, height: 2160 }, 1920), { width: 1920, height: 1080 });
  assert.deepEqual(fitWithin({ width: 800, height: 600 }, 1920), { width: 800, height: 600 });
});

// ------------------------------------------------------------------ stats

function report(opts: { bytes: number; frames: number; ts: number; lost?: number; packets?: number; local?: string; remote?: string; viaTransport?: boolean }) {
  return [
    { id: "T1", type: "transport", selectedCandidatePairId: opts.viaTransport === false ? undefined : "CP1" },
    { id: "CP1", type: "candidate-pair", localCandidateId: "L1", remoteCandidateId: "R1", nominated: true, state: "succeeded", currentRoundTripTime: 0.042 },
    { id: "L1", type: "local-candidate", candidateType: opts.local ?? "host" },
    { id: "R1", type: "remote-candidate", candidateType: opts.remote ?? "srflx" },
    { id: "IN", type: "inbound-rtp", kind: "video", frameWidth: 1280, frameHeight: 720, bytesReceived: opts.bytes, framesDecoded: opts.frames, packetsReceived: opts.packets ?? 100, packetsLost: opts.lost ?? 0, timestamp: opts.ts },
  ];
}

test("figures: resolution, rates from two samples, loss, round trip, route", () => {
  const a = shareFigures(report({ bytes: 1000, frames: 10, ts: 1000 }), null);
  assert.equal(a.width, 1280);
  assert.equal(a.bitrate, null);
  assert.equal(a.rttMs, 42);
  assert.equal(a.route, "direct");
  const b = shareFigures(report({ bytes: 126000, frames: 15, ts: 2000, packets: 190, lost: 10 }), a.sample);
  assert.equal(b.bitrate, 1_000_000);
  assert.equal(b.fps, 5);
  assert.equal(b.lossPct, 10);
  assert.equal(formatBitrate(b.bitrate), "1.0 Mbit/s");
  assert.equal(formatBitrate(350_000), "350 kbit/s");
});

test("relayed when either selected candidate is a relay; pair found without a transport too", () => {
  assert.equal(routeOf(report({ bytes: 0, frames: 0, ts: 0, local: "relay" })).route, "relayed");
  assert.equal(routeOf(report({ bytes: 0, frames: 0, ts: 0, remote: "relay" })).route, "relayed");
  assert.equal(routeOf(report({ bytes: 0, frames: 0, ts: 0, viaTransport: false })).route, "direct");
  assert.equal(routeOf([]).route, null);
});

// ------------------------------------------------------------------ peer

test("peer state from connection state, path and time down", () => {
  const s = (connection: string, everConnected: boolean, downForMs: number | null = null, route: "direct" | "relayed" | null = null) => derivePeerState({ connection, everConnected, downForMs, route });
  assert.equal(s("new", false), "connecting");
  assert.equal(s("connecting", false), "connecting");
  assert.equal(s("connected", true), "direct");
  assert.equal(s("connected", true, null, "relayed"), "relayed");
  assert.equal(s("disconnected", true, 1000), "reconnecting");
  assert.equal(s("failed", true, 1000), "reconnecting");
  assert.equal(s("connecting", true, 5000), "reconnecting");
  assert.equal(s("failed", true, LOST_AFTER_MS), "lost");
  assert.equal(s("failed", false, 1000), "connecting");
  assert.equal(s("failed", false, LOST_AFTER_MS + 1), "lost");
  assert.equal(s("closed", true), "closed");
});

const SETUP: ShareSetup = {
  ice_servers: [{ urls: ["stun:stun.example:3478"], username: null, credential: null }, { urls: ["turn:turn.example:3478"], username: "u", credential: "c" }],
  ice_transport_policy: "relay",
  limits: { max_bitrate_bps: 1_500_000, text_fps: 5, motion_fps: 15 },
  mode: "text",
};

test("configuration and encodings from the setup", () => {
  assert.deepEqual(rtcConfig(SETUP), {
    iceServers: [{ urls: ["stun:stun.example:3478"] }, { urls: ["turn:turn.example:3478"], username: "u", credential: "c" }],
    iceTransportPolicy: "relay",
  });
  assert.equal(rtcConfig({ ...SETUP, ice_transport_policy: "whatever" }).iceTransportPolicy, "all");
  assert.deepEqual(encodingFor(SETUP.limits, "text"), { maxBitrate: 1_500_000, maxFramerate: 5 });
  assert.deepEqual(encodingFor(SETUP.limits, "motion"), { maxBitrate: 1_500_000, maxFramerate: 15 });
  assert.equal(fingerprintOf("v=0\r\na=fingerprint:sha-256 AB:CD\r\n"), "sha-256 AB:CD");
  assert.equal(fingerprintOf(""), null);
});

class FakeSender {
  params: { encodings: Record<string, unknown>[]; degradationPreference?: string } = { encodings: [{}] };
  track: unknown;
  refuseDegradation = false;
  constructor(track: unknown) {
    this.track = track;
  }
  getParameters() {
    return JSON.parse(JSON.stringify(this.params));
  }
  async setParameters(p: { encodings: Record<string, unknown>[]; degradationPreference?: string }) {
    if (this.refuseDegradation && p.degradationPreference) throw new Error("unsupported");
    this.params = p;
  }
  async replaceTrack(t: unknown) {
    this.track = t;
  }
}

let fpSeq = 0;
class FakePc {
  static all: FakePc[] = [];
  signalingState = "stable";
  connectionState = "new";
  iceConnectionState = "new";
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  senders: FakeSender[] = [];
  candidates: unknown[] = [];
  closed = false;
  offers: { iceRestart?: boolean }[] = [];
  fp = `sha-256 F${++fpSeq}`;
  transceivers = [{ direction: "sendrecv" }];
  onicecandidate: ((ev: unknown) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;
  ontrack: ((ev: unknown) => void) | null = null;
  config: unknown;
  constructor(config: unknown) {
    this.config = config;
    FakePc.all.push(this);
  }
  addTrack(track: unknown) {
    const s = new FakeSender(track);
    this.senders.push(s);
    return s;
  }
  async createOffer(o: { iceRestart?: boolean } = {}) {
    this.offers.push(o);
    return { type: "offer", sdp: `offer ${this.offers.length}\r\na=fingerprint:${this.fp}\r\n` };
  }
  async createAnswer() {
    return { type: "answer", sdp: `answer\r\na=fingerprint:${this.fp}\r\n` };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    if (d.type === "rollback") {
      this.signalingState = "stable";
      this.localDescription = null;
      return;
    }
    this.localDescription = d;
    this.signalingState = d.type === "offer" ? "have-local-offer" : "stable";
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    if (d.sdp.includes("bad")) throw new Error("bad sdp");
    this.remoteDescription = d;
    this.signalingState = d.type === "offer" ? "have-remote-offer" : "stable";
  }
  async addIceCandidate(c: unknown) {
    this.candidates.push(c);
  }
  getTransceivers() {
    return this.transceivers;
  }
  async getStats() {
    return new Map(report({ bytes: 0, frames: 0, ts: 1, local: "relay" }).map((e) => [e.id, e]));
  }
  setConfiguration(c: unknown) {
    this.config = c;
  }
  close() {
    this.closed = true;
    this.connectionState = "closed";
  }
  set(state: string) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
}

const last = <T>(a: T[]): T => a[a.length - 1];
const tick = () => new Promise((r) => setTimeout(r, 0));

function visitorPeer() {
  FakePc.all = [];
  const clock = new FakeClock();
  const sent: Signal[] = [];
  const peer = new SharePeer("visitor", SETUP, {
    createPc: (c) => new FakePc(c) as unknown as RTCPeerConnection,
    send: (s) => (sent.push(s), true),
    timers: clock,
    now: clock.nowFn,
  });
  return { peer, sent, clock };
}

test("visitor peer: offers with the track, caps the sender, trickles candidates, takes the answer", async () => {
  const { peer, sent } = visitorPeer();
  await peer.setTrack({ id: "t1" } as unknown as MediaStreamTrack);
  const pc = FakePc.all[0];
  assert.deepEqual(pc.config, rtcConfig(SETUP));
  assert.equal(sent[0].kind, "description");
  assert.equal((sent[0] as { type: string }).type, "offer");
  const sender = pc.senders[0];
  assert.deepEqual(sender.params.encodings[0], { maxBitrate: 1_500_000, maxFramerate: 5 });
  assert.equal(sender.params.degradationPreference, "maintain-resolution");
  pc.onicecandidate?.({ candidate: { candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "uf" } });
  pc.onicecandidate?.({ candidate: null });
  assert.deepEqual(sent[1], { kind: "candidate", candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdp_mid: "0", sdp_m_line_index: 0, username_fragment: "uf" });
  assert.equal(sent.length, 2);
  // A candidate before the answer waits for it.
  await peer.handleSignal({ kind: "candidate", candidate: "c1", sdp_mid: "0", sdp_m_line_index: 0, username_fragment: null });
  assert.equal(pc.candidates.length, 0);
  await peer.handleSignal({ kind: "description", type: "answer", sdp: "answer\r\na=fingerprint:sha-256 X\r\n" });
  assert.equal(pc.signalingState, "stable");
  assert.equal(pc.candidates.length, 1);
  // Mode: the frame rate changes on the same sender, no new offer.
  await peer.handleSignal({ kind: "mode", mode: "motion" });
  assert.equal(sender.params.encodings[0].maxFramerate, 15);
  assert.equal(pc.offers.length, 1);
  // Switching the track: replaceTrack, no renegotiation.
  await peer.setTrack({ id: "t2" } as unknown as MediaStreamTrack);
  assert.deepEqual(sender.track, { id: "t2" });
  assert.equal(pc.offers.length, 1);
  assert.equal(FakePc.all.length, 1);
});

test("visitor peer: without degradationPreference support the caps still apply", async () => {
  FakePc.all = [];
  const peer = new SharePeer("visitor", SETUP, { createPc: (c) => new FakePc(c) as unknown as RTCPeerConnection, send: () => true });
  const orig = FakePc.prototype.addTrack;
  FakePc.prototype.addTrack = function (t: unknown) {
    const s = orig.call(this, t);
    s.refuseDegradation = true;
    return s;
  };
  try {
    await peer.setTrack({} as unknown as MediaStreamTrack);
  } finally {
    FakePc.prototype.addTrack = orig;
  }
  assert.deepEqual(FakePc.all[0].senders[0].params.encodings[0], { maxBitrate: 1_500_000, maxFramerate: 5 });
});

test("visitor peer: ICE restart with backoff on failure; connected shows the route", async () => {
  const { peer, clock } = visitorPeer();
  await peer.setTrack({} as unknown as MediaStreamTrack);
  const pc = FakePc.all[0];
  await peer.handleSignal({ kind: "description", type: "answer", sdp: "a" });
  pc.set("connected");
  await tick();
  await tick();
  assert.equal(peer.state, "relayed", "the fake stats say relay");
  pc.set("failed");
  assert.equal(peer.state, "reconnecting");
  clock.advance(0);
  await tick();
  assert.deepEqual(last(pc.offers), { iceRestart: true });
  assert.equal(peer.restarts, 1);
  await peer.handleSignal({ kind: "description", type: "answer", sdp: "a2" });
  // Still failing: the next try comes after a backoff, and after a long time it is "lost".
  clock.advance(8000);
  await tick();
  const offersBefore = pc.offers.length;
  clock.advance(2000);
  await tick();
  assert.ok(pc.offers.length > offersBefore, "tried again");
  clock.advance(LOST_AFTER_MS);
  peer.evaluate();
  assert.equal(peer.state, "lost");
  pc.set("connected");
  assert.equal(peer.restarts, 0);
  assert.notEqual(peer.state, "lost");
});

test("visitor peer: a disconnected link gets a grace period before restarting", async () => {
  const { peer, clock } = visitorPeer();
  await peer.setTrack({} as unknown as MediaStreamTrack);
  const pc = FakePc.all[0];
  await peer.handleSignal({ kind: "description", type: "answer", sdp: "a" });
  pc.set("connected");
  pc.set("disconnected");
  clock.advance(1000);
  pc.set("connected");
  clock.advance(5000);
  await tick();
  assert.equal(pc.offers.length, 1, "came back by itself: no restart");
});

test("visitor peer: restart_request and an unusable answer build a new connection", async () => {
  const { peer } = visitorPeer();
  await peer.setTrack({ id: "t" } as unknown as MediaStreamTrack);
  await peer.handleSignal({ kind: "restart_request" });
  assert.equal(FakePc.all.length, 2);
  assert.ok(FakePc.all[0].closed);
  assert.deepEqual(FakePc.all[1].senders[0].track, { id: "t" });
  await peer.handleSignal({ kind: "description", type: "answer", sdp: "bad" });
  assert.equal(FakePc.all.length, 3);
});

test("visitor peer: a setup after reconnecting re-offers when the answer was lost", async () => {
  const { peer } = visitorPeer();
  await peer.setTrack({} as unknown as MediaStreamTrack);
  const pc = FakePc.all[0];
  await peer.updateSetup({ ...SETUP, ice_servers: [] }, true);
  assert.deepEqual(last(pc.offers), { iceRestart: true });
  assert.deepEqual((pc.config as RTCConfiguration).iceServers, []);
  await peer.handleSignal({ kind: "description", type: "answer", sdp: "a" });
  pc.set("connected");
  const n = pc.offers.length;
  await peer.updateSetup(SETUP, true);
  assert.equal(pc.offers.length, n, "connected: nothing to do");
});

test("agent peer: answers receive-only; a new visitor connection gets a new one", async () => {
  FakePc.all = [];
  const sent: Signal[] = [];
  const streams: unknown[] = [];
  const peer = new SharePeer("agent", SETUP, {
    createPc: (c) => new FakePc(c) as unknown as RTCPeerConnection,
    send: (s) => (sent.push(s), true),
    onTrack: (s) => streams.push(s),
  });
  await peer.handleSignal({ kind: "candidate", candidate: "early", sdp_mid: "0", sdp_m_line_index: 0, username_fragment: null });
  await peer.handleSignal({ kind: "description", type: "offer", sdp: "o\r\na=fingerprint:sha-256 V1\r\n" });
  const pc = FakePc.all[0];
  assert.equal(pc.transceivers[0].direction, "recvonly");
  assert.equal(pc.senders.length, 0, "never sends media");
  assert.equal((sent[0] as { type: string }).type, "answer");
  assert.equal(pc.candidates.length, 1);
  pc.ontrack?.({ streams: ["S"], track: {} });
  assert.deepEqual(streams, ["S"]);
  // ICE restart offer from the same connection: same pc.
  await peer.handleSignal({ kind: "description", type: "offer", sdp: "o2\r\na=fingerprint:sha-256 V1\r\n" });
  assert.equal(FakePc.all.length, 1);
  // A new connection (other DTLS fingerprint): a new pc.
  await peer.handleSignal({ kind: "description", type: "offer", sdp: "o3\r\na=fingerprint:sha-256 V2\r\n" });
  assert.equal(FakePc.all.length, 2);
  assert.ok(pc.closed);
  // Mode and restart requests are for the visitor only.
  await peer.handleSignal({ kind: "restart_request" });
  assert.equal(FakePc.all.length, 2);
  peer.restartNow();
  assert.deepEqual(last(sent), { kind: "restart_request" });
  peer.close();
  assert.equal(peer.state, "closed");
});

// ------------------------------------------------------------------ visitor flow

test("capture support: secure context, API, frames", () => {
  const env = (o: Partial<CaptureEnv>): CaptureEnv => ({ secure: true, hasGetDisplayMedia: true, framed: false, frameAllowed: null, ...o });
  assert.equal(captureSupport(env({})), "ok");
  assert.equal(captureSupport(env({ secure: false })), "insecure");
  assert.equal(captureSupport(env({ hasGetDisplayMedia: false })), "unsupported");
  assert.equal(captureSupport(env({ framed: true, frameAllowed: false })), "frame");
  assert.equal(captureSupport(env({ framed: true, frameAllowed: true })), "ok");
});

test("capture errors map to steps and messages", () => {
  const err = (name: string, message = "") => Object.assign(new Error(message), { name });
  assert.deepEqual(classifyCaptureError(err("NotAllowedError", "Permission denied")), { problem: "cancelled", step: "cancelled", detail: "the visitor closed the picker or chose Block" });
  assert.equal(classifyCaptureError(err("NotAllowedError", "Permission denied by system")).problem, "system_denied");
  assert.equal(classifyCaptureError(err("NotAllowedError", 'Access to the feature "display-capture" is disallowed by permissions policy.')).problem, "frame");
  assert.equal(classifyCaptureError(err("SecurityError")).problem, "frame");
  assert.deepEqual(classifyCaptureError(err("NotFoundError")), { problem: "not_found", step: "failed", detail: "nothing to capture" });
  assert.equal(classifyCaptureError(err("NotReadableError")).problem, "not_readable");
  assert.equal(classifyCaptureError(err("AbortError")).problem, "aborted");
  assert.equal(classifyCaptureError(err("InvalidStateError")).problem, "activation");
  assert.equal(classifyCaptureError(new TypeError("x")).problem, "unsupported");
  assert.equal(classifyCaptureError("weird").problem, "other");
  const o = displayMediaOptions({ preferCurrentTab: true } as Partial<DisplayMediaStreamOptions>) as unknown as Record<string, unknown>;
  assert.equal(o.audio, false);
  assert.equal(o.selfBrowserSurface, "include");
  assert.equal(o.preferCurrentTab, true);
});

test("a refusal too soon for a person is a standing block, a later one a closed picker", () => {
  const notAllowed = (message: string) => Object.assign(new Error(message), { name: "NotAllowedError" });
  // Firefox's words for both (a "Block" remembered for the site, or its prompt dismissed).
  const firefox = notAllowed("The request is not allowed by the user agent or the platform in the current context.");
  const blocked = { problem: "denied", step: "failed", detail: "the visitor's browser refused without asking them (screen sharing is blocked for this site)" };
  const closed = { problem: "cancelled", step: "cancelled", detail: "the visitor closed the picker or chose Block" };
  assert.equal(BLOCKED_WITHIN_MS, 500);
  assert.deepEqual(classifyCaptureError(firefox, 230), blocked, "Firefox's measured refusal after a Block");
  assert.deepEqual(classifyCaptureError(firefox, 0), blocked);
  assert.deepEqual(classifyCaptureError(firefox, BLOCKED_WITHIN_MS - 1), blocked);
  assert.deepEqual(classifyCaptureError(firefox, BLOCKED_WITHIN_MS), closed);
  assert.deepEqual(classifyCaptureError(firefox, 4000), closed);
  assert.deepEqual(classifyCaptureError(notAllowed("Permission denied"), 120), blocked, "Chromium's words");
  // Without a clock, or with one that went backwards, nothing is guessed.
  assert.deepEqual(classifyCaptureError(firefox, null), closed);
  assert.deepEqual(classifyCaptureError(firefox, -5), closed);
  // What the message itself says wins over timing.
  assert.equal(classifyCaptureError(notAllowed("Permission denied by system"), 10).problem, "system_denied");
  assert.equal(classifyCaptureError(notAllowed("Access to the feature \"display-capture\" is disallowed by permissions policy."), 10).problem, "frame");
  assert.equal(classifyCaptureError(Object.assign(new Error(""), { name: "NotFoundError" }), 10).problem, "not_found");
  // The visitor's words: a block is not a closed picker, and pictures are on offer.
  assert.match(SHARE_STRINGS.en.problems.denied, /blocking screen sharing/);
  for (const lang of ["en", "de", "fr"] as const) assert.doesNotMatch(SHARE_STRINGS[lang].problems.unsupported, /once that is available|Sobald es möglich|pourrez bientôt/);
  assert.match(SHARE_STRINGS.en.problems.unsupported, /send the agent a picture/);
});

class FakeTrack extends EventTarget {
  contentHint = "";
  stopped = false;
  readyState: "live" | "ended" = "live";
  stop() {
    this.stopped = true;
  }
}

function shareEvent(seq: number, share: string, state: ShareState, message: string | null = null, by: Role = state === "invited" ? "agent" : "visitor"): Event {
  return { seq, at: seq, kind: "share", share, state, by, agent: by === "agent" ? { id: 1, display_name: "Anna" } : null, message, detail: null };
}

function visitorShare(env: Partial<CaptureEnv> = {}, now?: () => number) {
  FakePc.all = [];
  const sent: ClientMessage[] = [];
  const calls: DisplayMediaStreamOptions[] = [];
  let resolve!: (s: MediaStream) => void;
  let reject!: (e: unknown) => void;
  let popup: string | null = null;
  let popupOk = true;
  const track = new FakeTrack();
  const stream = { getVideoTracks: () => [track], getTracks: () => [track] } as unknown as MediaStream;
  const share = new VisitorShare({
    send: (m) => (sent.push(m), true),
    env: () => ({ secure: true, hasGetDisplayMedia: true, framed: false, frameAllowed: null, ...env }),
    getDisplayMedia: (o) => {
      calls.push(o);
      return new Promise((res, rej) => ((resolve = res), (reject = rej)));
    },
    createPc: (c) => new FakePc(c) as unknown as RTCPeerConnection,
    prepare: async (s) => {
      const t = s.getVideoTracks()[0];
      return { track: t, raw: t, selfCapture: false, stop: () => t.stop() } as Prepared;
    },
    openPopup: (id) => ((popup = id), popupOk),
    now,
  });
  const steps = () => sent.filter((m) => m.type === "share_progress").map((m) => (m.type === "share_progress" ? m.step + (m.detail ? `:${m.detail}` : "") : ""));
  return {
    share,
    sent,
    calls,
    steps,
    track,
    stream,
    resolve: (s = stream) => resolve(s),
    reject: (e: unknown) => reject(e),
    popup: () => popup,
    blockPopup: () => (popupOk = false),
  };
}

test("visitor: nothing is captured before the click; accept calls the picker at once", async () => {
  const v = visitorShare();
  v.share.onEvent(shareEvent(3, "S1", "invited", "May I?"));
  assert.equal(v.share.phase, "invited");
  assert.equal(v.share.invitation, "May I?");
  assert.equal(v.share.agentName, "Anna");
  assert.equal(v.calls.length, 0);
  v.share.accept();
  assert.equal(v.calls.length, 1, "getDisplayMedia called synchronously in the click");
  assert.deepEqual(v.steps(), ["accepted", "choosing"]);
  assert.equal(v.share.phase, "picking");
  v.resolve();
  await tick();
  await tick();
  assert.equal(v.share.phase, "sharing");
  assert.deepEqual(v.steps(), ["accepted", "choosing", "sharing"]);
  assert.equal(v.track.contentHint, "detail");
  assert.equal(FakePc.all.length, 0, "waits for the setup");
  await v.share.onSetup("S1", SETUP);
  assert.equal(FakePc.all.length, 1);
  const offer = v.sent.find((m) => m.type === "share_signal");
  assert.ok(offer && offer.type === "share_signal" && offer.share === "S1" && offer.signal.kind === "description");
  // Signals for other shares are ignored.
  await v.share.onSignal("OTHER", { kind: "mode", mode: "motion" });
  assert.equal(v.share.peer?.mode, "text");
  await v.share.onSignal("S1", { kind: "mode", mode: "motion" });
  assert.equal(v.share.peer?.mode, "motion");
  // The browser's own stop button.
  v.track.dispatchEvent(new Event("ended"));
  assert.deepEqual(last(v.steps()), "stopped");
  assert.equal(v.share.phase, "idle");
  assert.ok(v.track.stopped);
  assert.ok(FakePc.all[0].closed);
});

test("visitor: decline, cancel, failure, unsupported", async () => {
  const a = visitorShare();
  a.share.onEvent(shareEvent(1, "S", "invited"));
  a.share.decline();
  assert.deepEqual(a.steps(), ["declined"]);
  assert.equal(a.calls.length, 0);

  const b = visitorShare();
  b.share.onEvent(shareEvent(1, "S", "invited"));
  b.share.accept();
  b.reject(Object.assign(new Error("Permission denied"), { name: "NotAllowedError" }));
  await tick();
  assert.deepEqual(b.steps(), ["accepted", "choosing", "cancelled"]);
  assert.equal(b.share.problem, "cancelled");

  const c = visitorShare();
  c.share.onEvent(shareEvent(1, "S", "invited"));
  c.share.accept();
  c.reject(Object.assign(new Error(""), { name: "NotFoundError" }));
  await tick();
  assert.deepEqual(c.steps(), ["accepted", "choosing", "failed:nothing to capture"]);

  const d = visitorShare({ hasGetDisplayMedia: false });
  d.share.onEvent(shareEvent(1, "S", "invited"));
  d.share.accept();
  assert.equal(d.calls.length, 0);
  assert.deepEqual(d.steps(), ["accepted", "failed:the browser cannot share its screen"]);
  assert.equal(d.share.problem, "unsupported");

  const e = visitorShare({ secure: false });
  e.share.onEvent(shareEvent(1, "S", "invited"));
  e.share.accept();
  assert.equal(e.share.problem, "insecure");
});

test("visitor: a refusal within the threshold of the click is a standing block; after it, a closed picker", async () => {
  const firefoxRefusal = () => Object.assign(new Error("The request is not allowed by the user agent or the platform in the current context."), { name: "NotAllowedError" });
  const clock = new FakeClock();
  const a = visitorShare({}, clock.nowFn);
  a.share.onEvent(shareEvent(1, "S", "invited"));
  a.share.accept();
  clock.advance(230);
  a.reject(firefoxRefusal());
  await tick();
  assert.deepEqual(a.steps(), ["accepted", "choosing", "failed:the visitor's browser refused without asking them (screen sharing is blocked for this site)"]);
  assert.equal(a.share.problem, "denied");
  assert.equal(a.share.phase, "idle");

  const b = visitorShare({}, clock.nowFn);
  b.share.onEvent(shareEvent(1, "S", "invited"));
  b.share.accept();
  clock.advance(BLOCKED_WITHIN_MS);
  b.reject(firefoxRefusal());
  await tick();
  assert.deepEqual(b.steps(), ["accepted", "choosing", "cancelled"]);
  assert.equal(b.share.problem, "cancelled");

  // Timed from the click, not from the invitation.
  const c = visitorShare({}, clock.nowFn);
  c.share.onEvent(shareEvent(1, "S", "invited"));
  clock.advance(60_000);
  c.share.accept();
  clock.advance(BLOCKED_WITHIN_MS - 1);
  c.reject(firefoxRefusal());
  await tick();
  assert.equal(c.share.problem, "denied");
});

test("visitor: a frame without permission shares from a pop-up; a blocked pop-up is reported", () => {
  const a = visitorShare({ framed: true, frameAllowed: false });
  a.share.onEvent(shareEvent(1, "S9", "invited"));
  a.share.accept();
  assert.equal(a.popup(), "S9");
  assert.equal(a.share.phase, "popup");
  assert.deepEqual(a.steps(), [], "the pop-up asks for consent itself");
  // The pop-up moves the share on: the widget does not interfere.
  a.share.onEvent(shareEvent(2, "S9", "accepted"));
  assert.equal(a.share.phase, "popup");

  const b = visitorShare({ framed: true, frameAllowed: false });
  b.blockPopup();
  b.share.onEvent(shareEvent(1, "S9", "invited"));
  b.share.accept();
  assert.deepEqual(b.steps(), ["accepted", "failed:pop-up blocked"]);
  assert.equal(b.share.problem, "popup_blocked");
});

test("visitor: change what I share; a cancelled picker keeps the old stream", async () => {
  const v = visitorShare();
  v.share.onEvent(shareEvent(1, "S", "invited"));
  await v.share.onSetup("S", SETUP);
  v.share.accept();
  v.resolve();
  await tick();
  await tick();
  assert.equal(v.share.phase, "sharing");
  const first = v.share.prepared;
  v.share.change();
  assert.equal(v.calls.length, 2);
  assert.equal(v.share.phase, "changing");
  v.reject(Object.assign(new Error("Permission denied"), { name: "NotAllowedError" }));
  await tick();
  assert.equal(v.share.phase, "sharing");
  assert.equal(v.share.prepared, first);
  assert.equal(v.share.problem, "change_cancelled");
  assert.deepEqual(v.steps().slice(-2), ["choosing", "sharing"]);
  assert.ok(!v.track.stopped);

  v.share.change();
  const t2 = new FakeTrack();
  v.resolve({ getVideoTracks: () => [t2], getTracks: () => [t2] } as unknown as MediaStream);
  await tick();
  await tick();
  await tick();
  assert.equal(v.share.prepared?.track, t2 as unknown as MediaStreamTrack);
  assert.ok(v.track.stopped, "old capture stopped");
  assert.equal(FakePc.all.length, 1, "same connection");
  assert.equal(FakePc.all[0].senders[0].track, t2);
});

test("visitor: the agent ending the share stops the capture; a new invitation starts afresh", async () => {
  const v = visitorShare();
  v.share.onEvent(shareEvent(1, "S", "invited"));
  v.share.accept();
  v.resolve();
  await tick();
  await tick();
  v.share.onEvent(shareEvent(5, "S", "ended", null, "agent"));
  assert.equal(v.share.phase, "idle");
  assert.ok(v.track.stopped);
  v.share.onEvent(shareEvent(6, "S2", "invited"));
  assert.equal(v.share.phase, "invited");
  assert.equal(v.share.problem, null);
});

test("visitor: ended while the picker was open drops the late stream", async () => {
  const v = visitorShare();
  v.share.onEvent(shareEvent(1, "S", "invited"));
  v.share.accept();
  v.share.onEvent(shareEvent(4, "S", "ended", null, "agent"));
  v.resolve();
  await tick();
  assert.ok(v.track.stopped);
  assert.equal(v.share.prepared, null);
  assert.ok(!v.steps().includes("sharing"));
});

test("visitor: a capture that ended while it was prepared stops the share; in a change, the old picture goes on", async () => {
  const v = visitorShare();
  v.share.onEvent(shareEvent(1, "S", "invited"));
  v.share.accept();
  // The browser's own stop came before the privacy pipeline was ready.
  v.track.readyState = "ended";
  v.resolve();
  await tick();
  await tick();
  assert.equal(v.share.phase, "idle");
  assert.equal(v.share.prepared, null);
  assert.ok(v.track.stopped);
  assert.deepEqual(v.steps(), ["accepted", "choosing", "stopped"]);

  const w = visitorShare();
  w.share.onEvent(shareEvent(1, "S", "invited"));
  w.share.accept();
  w.resolve();
  await tick();
  await tick();
  const first = w.share.prepared;
  w.share.change();
  const t2 = new FakeTrack();
  t2.readyState = "ended";
  w.resolve({ getVideoTracks: () => [t2], getTracks: () => [t2] } as unknown as MediaStream);
  await tick();
  await tick();
  await tick();
  assert.equal(w.share.phase, "sharing");
  assert.equal(w.share.prepared, first, "the old capture goes on");
  assert.ok(t2.stopped, "the ended one is let go");
  assert.ok(!w.track.stopped);
  assert.deepEqual(w.steps().slice(-2), ["choosing", "sharing"]);
});

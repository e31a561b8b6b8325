// Connection figures from RTCPeerConnection.getStats(): a pure function of the
// report's entries (plus the previous sample, for rates). No DOM.

export type Route = "direct" | "relayed";

export interface StatsSample {
  timestamp: number;
  bytes: number;
  frames: number;
  packets: number;
  lost: number;
}

export interface ShareFigures {
  width: number | null;
  height: number | null;
  /** Frames per second (reported, or computed from the frame counter). */
  fps: number | null;
  /** Media bits per second since the previous sample. */
  bitrate: number | null;
  /** Round trip of the selected candidate pair, milliseconds. */
  rttMs: number | null;
  /** Packets lost since the previous sample, percent. */
  lossPct: number | null;
  route: Route | null;
  localType: string | null;
  remoteType: string | null;
  sample: StatsSample | null;
}

type Entry = Record<string, unknown> & { type?: string; id?: string };

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The selected candidate pair: via the transport, else the nominated succeeded pair. */
export function selectedPair(entries: readonly Entry[]): Entry | null {
  const byId = new Map<string, Entry>();
  for (const e of entries) if (typeof e.id === "string") byId.set(e.id, e);
  for (const e of entries) {
    if (e.type === "transport" && typeof e.selectedCandidatePairId === "string") {
      const p = byId.get(e.selectedCandidatePairId);
      if (p) return p;
    }
  }
  for (const e of entries) if (e.type === "candidate-pair" && (e.selected === true || (e.nominated === true && e.state === "succeeded"))) return e;
  return null;
}

/** Whether the selected path goes through a TURN relay (either end's candidate is `relay`). */
export function routeOf(entries: readonly Entry[]): { route: Route | null; localType: string | null; remoteType: string | null } {
  const pair = selectedPair(entries);
  if (!pair) return { route: null, localType: null, remoteType: null };
  const find = (id: unknown) => entries.find((e) => e.id === id);
  const local = find(pair.localCandidateId);
  const remote = find(pair.remoteCandidateId);
  const localType = typeof local?.candidateType === "string" ? local.candidateType : null;
  const remoteType = typeof remote?.candidateType === "string" ? remote.candidateType : null;
  if (!localType && !remoteType) return { route: null, localType, remoteType };
  return { route: localType === "relay" || remoteType === "relay" ? "relayed" : "direct", localType, remoteType };
}

/** Figures for the video stream (`inbound-rtp` for the agent, `outbound-rtp` for the visitor). */
export function shareFigures(entries: readonly Entry[], prev: StatsSample | null, direction: "inbound" | "outbound" = "inbound"): ShareFigures {
  const type = direction === "inbound" ? "inbound-rtp" : "outbound-rtp";
  const rtp = entries.find((e) => e.type === type && (e.kind === "video" || e.mediaType === "video"));
  const { route, localType, remoteType } = routeOf(entries);
  const pair = selectedPair(entries);
  const rtt = num(pair?.currentRoundTripTime);
  const out: ShareFigures = {
    width: null,
    height: null,
    fps: null,
    bitrate: null,
    rttMs: rtt === null ? null : Math.round(rtt * 1000),
    lossPct: null,
    route,
    localType,
    remoteType,
    sample: null,
  };
  if (!rtp) return out;
  out.width = num(rtp.frameWidth);
  out.height = num(rtp.frameHeight);
  const ts = num(rtp.timestamp) ?? 0;
  const bytes = num(direction === "inbound" ? rtp.bytesReceived : rtp.bytesSent) ?? 0;
  const frames = num(direction === "inbound" ? rtp.framesDecoded : rtp.framesEncoded) ?? 0;
  const packets = num(direction === "inbound" ? rtp.packetsReceived : rtp.packetsSent) ?? 0;
  let lost = num(rtp.packetsLost) ?? 0;
  if (direction === "outbound") {
    // The loss the receiver reports back to us.
    const remoteIn = entries.find((e) => e.type === "remote-inbound-rtp" && (e.kind === "video" || e.mediaType === "video"));
    lost = num(remoteIn?.packetsLost) ?? 0;
    if (rtt === null) {
      const r = num(remoteIn?.roundTripTime);
      if (r !== null) out.rttMs = Math.round(r * 1000);
    }
  }
  out.sample = { timestamp: ts, bytes, frames, packets, lost };
  const reported = num(rtp.framesPerSecond);
  if (prev && ts > prev.timestamp) {
    const dt = (ts - prev.timestamp) / 1000;
    out.bitrate = Math.max(0, Math.round(((bytes - prev.bytes) * 8) / dt));
    out.fps = reported ?? Math.max(0, Math.round(((frames - prev.frames) / dt) * 10) / 10);
    const dp = packets - prev.packets;
    const dl = lost - prev.lost;
    out.lossPct = dp + dl > 0 ? Math.max(0, Math.round((dl / (dp + dl)) * 1000) / 10) : 0;
  } else {
    out.fps = reported;
  }
  return out;
}

/** "1.2 Mbit/s", "350 kbit/s". */
export function formatBitrate(bps: number | null): string {
  if (bps === null) return "–";
  if (bps >= 1_000_000) return (bps / 1_000_000).toFixed(1) + " Mbit/s";
  return Math.round(bps / 1000) + " kbit/s";
}

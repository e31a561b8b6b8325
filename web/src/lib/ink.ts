// Drawings over a screen share, without DOM: the agent's strokes in
// ten-thousandths of the shared picture (so they land on the same spot at any
// size), checked when they arrive (they come peer to peer, from the other
// browser), and which of them show now: an unpinned one fades after a few
// seconds.

import { MAX_INK_POINTS, type ShareInk } from "../protocol.gen";
import { DRAWING_FADE_MS, FADE_OUT_MS, arrowPath, linePath } from "./cobrowse-drawing";

/** How long an unpinned drawing shows, then fades out over INK_FADE_MS (as on a co-browsed page). */
export const INK_SHOW_MS = DRAWING_FADE_MS;
export const INK_FADE_MS = FADE_OUT_MS;
/** The scale of a point: 10,000 is the picture's full width or height. */
export const INK_SCALE = 10_000;
/** Most drawings kept at once (the oldest goes). */
const MAX_STROKES = 200;

export interface InkStroke {
  id: number;
  points: number[];
  arrow: boolean;
  pinned: boolean;
  /** When it arrived (ms, the caller's clock). */
  at: number;
}

/** A drawing as it came off the channel, or null when it is not one. */
export function decodeInk(text: string): ShareInk | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (o.kind === "clear") return { kind: "clear" };
  if (o.kind !== "stroke") return null;
  const { id, points, arrow, pinned } = o;
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0xffffffff) return null;
  if (typeof arrow !== "boolean" || typeof pinned !== "boolean" || !Array.isArray(points)) return null;
  if (points.length < 2 || points.length % 2 !== 0 || points.length > 2 * MAX_INK_POINTS) return null;
  if (!points.every((p) => typeof p === "number" && Number.isInteger(p) && p >= 0 && p <= INK_SCALE)) return null;
  return { kind: "stroke", id, points: points as number[], arrow, pinned };
}

/** The strokes on one picture. */
export class InkBoard {
  private strokes = new Map<number, InkStroke>();

  apply(ink: ShareInk, now: number): void {
    if (ink.kind === "clear") {
      this.strokes.clear();
      return;
    }
    this.strokes.delete(ink.id);
    this.strokes.set(ink.id, { id: ink.id, points: ink.points, arrow: ink.arrow, pinned: ink.pinned, at: now });
    while (this.strokes.size > MAX_STROKES) this.strokes.delete(this.strokes.keys().next().value as number);
  }

  clear(): void {
    this.strokes.clear();
  }

  /** What shows now, each with its opacity; the faded ones are dropped. */
  visible(now: number): { stroke: InkStroke; opacity: number }[] {
    const out: { stroke: InkStroke; opacity: number }[] = [];
    for (const [id, s] of this.strokes) {
      const age = now - s.at;
      if (s.pinned || age < INK_SHOW_MS) out.push({ stroke: s, opacity: 1 });
      else if (age < INK_SHOW_MS + INK_FADE_MS) out.push({ stroke: s, opacity: 1 - (age - INK_SHOW_MS) / INK_FADE_MS });
      else this.strokes.delete(id);
    }
    return out;
  }

  get size(): number {
    return this.strokes.size;
  }
}

/**
 * Points (in picture units) thinned to at most MAX_INK_POINTS, keeping the ends;
 * each clamped into the picture.
 */
export function fitPoints(points: number[]): number[] {
  const clamp = (v: number) => Math.max(0, Math.min(INK_SCALE, Math.round(v)));
  const pairs = points.length / 2;
  const step = Math.max(1, Math.ceil(pairs / MAX_INK_POINTS));
  const out: number[] = [];
  for (let i = 0; i < pairs; i += step) out.push(clamp(points[2 * i]), clamp(points[2 * i + 1]));
  const lx = clamp(points[points.length - 2]);
  const ly = clamp(points[points.length - 1]);
  if (out[out.length - 2] !== lx || out[out.length - 1] !== ly) {
    if (out.length >= 2 * MAX_INK_POINTS) out.splice(out.length - 2, 2);
    out.push(lx, ly);
  }
  return out;
}

/** An SVG path for a stroke drawn in a box of `width` × `height` pixels (with an arrow head when asked; the same geometry as drawings on a co-browsed page). */
export function strokePath(s: { points: number[]; arrow: boolean }, width: number, height: number): string {
  const px = s.points.map((v, i) => Math.round(((v / INK_SCALE) * (i % 2 === 0 ? width : height)) * 10) / 10);
  const head = s.arrow ? arrowPath(px) : null;
  return head ? `${linePath(px)}${head}` : linePath(px);
}

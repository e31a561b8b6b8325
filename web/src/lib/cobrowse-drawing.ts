// The agent's drawings on the visitor's page, without the DOM: the strokes each
// side shows (which fade when, which stay), a line being drawn (its points
// thinned and cut to the relay's limits), the SVG geometry of a line and its
// arrowhead, and the visitor's "cleared" notice read out of the stream's items.
// The widget (widget/cobrowse-draw.ts) and the console's mirror
// (console/mirror-drawing.ts) draw what this holds.

import {
  DRAWING_FADE_MS,
  DRAWINGS_TAG,
  MAX_DRAWINGS,
  MAX_STROKE_POINTS,
  MAX_STROKE_REACH,
  type Anchor,
  type DrawingsNotice,
  type Guidance,
} from "../protocol.gen";
import { EventType } from "./rrweb-codes";

export type Stroke = Extract<Guidance, { kind: "stroke" }>;
export { DRAWING_FADE_MS, DRAWINGS_TAG };

/** How long a fading drawing takes to disappear (its opacity's transition). */
export const FADE_OUT_MS = 600;
/** Points of a line being drawn closer than this to the previous one are skipped (CSS pixels). */
const MIN_STEP = 2;

/** A stroke as shown: when it starts fading (never when pinned). */
export interface Shown {
  stroke: Stroke;
  fadeAt: number | null;
}

/** A stroke as the relay lets it through (checked again: what arrives is not trusted). */
export function isStroke(g: unknown): g is Stroke {
  const s = g as Partial<Stroke> | null;
  if (!s || typeof s !== "object" || s.kind !== "stroke") return false;
  const a = s.at as Partial<Anchor> | undefined;
  const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  if (!a || !finite(a.fx) || !finite(a.fy) || !finite(a.x) || !finite(a.y)) return false;
  if (a.node !== null && !Number.isInteger(a.node)) return false;
  const p = s.points;
  return (
    Number.isInteger(s.id) &&
    Array.isArray(p) &&
    p.length >= 2 &&
    p.length % 2 === 0 &&
    p.length <= 2 * MAX_STROKE_POINTS &&
    p.every((v) => Number.isInteger(v) && Math.abs(v) <= MAX_STROKE_REACH) &&
    typeof s.arrow === "boolean" &&
    typeof s.pinned === "boolean"
  );
}

/**
 * The drawings one side shows: at most MAX_DRAWINGS (the oldest goes), each
 * unpinned one fading DRAWING_FADE_MS after its last change. Time is passed in.
 */
export class Drawings {
  private shown = new Map<number, Shown>();

  constructor(private readonly fadeMs = DRAWING_FADE_MS) {}

  /** A new stroke, or a newer version of one (the same id). */
  put(stroke: Stroke, now: number): void {
    this.shown.delete(stroke.id);
    this.shown.set(stroke.id, { stroke, fadeAt: stroke.pinned ? null : now + this.fadeMs });
    for (const id of this.shown.keys()) {
      if (this.shown.size <= MAX_DRAWINGS) break;
      this.shown.delete(id);
    }
  }

  /** Takes the strokes past their time away; returns their ids. */
  expire(now: number): number[] {
    const gone: number[] = [];
    for (const [id, s] of this.shown) {
      if (s.fadeAt !== null && now >= s.fadeAt + FADE_OUT_MS) gone.push(id);
    }
    for (const id of gone) this.shown.delete(id);
    return gone;
  }

  /** Whether a stroke is fading out now. */
  fading(id: number, now: number): boolean {
    const at = this.shown.get(id)?.fadeAt;
    return at !== undefined && at !== null && now >= at;
  }

  /** When something next changes by itself (a stroke starts or ends fading), or null. */
  nextChange(now: number): number | null {
    let next: number | null = null;
    for (const s of this.shown.values()) {
      if (s.fadeAt === null) continue;
      const at = now < s.fadeAt ? s.fadeAt : s.fadeAt + FADE_OUT_MS;
      if (next === null || at < next) next = at;
    }
    return next;
  }

  clear(): void {
    this.shown.clear();
  }

  get size(): number {
    return this.shown.size;
  }

  get(id: number): Shown | undefined {
    return this.shown.get(id);
  }

  ids(): number[] {
    return [...this.shown.keys()];
  }

  /** Applies guidance: strokes and clears; anything else is not a drawing. True when something changed. */
  apply(items: Guidance[], now: number): boolean {
    let changed = false;
    for (const g of items) {
      if (g.kind === "clear") {
        changed ||= this.size > 0;
        this.clear();
      } else if (isStroke(g)) {
        this.put(g, now);
        changed = true;
      }
    }
    return changed;
  }
}

/**
 * A line being drawn: its first point is the anchor's place; the rest are kept
 * as offsets from it, thinned (a point within MIN_STEP of the previous one is
 * skipped) and within the relay's reach. `add` answers false when the line is
 * full (MAX_STROKE_POINTS): the caller starts another from the last point.
 */
export class Line {
  readonly points: number[] = [0, 0];

  /** Adds a point (offsets from the first, in CSS pixels of the page). */
  add(dx: number, dy: number): boolean {
    if (this.full) return false;
    const x = clampReach(dx);
    const y = clampReach(dy);
    const n = this.points.length;
    if (Math.hypot(x - this.points[n - 2], y - this.points[n - 1]) < MIN_STEP) return true;
    this.points.push(x, y);
    return true;
  }

  get full(): boolean {
    return this.points.length >= 2 * MAX_STROKE_POINTS;
  }

  /** The last point. */
  get last(): [number, number] {
    const n = this.points.length;
    return [this.points[n - 2], this.points[n - 1]];
  }
}

function clampReach(v: number): number {
  const r = Math.round(Number.isFinite(v) ? v : 0);
  return Math.max(-MAX_STROKE_REACH, Math.min(MAX_STROKE_REACH, r));
}

/** An SVG path through the points (offsets from 0, 0). A single point is a dot. */
export function linePath(points: readonly number[]): string {
  if (points.length < 2) return "";
  let d = `M${points[0]} ${points[1]}`;
  if (points.length === 2) return `${d}l0.01 0`;
  for (let i = 2; i + 1 < points.length; i += 2) d += `L${points[i]} ${points[i + 1]}`;
  return d;
}

/**
 * The arrowhead at the line's last point: two strokes back from the tip along
 * the direction the line came from (measured over its last `size` pixels, so a
 * shaky hand's last pixel does not turn it). Null for a line too short to point.
 */
export function arrowPath(points: readonly number[], size = 14): string | null {
  const n = points.length;
  if (n < 4) return null;
  const tx = points[n - 2];
  const ty = points[n - 1];
  let fx = points[n - 4];
  let fy = points[n - 3];
  for (let i = n - 4; i >= 0; i -= 2) {
    fx = points[i];
    fy = points[i + 1];
    if (Math.hypot(tx - fx, ty - fy) >= size) break;
  }
  const len = Math.hypot(tx - fx, ty - fy);
  if (len < 1) return null;
  const ux = (tx - fx) / len;
  const uy = (ty - fy) / len;
  // Two wings at ±30° back from the tip.
  const wing = (sign: number) => {
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6) * sign;
    const bx = -(ux * c - uy * s);
    const by = -(ux * s + uy * c);
    return `${round(tx + bx * size)} ${round(ty + by * size)}`;
  };
  return `M${wing(1)}L${tx} ${ty}L${wing(-1)}`;
}

const round = (v: number) => Math.round(v * 10) / 10;

/** Whether the stream's items hold the visitor's "cleared the drawings" (an rrweb custom event). */
export function drawingsClearedIn(items: readonly unknown[]): boolean {
  return items.some((item) => {
    const e = item as { type?: unknown; data?: { tag?: unknown; payload?: Partial<DrawingsNotice> | null } } | null;
    return !!e && e.type === EventType.Custom && e.data?.tag === DRAWINGS_TAG && e.data.payload?.kind === "cleared";
  });
}

/** The notice the visitor's page sends when the visitor clears the drawings. */
export const CLEARED: DrawingsNotice = { kind: "cleared" };

// The snapshot editor's model, without any DOM: shapes as data, hit-testing,
// moving, an undo/redo stack, the crop, the numbered-marker counter, and the
// annotations document kept with an image on the server (a JSON object with a
// `version`). Coordinates are image pixels of the base picture (before the crop).

export const ANNOTATIONS_VERSION = 1;

export type ShapeType = "rect" | "ellipse" | "line" | "arrow" | "pen" | "highlight" | "text" | "marker" | "blur";
export const SHAPE_TYPES: readonly ShapeType[] = ["rect", "ellipse", "line", "arrow", "pen", "highlight", "text", "marker", "blur"];

export interface Shape {
  id: number;
  type: ShapeType;
  /** CSS colour, `#rrggbb`. */
  color: string;
  /** Stroke width in image pixels (text: font size; marker: radius). */
  width: number;
  /** Flat list of points: x0, y0, x1, y1, … (two for boxes and lines, one for text and markers). */
  pts: number[];
  /** Text shapes: the words. */
  text?: string;
  /** Markers: the number shown. */
  n?: number;
}

export interface Crop {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface AnnotationsDoc {
  version: number;
  width: number;
  height: number;
  /** The stored image the shapes were drawn on, when there is one. */
  base: string | null;
  crop: Crop | null;
  shapes: Shape[];
  nextMarker: number;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const HEX = /^#[0-9a-f]{6}$/i;

/** Two-point shapes drawn by dragging from one corner / end to the other. */
export function isTwoPoint(t: ShapeType): boolean {
  return t === "rect" || t === "ellipse" || t === "line" || t === "arrow" || t === "blur";
}

/** Freehand shapes. */
export function isFreehand(t: ShapeType): boolean {
  return t === "pen" || t === "highlight";
}

/** A normalised box from two corners. */
export function boxOf(x0: number, y0: number, x1: number, y1: number): Box {
  return { x: Math.min(x0, x1), y: Math.min(y0, y1), w: Math.abs(x1 - x0), h: Math.abs(y1 - y0) };
}

/** Rough text width for hit-testing (the renderer measures exactly). */
export function textBox(s: Shape): Box {
  const size = s.width;
  const lines = (s.text || "").split("\n");
  const longest = Math.max(1, ...lines.map((l) => l.length));
  return { x: s.pts[0], y: s.pts[1], w: longest * size * 0.6, h: lines.length * size * 1.25 };
}

/** The shape's bounding box (image pixels). */
export function bounds(s: Shape): Box {
  if (s.type === "text") return textBox(s);
  if (s.type === "marker") {
    const r = s.width;
    return { x: s.pts[0] - r, y: s.pts[1] - r, w: 2 * r, h: 2 * r };
  }
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let i = 0; i + 1 < s.pts.length; i += 2) {
    x0 = Math.min(x0, s.pts[i]);
    y0 = Math.min(y0, s.pts[i + 1]);
    x1 = Math.max(x1, s.pts[i]);
    y1 = Math.max(y1, s.pts[i + 1]);
  }
  if (!isFinite(x0)) return { x: 0, y: 0, w: 0, h: 0 };
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Distance from (px, py) to the segment (ax, ay)–(bx, by). */
export function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((px - ax) * dx + (py - ay) * dy) / len2;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Whether (x, y) touches the shape, within `tol` image pixels. */
export function hits(s: Shape, x: number, y: number, tol: number): boolean {
  const p = s.pts;
  const reach = tol + s.width / 2;
  switch (s.type) {
    case "line":
    case "arrow":
      return segmentDistance(x, y, p[0], p[1], p[2], p[3]) <= reach;
    case "pen":
    case "highlight": {
      if (p.length === 2) return Math.hypot(x - p[0], y - p[1]) <= reach;
      for (let i = 0; i + 3 < p.length; i += 2) if (segmentDistance(x, y, p[i], p[i + 1], p[i + 2], p[i + 3]) <= reach) return true;
      return false;
    }
    case "ellipse": {
      const b = bounds(s);
      const rx = b.w / 2 + reach;
      const ry = b.h / 2 + reach;
      if (rx <= 0 || ry <= 0) return false;
      const nx = (x - (b.x + b.w / 2)) / rx;
      const ny = (y - (b.y + b.h / 2)) / ry;
      return nx * nx + ny * ny <= 1;
    }
    case "marker":
      return Math.hypot(x - p[0], y - p[1]) <= s.width + tol;
    default: {
      // rect, blur, text: anywhere inside the box (easy to grab).
      const b = bounds(s);
      return x >= b.x - reach && x <= b.x + b.w + reach && y >= b.y - reach && y <= b.y + b.h + reach;
    }
  }
}

function validShape(v: unknown): Shape | null {
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (typeof o.type !== "string" || !(SHAPE_TYPES as readonly string[]).includes(o.type)) return null;
  const type = o.type as ShapeType;
  if (!Array.isArray(o.pts) || o.pts.length < 2 || o.pts.length % 2 !== 0 || o.pts.length > 20000) return null;
  if (!o.pts.every((n) => typeof n === "number" && isFinite(n))) return null;
  const need = isTwoPoint(type) ? 4 : type === "text" || type === "marker" ? 2 : 0;
  if (need && o.pts.length !== need) return null;
  const color = typeof o.color === "string" && HEX.test(o.color) ? o.color.toLowerCase() : "#ff0000";
  const width = typeof o.width === "number" && isFinite(o.width) && o.width > 0 && o.width <= 1000 ? o.width : 4;
  const s: Shape = { id: 0, type, color, width, pts: o.pts.slice() as number[] };
  if (type === "text") {
    if (typeof o.text !== "string" || o.text === "") return null;
    s.text = o.text.slice(0, 2000);
  }
  if (type === "marker") s.n = typeof o.n === "number" && Number.isInteger(o.n) && o.n > 0 ? o.n : 1;
  return s;
}

function validCrop(v: unknown, width: number, height: number): Crop | null {
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  const n = [o.x, o.y, o.w, o.h];
  if (!n.every((x) => typeof x === "number" && isFinite(x))) return null;
  return clampCrop({ x: o.x as number, y: o.y as number, w: o.w as number, h: o.h as number }, width, height);
}

/** A crop inside the picture, whole pixels, at least 1×1; null if nothing is left. */
export function clampCrop(c: Crop, width: number, height: number): Crop | null {
  const x0 = Math.max(0, Math.min(width, Math.round(Math.min(c.x, c.x + c.w))));
  const y0 = Math.max(0, Math.min(height, Math.round(Math.min(c.y, c.y + c.h))));
  const x1 = Math.max(0, Math.min(width, Math.round(Math.max(c.x, c.x + c.w))));
  const y1 = Math.max(0, Math.min(height, Math.round(Math.max(c.y, c.y + c.h))));
  if (x1 - x0 < 1 || y1 - y0 < 1) return null;
  if (x0 === 0 && y0 === 0 && x1 === width && y1 === height) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Reads an annotations document; throws with a reason when it is not one. */
export function parseDoc(v: unknown): AnnotationsDoc {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an annotations document");
  const o = v as Record<string, unknown>;
  if (typeof o.version !== "number" || o.version < 1) throw new Error("no version");
  if (o.version > ANNOTATIONS_VERSION) throw new Error(`annotations version ${o.version} is newer than this console`);
  const width = typeof o.width === "number" && o.width > 0 ? o.width : 0;
  const height = typeof o.height === "number" && o.height > 0 ? o.height : 0;
  const shapes = (Array.isArray(o.shapes) ? o.shapes : []).map(validShape).filter((s): s is Shape => s !== null);
  const maxN = shapes.reduce((m, s) => (s.type === "marker" && s.n ? Math.max(m, s.n) : m), 0);
  const nextMarker = typeof o.nextMarker === "number" && Number.isInteger(o.nextMarker) && o.nextMarker > maxN ? o.nextMarker : maxN + 1;
  return {
    version: ANNOTATIONS_VERSION,
    width,
    height,
    base: typeof o.base === "string" && o.base ? o.base : null,
    crop: width && height ? validCrop(o.crop, width, height) : null,
    shapes,
    nextMarker,
  };
}

interface State {
  shapes: Shape[];
  crop: Crop | null;
  nextMarker: number;
}

function cloneState(s: State): State {
  return { shapes: s.shapes.map((x) => ({ ...x, pts: x.pts.slice() })), crop: s.crop ? { ...s.crop } : null, nextMarker: s.nextMarker };
}

const MAX_UNDO = 200;

/** The editable picture: shapes over a base of `width`×`height`, with undo/redo. */
export class Annotations {
  shapes: Shape[] = [];
  crop: Crop | null = null;
  nextMarker = 1;
  base: string | null = null;
  private undoStack: State[] = [];
  private redoStack: State[] = [];
  private ids = 1;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  static fromDoc(doc: AnnotationsDoc, width: number, height: number): Annotations {
    const a = new Annotations(width, height);
    a.base = doc.base;
    // Shapes were drawn on a picture of doc.width×doc.height; scale if the base differs.
    const kx = doc.width ? width / doc.width : 1;
    const ky = doc.height ? height / doc.height : 1;
    for (const s of doc.shapes) {
      const c = { ...s, pts: s.pts.map((v, i) => (i % 2 === 0 ? v * kx : v * ky)), id: a.ids++ };
      a.shapes.push(c);
    }
    a.crop = doc.crop ? clampCrop({ x: doc.crop.x * kx, y: doc.crop.y * ky, w: doc.crop.w * kx, h: doc.crop.h * ky }, width, height) : null;
    a.nextMarker = doc.nextMarker;
    return a;
  }

  toDoc(): AnnotationsDoc {
    return {
      version: ANNOTATIONS_VERSION,
      width: this.width,
      height: this.height,
      base: this.base,
      crop: this.crop ? { ...this.crop } : null,
      shapes: this.shapes.map((s) => {
        const out: Shape = { id: s.id, type: s.type, color: s.color, width: s.width, pts: s.pts.map((v) => Math.round(v * 10) / 10) };
        if (s.text !== undefined) out.text = s.text;
        if (s.n !== undefined) out.n = s.n;
        return out;
      }),
      nextMarker: this.nextMarker,
    };
  }

  private state(): State {
    return cloneState({ shapes: this.shapes, crop: this.crop, nextMarker: this.nextMarker });
  }

  private restore(s: State): void {
    this.shapes = s.shapes;
    this.crop = s.crop;
    this.nextMarker = s.nextMarker;
  }

  /** Remember the current state before a change (call once per user action). */
  checkpoint(): void {
    this.undoStack.push(this.state());
    if (this.undoStack.length > MAX_UNDO) this.undoStack.shift();
    this.redoStack = [];
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  undo(): boolean {
    const s = this.undoStack.pop();
    if (!s) return false;
    this.redoStack.push(this.state());
    this.restore(s);
    return true;
  }

  redo(): boolean {
    const s = this.redoStack.pop();
    if (!s) return false;
    this.undoStack.push(this.state());
    this.restore(s);
    return true;
  }

  /** Adds a shape (with a checkpoint); markers take the next number. */
  add(shape: Omit<Shape, "id">): Shape {
    this.checkpoint();
    const s: Shape = { ...shape, pts: shape.pts.slice(), id: this.ids++ };
    if (s.type === "marker") s.n = this.nextMarker++;
    this.shapes.push(s);
    return s;
  }

  get(id: number): Shape | undefined {
    return this.shapes.find((s) => s.id === id);
  }

  /** Removes a shape (with a checkpoint). */
  remove(id: number): boolean {
    const i = this.shapes.findIndex((s) => s.id === id);
    if (i < 0) return false;
    this.checkpoint();
    this.shapes.splice(i, 1);
    return true;
  }

  /** Moves a shape by (dx, dy) without a checkpoint (call checkpoint() when the drag starts). */
  translate(id: number, dx: number, dy: number): void {
    const s = this.get(id);
    if (!s) return;
    for (let i = 0; i < s.pts.length; i += 2) {
      s.pts[i] += dx;
      s.pts[i + 1] += dy;
    }
  }

  /** Moves with a checkpoint (keyboard nudges, tests). */
  move(id: number, dx: number, dy: number): void {
    if (!this.get(id)) return;
    this.checkpoint();
    this.translate(id, dx, dy);
  }

  /** Changes colour / width / text of a shape (with a checkpoint). */
  update(id: number, patch: Partial<Pick<Shape, "color" | "width" | "text">>): void {
    const s = this.get(id);
    if (!s) return;
    this.checkpoint();
    Object.assign(s, patch);
  }

  /** The topmost shape under (x, y), or null. */
  hitTest(x: number, y: number, tol = 6): Shape | null {
    for (let i = this.shapes.length - 1; i >= 0; i--) if (hits(this.shapes[i], x, y, tol)) return this.shapes[i];
    return null;
  }

  /** Sets (or with null clears) the crop, with a checkpoint. */
  setCrop(c: Crop | null): void {
    this.checkpoint();
    this.crop = c ? clampCrop(c, this.width, this.height) : null;
  }

  /** The part of the picture that is kept. */
  get view(): Crop {
    return this.crop ?? { x: 0, y: 0, w: this.width, h: this.height };
  }

  clear(): void {
    if (this.shapes.length === 0 && !this.crop) return;
    this.checkpoint();
    this.shapes = [];
    this.crop = null;
    this.nextMarker = 1;
  }
}

/** Drops points closer than `min` to the previous one (freehand smoothing of input noise). */
export function simplify(pts: number[], min: number): number[] {
  if (pts.length <= 4) return pts.slice();
  const out = [pts[0], pts[1]];
  for (let i = 2; i + 1 < pts.length; i += 2) {
    const lx = out[out.length - 2];
    const ly = out[out.length - 1];
    if (Math.hypot(pts[i] - lx, pts[i + 1] - ly) >= min || i + 2 >= pts.length) out.push(pts[i], pts[i + 1]);
  }
  return out;
}

/** The two barbs of an arrow head at (x1, y1) coming from (x0, y0). */
export function arrowHead(x0: number, y0: number, x1: number, y1: number, width: number): number[] {
  const len = Math.max(10, width * 4);
  const a = Math.atan2(y1 - y0, x1 - x0);
  const spread = Math.PI / 7;
  return [x1 - len * Math.cos(a - spread), y1 - len * Math.sin(a - spread), x1 - len * Math.cos(a + spread), y1 - len * Math.sin(a + spread)];
}

import { test } from "node:test";
import assert from "node:assert/strict";
import { DRAWING_FADE_MS, Drawings, FADE_OUT_MS, Line, arrowPath, drawingsClearedIn, isStroke, linePath, type Stroke } from "../src/lib/cobrowse-drawing";
import { MAX_DRAWINGS, MAX_STROKE_POINTS, MAX_STROKE_REACH } from "../src/protocol.gen";

const at = { node: 4, fx: 0.5, fy: 0.25, x: 100, y: 900 };
const stroke = (id: number, pinned = false, points = [0, 0, 10, 5]): Stroke => ({ kind: "stroke", id, at, points, arrow: false, pinned });

test("an unpinned drawing fades after its last change, a pinned one stays, and a clear takes both", () => {
  const d = new Drawings();
  assert.equal(d.apply([stroke(1), stroke(2, true)], 0), true);
  assert.equal(d.nextChange(0), DRAWING_FADE_MS);
  // Drawn on: the same id again starts its time over.
  d.apply([stroke(1, false, [0, 0, 10, 5, 20, 9])], 3000);
  assert.deepEqual(d.expire(DRAWING_FADE_MS + FADE_OUT_MS), []);
  assert.equal(d.fading(1, 3000 + DRAWING_FADE_MS), true);
  assert.equal(d.fading(2, 1e9), false, "pinned");
  assert.equal(d.nextChange(3000 + DRAWING_FADE_MS), 3000 + DRAWING_FADE_MS + FADE_OUT_MS);
  assert.deepEqual(d.expire(3000 + DRAWING_FADE_MS + FADE_OUT_MS), [1]);
  assert.deepEqual(d.ids(), [2]);
  assert.equal(d.nextChange(1e9), null, "a pinned drawing changes by nothing");
  assert.equal(d.apply([{ kind: "pointer", at: null }], 0), false, "not a drawing");
  assert.equal(d.apply([{ kind: "clear" }], 0), true);
  assert.equal(d.size, 0);
});

test("at most MAX_DRAWINGS are kept: the oldest goes", () => {
  const d = new Drawings();
  for (let i = 0; i < MAX_DRAWINGS + 5; i++) d.put(stroke(i, true), i);
  assert.equal(d.size, MAX_DRAWINGS);
  assert.equal(d.ids()[0], 5);
});

test("strokes that arrive are checked again: odd ones are not drawn", () => {
  assert.ok(isStroke(stroke(1)));
  for (const bad of [
    { ...stroke(1), points: [] },
    { ...stroke(1), points: [0, 0, 5] },
    { ...stroke(1), points: [0, MAX_STROKE_REACH + 1] },
    { ...stroke(1), points: [0, 0.5] },
    { ...stroke(1), points: new Array(2 * MAX_STROKE_POINTS + 2).fill(0) },
    { ...stroke(1), at: { ...at, x: Number.NaN } },
    { ...stroke(1), at: { ...at, node: "4" } },
    { ...stroke(1), id: 1.5 },
    { ...stroke(1), pinned: "yes" },
    null,
    { kind: "ping", at },
  ]) {
    assert.equal(isStroke(bad), false, JSON.stringify(bad));
  }
});

test("a line being drawn skips points that barely move, stays within reach, and is full at MAX_STROKE_POINTS", () => {
  const l = new Line();
  assert.ok(l.add(0.4, 0.4));
  assert.ok(l.add(1, 1));
  assert.deepEqual(l.points, [0, 0], "within 2 px of the last point");
  l.add(10.4, -3.6);
  l.add(1e9, -1e9);
  assert.deepEqual(l.points, [0, 0, 10, -4, MAX_STROKE_REACH, -MAX_STROKE_REACH]);
  assert.deepEqual(l.last, [MAX_STROKE_REACH, -MAX_STROKE_REACH]);
  const long = new Line();
  let i = 0;
  while (long.add(i * 3, 0)) i++;
  assert.equal(long.points.length, 2 * MAX_STROKE_POINTS);
  assert.ok(long.full);
});

test("a line's path goes through its points, and its arrowhead points the way it went", () => {
  assert.equal(linePath([0, 0, 10, 5, 20, 0]), "M0 0L10 5L20 0");
  assert.equal(linePath([0, 0]), "M0 0l0.01 0", "a dot still shows");
  assert.equal(arrowPath([0, 0]), null);
  // A line to the right: the wings lie behind the tip (left of it), one above, one below.
  const head = arrowPath([0, 0, 40, 0]);
  const m = head?.match(/^M(-?[\d.]+) (-?[\d.]+)L40 0L(-?[\d.]+) (-?[\d.]+)$/);
  assert.ok(m, head ?? "none");
  const [x1, y1, x2, y2] = m.slice(1).map(Number);
  assert.ok(x1 < 40 && x2 < 40);
  assert.ok(Math.sign(y1) === -Math.sign(y2) && Math.abs(y1) > 3);
});

test("the visitor's 'cleared' is read out of the stream's items, and nothing else is", () => {
  const custom = (tag: string, payload: unknown) => ({ type: 5, timestamp: 1, data: { tag, payload } });
  assert.equal(drawingsClearedIn([{ type: 3, timestamp: 1, data: {} }, custom("sightline/drawings", { kind: "cleared" })]), true);
  assert.equal(drawingsClearedIn([custom("sightline/diag", { kind: "cleared" }), custom("sightline/drawings", { kind: "drawn" }), custom("sightline/drawings", null), null, "x"]), false);
});

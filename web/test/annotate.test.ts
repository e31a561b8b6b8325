import { test } from "node:test";
import assert from "node:assert/strict";
import { ANNOTATIONS_VERSION, Annotations, arrowHead, bounds, clampCrop, hits, parseDoc, segmentDistance, simplify } from "../src/lib/annotate";

const red = "#ff0000";

test("annotate: add, hit-test topmost, move, delete, undo/redo", () => {
  const a = new Annotations(1280, 720);
  const r = a.add({ type: "rect", color: red, width: 4, pts: [100, 100, 300, 200] });
  const l = a.add({ type: "arrow", color: "#00ff00", width: 6, pts: [0, 0, 400, 400] });
  assert.equal(a.hitTest(150, 150)?.id, l.id, "the arrow passes over (150,150) and is on top");
  assert.equal(a.hitTest(250, 120)?.id, r.id);
  assert.equal(a.hitTest(1000, 700), null);
  a.move(r.id, 10, -5);
  assert.deepEqual(a.get(r.id)?.pts, [110, 95, 310, 195]);
  assert.ok(a.remove(l.id));
  assert.equal(a.shapes.length, 1);
  assert.ok(a.undo());
  assert.equal(a.shapes.length, 2);
  assert.ok(a.undo());
  assert.deepEqual(a.get(r.id)?.pts, [100, 100, 300, 200], "move undone");
  assert.ok(a.redo());
  assert.deepEqual(a.get(r.id)?.pts, [110, 95, 310, 195], "move redone");
  a.add({ type: "pen", color: red, width: 2, pts: [1, 1, 2, 2] });
  assert.equal(a.canRedo, false, "a new action clears redo");
  while (a.undo());
  assert.equal(a.shapes.length, 0);
});

test("annotate: numbered markers count up and survive undo", () => {
  const a = new Annotations(100, 100);
  const m1 = a.add({ type: "marker", color: red, width: 12, pts: [10, 10] });
  const m2 = a.add({ type: "marker", color: red, width: 12, pts: [40, 10] });
  assert.deepEqual([m1.n, m2.n], [1, 2]);
  a.undo();
  assert.equal(a.nextMarker, 2);
  const m3 = a.add({ type: "marker", color: red, width: 12, pts: [40, 10] });
  assert.equal(m3.n, 2);
  assert.ok(hits(m3, 45, 15, 0));
  assert.ok(!hits(m3, 60, 10, 2));
});

test("annotate: hit-testing per shape kind", () => {
  const a = new Annotations(500, 500);
  const e = a.add({ type: "ellipse", color: red, width: 2, pts: [100, 100, 300, 200] });
  assert.ok(hits(e, 200, 150, 0), "centre");
  assert.ok(!hits(e, 102, 102, 2), "outside near the box corner");
  const t = a.add({ type: "text", color: red, width: 20, pts: [10, 300], text: "hello" });
  assert.ok(hits(t, 30, 310, 0));
  const p = a.add({ type: "highlight", color: red, width: 20, pts: [0, 450, 100, 450, 200, 460] });
  assert.ok(hits(p, 150, 458, 0));
  assert.ok(!hits(p, 150, 490, 2));
  assert.equal(segmentDistance(5, 5, 0, 0, 10, 0), 5);
  assert.deepEqual(bounds(p), { x: 0, y: 450, w: 200, h: 10 });
});

test("annotate: crop is clamped, whole pixels, and undoable", () => {
  const a = new Annotations(200, 100);
  a.setCrop({ x: 150, y: 80, w: -100, h: 50.4 });
  assert.deepEqual(a.crop, { x: 50, y: 80, w: 100, h: 20 });
  assert.deepEqual(a.view, { x: 50, y: 80, w: 100, h: 20 });
  assert.equal(clampCrop({ x: 0, y: 0, w: 200, h: 100 }, 200, 100), null, "the whole picture is no crop");
  assert.equal(clampCrop({ x: 10, y: 10, w: 0, h: 5 }, 200, 100), null);
  a.undo();
  assert.equal(a.crop, null);
});

test("annotate: the document round-trips with a version; bad input is refused or cleaned", () => {
  const a = new Annotations(1280, 720);
  a.base = "img123";
  a.add({ type: "arrow", color: "#00FF00", width: 6, pts: [10, 10, 200, 100] });
  a.add({ type: "text", color: red, width: 24, pts: [5, 5], text: "Click here" });
  a.add({ type: "marker", color: red, width: 14, pts: [50, 50] });
  a.add({ type: "blur", color: red, width: 1, pts: [300, 300, 400, 350] });
  a.setCrop({ x: 0, y: 0, w: 640, h: 360 });
  const doc = JSON.parse(JSON.stringify(a.toDoc()));
  assert.equal(doc.version, ANNOTATIONS_VERSION);
  const back = Annotations.fromDoc(parseDoc(doc), 1280, 720);
  assert.equal(back.shapes.length, 4);
  assert.equal(back.base, "img123");
  assert.deepEqual(back.crop, { x: 0, y: 0, w: 640, h: 360 });
  assert.equal(back.nextMarker, 2);
  assert.equal(back.shapes[0].color, "#00ff00");
  assert.equal(back.shapes[1].text, "Click here");
  assert.equal(back.canUndo, false, "a reopened picture starts a fresh history");
  // Scaled onto a base of another size.
  const half = Annotations.fromDoc(parseDoc(doc), 640, 360);
  assert.deepEqual(half.shapes[0].pts, [5, 5, 100, 50]);
  assert.throws(() => parseDoc([]), /not an annotations document/);
  assert.throws(() => parseDoc({ shapes: [] }), /no version/);
  assert.throws(() => parseDoc({ version: 99, shapes: [] }), /newer/);
  const cleaned = parseDoc({ version: 1, width: 10, height: 10, shapes: [{ type: "script", pts: [1, 1] }, { type: "rect", pts: [1, 2] }, { type: "text", pts: [1, 1] }, { type: "line", color: "red; x", pts: [0, 0, 5, 5] }] });
  assert.equal(cleaned.shapes.length, 1, "unknown kinds, wrong point counts and empty text dropped");
  assert.equal(cleaned.shapes[0].color, "#ff0000", "a colour that is not #rrggbb is replaced");
});

test("annotate: simplify and arrow heads", () => {
  assert.deepEqual(simplify([0, 0, 1, 0, 2, 0, 10, 0, 11, 0], 5), [0, 0, 10, 0, 11, 0]);
  const [ax, ay, bx, by] = arrowHead(0, 0, 100, 0, 4);
  assert.ok(ax < 100 && bx < 100 && Math.abs(ay + by) < 1e-9 && Math.abs(ay) > 1, "barbs behind the tip, mirrored");
});

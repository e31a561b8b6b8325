import { test } from "node:test";
import assert from "node:assert/strict";
import { INK_FADE_MS, INK_SHOW_MS, InkBoard, decodeInk, fitPoints, strokePath } from "../src/lib/ink";
import { MAX_INK_POINTS } from "../src/protocol.gen";

test("only well-formed drawings within the picture are taken from the channel", () => {
  assert.deepEqual(decodeInk('{"kind":"stroke","id":1,"points":[0,0,10000,5000],"arrow":true,"pinned":false}'), { kind: "stroke", id: 1, points: [0, 0, 10000, 5000], arrow: true, pinned: false });
  assert.deepEqual(decodeInk('{"kind":"clear"}'), { kind: "clear" });
  for (const bad of [
    "nope",
    "null",
    '{"kind":"stroke","id":1,"points":[0,0,10001,5],"arrow":false,"pinned":false}',
    '{"kind":"stroke","id":1,"points":[0,0,5],"arrow":false,"pinned":false}',
    '{"kind":"stroke","id":1,"points":[],"arrow":false,"pinned":false}',
    '{"kind":"stroke","id":-1,"points":[0,0],"arrow":false,"pinned":false}',
    '{"kind":"stroke","id":1,"points":[0.5,0],"arrow":false,"pinned":false}',
    '{"kind":"stroke","id":1,"points":[0,0],"arrow":"yes","pinned":false}',
    '{"kind":"script","code":"alert(1)"}',
    JSON.stringify({ kind: "stroke", id: 1, points: new Array(2 * MAX_INK_POINTS + 2).fill(1), arrow: false, pinned: false }),
  ]) {
    assert.equal(decodeInk(bad), null, bad);
  }
});

test("an unpinned drawing shows, fades, then goes; a pinned one stays until cleared", () => {
  const b = new InkBoard();
  b.apply({ kind: "stroke", id: 1, points: [0, 0, 100, 100], arrow: false, pinned: false }, 1000);
  b.apply({ kind: "stroke", id: 2, points: [0, 0, 100, 100], arrow: true, pinned: true }, 1000);
  assert.deepEqual(b.visible(1000 + INK_SHOW_MS - 1).map((v) => [v.stroke.id, v.opacity]), [[1, 1], [2, 1]]);
  const fading = b.visible(1000 + INK_SHOW_MS + INK_FADE_MS / 2);
  assert.ok(Math.abs(fading[0].opacity - 0.5) < 1e-9);
  assert.deepEqual(b.visible(1000 + INK_SHOW_MS + INK_FADE_MS).map((v) => v.stroke.id), [2]);
  assert.equal(b.size, 1);
  b.apply({ kind: "clear" }, 99_999);
  assert.equal(b.visible(99_999).length, 0);
});

test("long strokes are thinned to the limit with both ends kept, and paths scale with the box", () => {
  const pts: number[] = [];
  for (let i = 0; i < 3000; i++) pts.push(i, 10_000 - i);
  const fit = fitPoints(pts);
  assert.ok(fit.length <= 2 * MAX_INK_POINTS && fit.length % 2 === 0);
  assert.deepEqual(fit.slice(0, 2), [0, 10_000]);
  assert.deepEqual(fit.slice(-2), [2999, 7001]);
  assert.deepEqual(fitPoints([-5, 20000, 3.4, 7]), [0, 10000, 3, 7]);
  assert.equal(strokePath({ points: [0, 0, 10000, 5000], arrow: false }, 200, 100), "M0 0L200 50");
  assert.match(strokePath({ points: [0, 0, 10000, 5000], arrow: true }, 200, 100), /^M0 0L200 50M[\d.]+ [\d.]+L200 50L[\d.]+ [\d.]+$/);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CHUNK_BYTES,
  HEADER_BYTES,
  MAX_MESSAGE_BYTES,
  Reassembler,
  decodeItems,
  encodeItems,
  frameMessage,
  inflate,
  deflate,
} from "../src/lib/stream-frames";

function bytes(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test("a message over one chunk is cut into frames that fit and put back together", () => {
  const msg = bytes(CHUNK_BYTES * 2 + 100);
  const frames = frameMessage(9, msg, false);
  assert.equal(frames.length, 3);
  for (const f of frames) assert.ok(f.length <= HEADER_BYTES + CHUNK_BYTES);
  const r = new Reassembler();
  assert.equal(r.push(frames[0]), null);
  assert.equal(r.push(frames[1]), null);
  const whole = r.push(frames[2]);
  assert.ok(whole);
  assert.equal(whole.id, 9);
  assert.equal(whole.compressed, false);
  assert.deepEqual(Array.from(whole.bytes), Array.from(msg));
  assert.equal(r.dropped, 0);
});

test("an empty message is one frame", () => {
  const frames = frameMessage(1, new Uint8Array(0), false);
  assert.equal(frames.length, 1);
  const whole = new Reassembler().push(frames[0]);
  assert.ok(whole);
  assert.equal(whole.bytes.length, 0);
});

test("a message cut short by lost frames is dropped and the next one still arrives", () => {
  const a = frameMessage(1, bytes(CHUNK_BYTES + 5), false);
  const b = frameMessage(2, bytes(10, 3), false);
  const r = new Reassembler();
  assert.equal(r.push(a[0]), null);
  // a[1] was lost: b starts.
  const got = r.push(b[0]);
  assert.ok(got);
  assert.equal(got.id, 2);
  assert.equal(r.dropped, 1);
});

test("malformed, foreign and out-of-order frames are dropped, not trusted", () => {
  const r = new Reassembler();
  assert.equal(r.push(new Uint8Array(3)), null, "shorter than a header");
  const wrongVersion = frameMessage(1, bytes(4), false)[0];
  wrongVersion[0] = 2;
  assert.equal(r.push(wrongVersion), null);
  const frames = frameMessage(5, bytes(CHUNK_BYTES * 3), false);
  assert.equal(r.push(frames[1]), null, "a middle chunk without its start");
  const huge = frameMessage(6, bytes(4), false)[0];
  new DataView(huge.buffer).setUint16(8, 65535);
  assert.equal(r.push(huge), null, "a chunk count over the message bound");
  assert.equal(r.dropped, 4);
});

test("a message over the bound is refused when framing", () => {
  assert.throws(() => frameMessage(1, new Uint8Array(MAX_MESSAGE_BYTES + 1), false), RangeError);
});

test("items round-trip, compressed when that is smaller", async () => {
  const items = Array.from({ length: 200 }, (_, i) => ({ type: 3, data: { source: 0, text: `row ${i} of a long and repetitive table` } }));
  const frames = await encodeItems(3, items);
  const r = new Reassembler();
  let whole = null;
  for (const f of frames) whole = r.push(f);
  assert.ok(whole);
  assert.equal(whole.compressed, true);
  assert.ok(whole.bytes.length < JSON.stringify(items).length / 4, `compressed to ${whole.bytes.length}`);
  assert.deepEqual(await decodeItems(whole), items);
  // A tiny message is sent as it is.
  const small = await encodeItems(4, [{ type: 4 }]);
  const got = new Reassembler().push(small[0]);
  assert.ok(got);
  assert.equal(got.compressed, false);
  assert.deepEqual(await decodeItems(got), [{ type: 4 }]);
});

test("inflating past the bound fails instead of filling memory", async () => {
  const zeros = new Uint8Array(1024 * 1024);
  const packed = await deflate(zeros);
  assert.ok(packed.length < 10_000);
  await assert.rejects(() => inflate(packed, 64 * 1024), RangeError);
  assert.equal((await inflate(packed)).length, zeros.length);
});

test("a message that is not a JSON array is refused", async () => {
  const frames = frameMessage(1, new TextEncoder().encode('{"a":1}'), false);
  const got = new Reassembler().push(frames[0]);
  assert.ok(got);
  await assert.rejects(() => decodeItems(got), TypeError);
});

test("lone surrogates (half an emoji) become U+FFFD before a message leaves, so the relay takes it", async () => {
  const { wellFormedJson, encodeItems, decodeItems, Reassembler } = await import("../src/lib/stream-frames");
  const cut = "x".repeat(3) + "😀".slice(0, 1);
  const json = JSON.stringify([{ text: cut, other: "\\ud800 typed as text", pair: "😀", low: "\udc00" }]);
  assert.match(json, /\\ud83d/, "JSON.stringify escapes the lone half");
  const fixed = wellFormedJson(json);
  assert.deepEqual(JSON.parse(fixed), [{ text: "xxx\ufffd", other: "\\ud800 typed as text", pair: "😀", low: "\ufffd" }]);
  assert.equal(wellFormedJson('["plain"]'), '["plain"]');
  // Through the encoder: what comes out decodes to the well-formed text.
  const frames = await encodeItems(1, [{ text: cut }]);
  const r = new Reassembler();
  let m = null;
  for (const f of frames) m = r.push(f) ?? m;
  assert.deepEqual(await decodeItems(m!), [{ text: "xxx\ufffd" }]);
});

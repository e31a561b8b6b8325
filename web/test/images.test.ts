import { test } from "node:test";
import assert from "node:assert/strict";
import { BlobUrlCache, isImageFile, thumbSize, uploadErrorText } from "../src/lib/images";

test("images: upload errors in words, the server's message first", () => {
  assert.equal(uploadErrorText(415, { error: "unsupported_type", message: "this file is not a PNG, JPEG, WebP or GIF image" }), "This file is not a PNG, JPEG, WebP or GIF image.");
  assert.equal(uploadErrorText(413, null), "The picture is too large.");
  assert.equal(uploadErrorText(415, {}), "That file is not a picture (PNG, JPEG, WebP or GIF).");
  assert.equal(uploadErrorText(422, { message: "too large: 20000×20000 pixels." }), "Too large: 20000×20000 pixels.");
  assert.match(uploadErrorText(0, null), /connection/);
  assert.match(uploadErrorText(418, null), /error 418/);
});

test("images: thumbnail display size keeps the ratio within the box", () => {
  const ref = { id: "x", mime: "image/png", width: 1280, height: 720, bytes: 1, thumb_width: 320, thumb_height: 180, has_annotations: false, source_image: null };
  assert.deepEqual(thumbSize(ref, 240), { w: 240, h: 135 });
  assert.deepEqual(thumbSize({ ...ref, thumb_width: 90, thumb_height: 320 }, 240), { w: 68, h: 240 });
  assert.deepEqual(thumbSize({ ...ref, thumb_width: 100, thumb_height: 50 }, 240), { w: 100, h: 50 }, "never enlarged");
});

test("images: picture files by type or name", () => {
  assert.ok(isImageFile(new File([""], "a.bin", { type: "image/png" })));
  assert.ok(isImageFile(new File([""], "shot.JPG")));
  assert.ok(!isImageFile(new File([""], "notes.txt", { type: "text/plain" })));
});

test("images: the thumbnail cache shares loads, evicts the oldest and revokes URLs", async () => {
  const loads: string[] = [];
  const revoked: string[] = [];
  const realRevoke = URL.revokeObjectURL;
  URL.revokeObjectURL = (u: string) => {
    revoked.push(u);
    realRevoke(u);
  };
  try {
    const cache = new BlobUrlCache(async (id) => {
      loads.push(id);
      if (id === "bad") throw new Error("403");
      return new Blob([id], { type: "image/png" });
    }, 2);
    const a1 = await cache.get("a");
    const a2 = await cache.get("a");
    assert.equal(a1.url, a2.url);
    assert.ok(a1.url.startsWith("blob:"));
    await cache.get("b");
    await cache.get("a"); // a is now the newest
    await cache.get("c"); // evicts b
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(loads, ["a", "b", "c"]);
    assert.equal(revoked.length, 1);
    await assert.rejects(cache.get("bad"));
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(cache.size, 2, "a failed load is not kept");
    cache.clear();
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(revoked.length, 3);
    assert.equal(cache.size, 0);
  } finally {
    URL.revokeObjectURL = realRevoke;
  }
});

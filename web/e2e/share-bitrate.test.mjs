// The bitrate cap holds: a source that wants far more than the cap (1280x720, fresh
// random noise in 16x16 cells every frame: the same source fills the default
// 1.5 Mbit/s cap, ~1.54 Mbit/s measured) shared with the server's --share-max-bitrate at 400 kbit/s
// and 15 frames per second; the visitor's outbound RTP bytes over 10 s stay within the
// cap (+10 %) and clearly above zero (media flows), and the sender carries the cap.
//
// Known limit (todo test below): noise in 4x4 cells is so incompressible that one
// 1280x720 VP8 frame at the highest quantizer is ~75 KB; with degradationPreference
// "maintain-resolution" the encoder drops frames instead of scaling down and still
// sends ~600 kbit/s (~150 % of the cap).

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { sleep, waitFor } from "./harness.mjs";
import { assertVideoAdvancing, invite, startChat, useShareStack, visitorOutbound } from "./share-harness.mjs";

const CAP = 400000;
const WINDOW_MS = 10000;

const stack = useShareStack({
  serverEnv: () => ({ SIGHTLINE_SHARE_MAX_BITRATE: String(CAP), SIGHTLINE_SHARE_TEXT_FPS: "15", SIGHTLINE_SHARE_MOTION_FPS: "15" }),
});

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

/** getDisplayMedia answers with a 1280x720 canvas repainted with new noise 30 times a second. */
function noiseScreen(cell) {
  navigator.mediaDevices.getDisplayMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 1280;
    canvas.height = 720;
    const ctx = canvas.getContext("2d");
    // Noise at (1280/cell)x(720/cell), scaled up: thousands of random cells a frame,
    // far beyond what 400 kbit/s can carry, and cheap enough for a 2-core machine.
    const small = document.createElement("canvas");
    small.width = 1280 / cell;
    small.height = 720 / cell;
    const sctx = small.getContext("2d");
    const img = sctx.createImageData(small.width, small.height);
    const px = new Uint32Array(img.data.buffer);
    let seed = (Math.random() * 0xffffffff) >>> 0 || 1;
    const paint = () => {
      for (let i = 0; i < px.length; i++) {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        px[i] = (seed | 0xff000000) >>> 0;
      }
      sctx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(small, 0, 0, 1280, 720);
    };
    paint();
    const stream = canvas.captureStream(30);
    const timer = setInterval(paint, 1000 / 30);
    stream.getVideoTracks()[0].addEventListener("ended", () => clearInterval(timer));
    window.__noisePainted = () => true;
    return stream;
  };
}

test("the bitrate cap holds: outbound bytes over 10 s within the cap", { timeout: 120000 }, async () => {
  await capHolds(16, "share bitrate test");
});

test(
  "the bitrate cap holds even for 720p noise in 4x4 cells",
  { timeout: 120000, todo: "one 1280x720 VP8 frame of such noise is ~75 KB at the highest quantizer; maintain-resolution keeps 720p, ~600 kbit/s is sent" },
  async () => {
    await capHolds(4, "share bitrate test 4x4");
  },
);

async function capHolds(cell, text) {
  const visitorPage = await stack.page("visitor");
  await visitorPage.addInitScript(noiseScreen, cell);
  const { agent, visitor } = await startChat(stack, { text, visitorPage });
  await invite(agent);
  await widget(visitor, "share-accept").click();
  await widget(visitor, "share-active").waitFor({ state: "visible" });
  await assertVideoAdvancing(agent, "agent video of the noise");
  const raw = await visitor.evaluate(() => {
    const s = window.__sightlineShare.raw.getSettings();
    return { w: s.width, h: s.height, noise: typeof window.__noisePainted === "function" };
  });
  assert.deepEqual(raw, { w: 1280, h: 720, noise: true }, "the noise canvas is what is shared");

  // The cap is on the sender.
  const params = await waitFor(async () => {
    const p = await visitor.evaluate(() => {
      const s = window.__sightlineShare;
      return { max: s.sender.getParameters().encodings[0].maxBitrate, fps: s.sender.getParameters().encodings[0].maxFramerate, limits: s.share.setup.limits };
    });
    return p.max === CAP ? p : false;
  }, "maxBitrate on the sender");
  assert.equal(params.limits.max_bitrate_bps, CAP, "the server's cap reached the visitor");
  assert.equal(params.fps, 15);

  // Let the encoder's rate control settle, then measure 10 s.
  await sleep(3000);
  const a = await visitorOutbound(visitor);
  await sleep(WINDOW_MS);
  const b = await visitorOutbound(visitor);
  const seconds = (b.at - a.at) / 1000;
  const bps = ((b.bytes - a.bytes) * 8) / seconds;
  const payloadBps = ((b.payload - a.payload) * 8) / seconds;
  const fps = (b.frames - a.frames) / seconds;
  console.log(
    `${cell}x${cell} noise: outbound over ${seconds.toFixed(1)} s: ${Math.round(bps)} bit/s with RTP headers (${Math.round(payloadBps)} payload), ` +
      `${(bps / CAP * 100).toFixed(1)} % of the ${CAP} bit/s cap; ${fps.toFixed(1)} frames/s encoded at ${b.size}; limited by ${b.limitation}; ` +
      `${b.keyFrames - a.keyFrames} key frames, mean QP ${((b.qpSum - a.qpSum) / Math.max(1, b.frames - a.frames)).toFixed(0)}, ${b.codec} (${b.encoder}), target ${b.targetBitrate} bit/s`,
  );
  assert.ok(bps <= CAP * 1.1, `average ${Math.round(bps)} bit/s exceeds the cap ${CAP} + 10 %`);
  assert.ok(bps >= CAP * 0.3, `average ${Math.round(bps)} bit/s is under 30 % of the cap: media is not flowing`);
  assert.ok(fps > 0, "frames were encoded in the window");
  await agent.locator("[data-testid=share-end]").click();
  await waitFor(async () => (await widget(visitor, "share-active").count()) === 0, "share ended");
  await visitor.close();
  assertNoProblems(stack);
}

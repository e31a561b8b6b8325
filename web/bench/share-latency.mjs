#!/usr/bin/env node
// Screen-share benchmark on loopback: the real server (release build), Chromium via
// playwright-core, a visitor and an agent in one browser (one clock).
//
//   first frame:     the visitor's click on "Share my screen" → the agent's first
//                    decoded frame of that share (requestVideoFrameCallback), N runs
//   glass-to-glass:  the visitor's "screen" is a canvas whose every frame carries its
//                    paint time (performance.timeOrigin + now, 32 bits + CRC-8 as 40
//                    64x64 black/white blocks); the agent decodes each presented frame
//                    and takes expectedDisplayTime − paint time (motion mode)
//   bytes/s:         the visitor's outbound-rtp bytesSent + headerBytesSent over the
//                    glass-to-glass window, against the server's cap
//
// Usage (from web/): npm run bench:share   (builds web/dist and the release server)
//   or: node bench/share-latency.mjs [--runs 10] [--frames 300] [--cap 1500000]
// Env: SIGHTLINE_BIN (default ../target/release/sightline), CHROMIUM_PATH.

import path from "node:path";
import os from "node:os";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.SIGHTLINE_BIN ||= path.join(here, "..", "..", "target", "release", "sightline");

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const RUNS = opt("runs", 10);
const FRAMES = opt("frames", 300);
const CAP = opt("cap", 1500000);
const MOTION_FPS = opt("motion-fps", 15);
const BUDGET_MS = opt("budget", 300) * 1000;

const { startServer, login, waitFor, sleep } = await import("../e2e/harness.mjs");
const { launchShareBrowser, hookedPage, startChat, invite, agentShareSteps, visitorOutbound } = await import("../e2e/share-harness.mjs");

// ------------------------------------------------------------------ in the pages

/** Visitor: getDisplayMedia answers with a 1280x720 canvas stamped with its paint time. */
function stampedScreen() {
  const COLS = 20;
  const B = 64;
  const crc8 = (bytes) => {
    let c = 0;
    for (const b of bytes) {
      c ^= b;
      for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    }
    return c;
  };
  document.addEventListener(
    "click",
    (e) => {
      if (e.composedPath().some((n) => n instanceof Element && n.getAttribute("data-testid") === "share-accept")) window.__benchClickAt = performance.timeOrigin + performance.now();
    },
    true,
  );
  navigator.mediaDevices.getDisplayMedia = async () => {
    window.__benchGdmAt = performance.timeOrigin + performance.now();
    const canvas = document.createElement("canvas");
    canvas.width = 1280;
    canvas.height = 720;
    const ctx = canvas.getContext("2d");
    let n = 0;
    // Heavy content (window.__benchHeavy): fresh noise in 8x8 cells below the code rows.
    const small = document.createElement("canvas");
    small.width = 160;
    small.height = 74;
    const sctx = small.getContext("2d");
    const img = sctx.createImageData(160, 74);
    const px = new Uint32Array(img.data.buffer);
    let seed = 0x9e3779b9;
    const paint = () => {
      n++;
      if (window.__benchHeavy) {
        for (let i = 0; i < px.length; i++) {
          seed ^= seed << 13;
          seed ^= seed >>> 17;
          seed ^= seed << 5;
          px[i] = (seed | 0xff000000) >>> 0;
        }
        sctx.putImageData(img, 0, 0);
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(small, 0, 2 * B, 1280, 592);
      } else {
        // Something that moves, and a little text, below the code rows.
        ctx.fillStyle = "#dfe6ee";
        ctx.fillRect(0, 2 * B, 1280, 720 - 2 * B);
        ctx.fillStyle = "#2a5db0";
        ctx.fillRect((n * 12) % 1280, 200, 120, 120);
        ctx.fillStyle = "#222";
        ctx.font = "28px sans-serif";
        ctx.fillText(`frame ${n}`, 40, 400);
      }
      const t = Math.floor(performance.timeOrigin + performance.now());
      const low = t - Math.floor(t / 2 ** 32) * 2 ** 32;
      const bytes = [(low >>> 24) & 255, (low >>> 16) & 255, (low >>> 8) & 255, low & 255];
      const bits = [];
      for (const b of [...bytes, crc8(bytes)]) for (let i = 7; i >= 0; i--) bits.push((b >> i) & 1);
      bits.forEach((bit, i) => {
        ctx.fillStyle = bit ? "#fff" : "#000";
        ctx.fillRect((i % COLS) * B, Math.floor(i / COLS) * B, B, B);
      });
    };
    paint();
    const stream = canvas.captureStream(60);
    const timer = setInterval(paint, 1000 / 60);
    stream.getVideoTracks()[0].addEventListener("ended", () => clearInterval(timer));
    return stream;
  };
}

/** Agent: every frame presented by the viewer's <video> is decoded and recorded. */
function frameDecoder() {
  const COLS = 20;
  const crc8 = (bytes) => {
    let c = 0;
    for (const b of bytes) {
      c ^= b;
      for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    }
    return c;
  };
  const canvas = document.createElement("canvas");
  canvas.width = COLS * 4;
  canvas.height = 8;
  const bench = (window.__bench = { frames: [], bad: 0, gen: 0, el: null, stream: null });
  const hook = (video, gen) => {
    const onFrame = (now, meta) => {
      if (bench.gen !== gen) return;
      const at = performance.timeOrigin + (meta.expectedDisplayTime ?? now);
      const presented = performance.timeOrigin + (meta.presentationTime ?? now);
      let t = null;
      try {
        const ctx = canvas.getContext("2d", { willReadFrequently: true });
        const vw = video.videoWidth;
        const vh = video.videoHeight;
        ctx.drawImage(video, 0, 0, vw, (vh * 128) / 720, 0, 0, COLS * 4, 8);
        const d = ctx.getImageData(0, 0, COLS * 4, 8).data;
        const bits = [];
        for (let i = 0; i < 40; i++) {
          const x = (i % COLS) * 4 + 2;
          const y = Math.floor(i / COLS) * 4 + 2;
          const o = (y * COLS * 4 + x) * 4;
          bits.push((d[o] + d[o + 1] + d[o + 2]) / 3 > 127 ? 1 : 0);
        }
        const bytes = [];
        for (let b = 0; b < 5; b++) bytes.push(bits.slice(b * 8, b * 8 + 8).reduce((v, bit) => (v << 1) | bit, 0));
        if (crc8(bytes.slice(0, 4)) === bytes[4]) {
          const low = ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3];
          const atLow = at - Math.floor(at / 2 ** 32) * 2 ** 32;
          t = at - ((((atLow - low) % 2 ** 32) + 2 ** 32) % 2 ** 32);
        } else bench.bad++;
      } catch {
        bench.bad++;
      }
      bench.frames.push({ at, presented, t, w: video.videoWidth, h: video.videoHeight });
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  // A new <video> or a new stream on it: a new callback chain (the old one stops).
  setInterval(() => {
    const v = /** @type {HTMLVideoElement | null} */ (document.querySelector("[data-testid=share-video]"));
    if (v && (v !== bench.el || v.srcObject !== bench.stream)) {
      bench.el = v;
      bench.stream = v.srcObject;
      hook(v, ++bench.gen);
    }
  }, 5);
}

// ------------------------------------------------------------------ helpers

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);
const pageNow = (page) => page.evaluate(() => performance.timeOrigin + performance.now());

/** agent clock − visitor clock, from the round trip with the least uncertainty. */
async function clockOffset(visitor, agent) {
  let best = null;
  for (let i = 0; i < 25; i++) {
    const a1 = await pageNow(visitor);
    const b = await pageNow(agent);
    const a2 = await pageNow(visitor);
    const c = { offset: b - (a1 + a2) / 2, uncertainty: (a2 - a1) / 2 };
    if (!best || c.uncertainty < best.uncertainty) best = c;
  }
  return best;
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, min: s[0], p50: pct(s, 50), p95: pct(s, 95), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
};
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1).padStart(7) : "      –");
const line = (label, s) => `${label.padEnd(34)} n=${String(s.n).padStart(4)}  p50 ${fmt(s.p50)} ms  p95 ${fmt(s.p95)} ms  max ${fmt(s.max)} ms  (min ${fmt(s.min).trim()}, mean ${fmt(s.mean).trim()})`;

async function endShare(agent, visitor) {
  await agent.locator("[data-testid=share-end]").click();
  await waitFor(async () => (await agentShareSteps(agent)).at(-1) === "ended", "agent sees ended");
  await waitFor(async () => (await widget(visitor, "share-active").count()) === 0, "visitor preview gone");
}

/** Invite, click "Share my screen", wait for the first decoded frame of this share. */
async function oneShare(agent, visitor, offset) {
  await invite(agent);
  await widget(visitor, "share-accept").waitFor({ state: "visible" });
  await agent.evaluate(() => {
    window.__bench.frames = [];
    window.__bench.bad = 0;
  });
  await visitor.evaluate(() => {
    window.__benchClickAt = null;
  });
  await widget(visitor, "share-accept").click();
  const clickAt = await waitFor(() => visitor.evaluate(() => window.__benchClickAt), "click seen");
  const first = await waitFor(
    () => agent.evaluate((after) => window.__bench.frames.find((f) => f.t !== null && f.t >= after) ?? null, clickAt - 1),
    "first decoded frame of this share at the agent",
    20000,
  );
  const gdmAt = await visitor.evaluate(() => window.__benchGdmAt);
  const firstAny = await agent.evaluate(() => window.__bench.frames[0]);
  return {
    firstFrameMs: first.at - (clickAt + offset),
    firstAnyMs: firstAny.at - (clickAt + offset),
    clickToCaptureMs: gdmAt - clickAt,
    size: `${first.w}x${first.h}`,
  };
}

/** Glass-to-glass over `frames` decoded frames, and the visitor's outbound bytes meanwhile. */
async function measure(agent, visitor, offset, frames) {
  await agent.evaluate(() => {
    window.__bench.frames = [];
    window.__bench.bad = 0;
  });
  const a = await visitorOutbound(visitor);
  await waitFor(async () => (await agent.evaluate(() => window.__bench.frames.filter((f) => f.t !== null).length)) >= frames, `${frames} decoded frames`, 90000);
  const b = await visitorOutbound(visitor);
  const seconds = (b.at - a.at) / 1000;
  const got = await agent.evaluate(() => ({ frames: window.__bench.frames, bad: window.__bench.bad }));
  const decoded = got.frames.filter((f) => f.t !== null);
  return {
    g2g: decoded.map((f) => f.at - (f.t + offset)),
    g2gPresented: decoded.map((f) => f.presented - (f.t + offset)),
    bps: ((b.bytes - a.bytes) * 8) / seconds,
    fps: (b.frames - a.frames) / seconds,
    size: b.size,
    seconds,
    decoded: decoded.length,
    bad: got.bad,
  };
}

// ------------------------------------------------------------------ main

const deadline = setTimeout(() => {
  console.error(`benchmark exceeded its ${BUDGET_MS / 1000} s budget`);
  process.exit(2);
}, BUDGET_MS);

const server = await startServer({
  env: { SIGHTLINE_SHARE_MAX_BITRATE: String(CAP), SIGHTLINE_SHARE_MOTION_FPS: String(MOTION_FPS), SIGHTLINE_LOG: "warn" },
});
const browser = await launchShareBrowser();
let exitCode = 0;
try {
  const problems = [];
  const stack = { base: server.url, server, page: (label) => hookedPage(browser, label, problems) };
  const agentPage = await stack.page("agent");
  await agentPage.addInitScript(frameDecoder);
  await login(agentPage, server.url, "admin", server.adminPassword);
  const visitorPage = await stack.page("visitor");
  await visitorPage.addInitScript(stampedScreen);
  const { agent, visitor } = await startChat(stack, { text: "benchmark", agentPage, visitorPage });
  const clock = await clockOffset(visitor, agent);

  console.log(`Sightline screen-share benchmark (loopback)`);
  console.log(`  server   ${process.env.SIGHTLINE_BIN}`);
  console.log(`  browser  Chromium ${browser.version()} headless, ${os.cpus().length} cores (${os.cpus()[0]?.model?.trim()}), load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`  cap      ${CAP} bit/s, motion ${MOTION_FPS} fps; page clocks agent−visitor ${clock.offset.toFixed(2)} ms ± ${clock.uncertainty.toFixed(2)} (corrected)`);
  console.log("");

  // First frame, N shares in the same conversation.
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await oneShare(agent, visitor, clock.offset);
    runs.push(r);
    console.log(`  run ${String(i + 1).padStart(2)}: click → first decoded frame ${r.firstFrameMs.toFixed(0)} ms (click → capture ${r.clickToCaptureMs.toFixed(0)} ms, ${r.size})`);
    await endShare(agent, visitor);
  }

  // Glass to glass, motion mode, one share.
  await oneShare(agent, visitor, clock.offset);
  await agent.locator("[data-testid=share-mode]").click();
  await waitFor(
    () => visitor.evaluate((fps) => window.__sightlineShare.sender.getParameters().encodings[0].maxFramerate === fps, MOTION_FPS),
    "motion mode on the sender",
  );
  await sleep(2000);
  const light = await measure(agent, visitor, clock.offset, FRAMES);
  // The same share with content that wants more than the cap.
  await visitor.evaluate(() => {
    window.__benchHeavy = true;
  });
  await sleep(3000);
  const heavy = await measure(agent, visitor, clock.offset, Math.round(FRAMES / 2));
  await endShare(agent, visitor);

  const ff = summary(runs.map((r) => r.firstFrameMs));
  const g = summary(light.g2g);
  console.log("");
  console.log(line(`first frame (click → agent), ${RUNS} runs`, ff));
  for (const [name, m] of /** @type {[string, typeof light][]} */ ([["light (moving box + text)", light], ["heavy (8x8-cell noise)", heavy]])) {
    console.log(`${name}:`);
    console.log(line(`  glass-to-glass, motion mode`, summary(m.g2g)));
    console.log(line(`    (to presentationTime)`, summary(m.g2gPresented)));
    console.log(
      `  bytes/s over ${m.seconds.toFixed(1)} s: ${Math.round(m.bps / 8)} B/s = ${Math.round(m.bps)} bit/s, ${((m.bps / CAP) * 100).toFixed(1)} % of the ${CAP} bit/s cap ` +
        `(${m.fps.toFixed(1)} fps encoded at ${m.size}, ${m.decoded} frames decoded, ${m.bad} undecodable)`,
    );
  }
  const ok1 = ff.max < 1000;
  const ok2 = g.p95 < 150;
  const ok3 = light.bps <= CAP * 1.1 && heavy.bps <= CAP * 1.1;
  console.log(`targets: first frame < 1 s: ${ok1 ? "met" : "MISSED"} (max ${ff.max.toFixed(0)} ms); glass-to-glass p95 < 150 ms: ${ok2 ? "met" : "MISSED"} (${g.p95.toFixed(0)} ms); bytes within cap: ${ok3 ? "yes" : "NO"}`);
  if (problems.length) console.log("page problems:\n  " + problems.join("\n  "));
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  clearTimeout(deadline);
  await browser.close().catch(() => {});
  await server.stop();
}
process.exit(exitCode);

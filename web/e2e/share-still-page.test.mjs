// The privacy pipeline of a current-tab share (src/widget/share-mask.ts) on a page
// that never repaints by itself. Chromium captures a tab only when it repaints, so
// a pipeline that waited for the capture's first frame could wait for ever, and the
// visitor's share stayed at "starting" (seen as an intermittent failure of
// share-mask.test.mjs). The module is bundled as it is and run in a still page,
// several captures in a row, each of which must deliver frames.

import { after, before, test } from "node:test";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { build } from "esbuild";
import { waitFor } from "./harness.mjs";
import { launchShareBrowser } from "./share-harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const stack = {};

before(async () => {
  const bundle = await build({
    stdin: { contents: 'export { prepareCapture } from "./src/widget/share-mask.ts";', resolveDir: path.join(here, ".."), loader: "ts" },
    bundle: true,
    write: false,
    format: "iife",
    globalName: "shareMask",
    target: "es2020",
  });
  const script = bundle.outputFiles[0].text;
  // A still page: nothing animates, nothing changes unless the pipeline does it.
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>Still</title></head>
<body style="margin:0;background:#fff"><div data-sightline-private style="position:absolute;left:20px;top:20px;width:200px;height:100px;background:#f00">secret</div>
<button id="go">go</button><script>${script}</script></body></html>`;
  stack.site = http.createServer((req, res) => {
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(page);
  });
  await new Promise((r) => stack.site.listen(0, "127.0.0.1", () => r(undefined)));
  stack.url = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (stack.site.address()).port}/`;
  stack.browser = await launchShareBrowser({ capture: "tab" });
});
after(async () => {
  await stack.browser?.close().catch(() => {});
  stack.site?.close();
});

test("a current-tab share of a still page delivers frames, capture after capture", { timeout: 120000 }, async () => {
  const page = await stack.browser.newPage();
  await page.goto(stack.url);
  // getDisplayMedia needs a user gesture.
  await page.click("#go");
  for (let round = 1; round <= 5; round++) {
    const started = await page.evaluate(async () => {
      const stream = await navigator.mediaDevices.getDisplayMedia(/** @type {DisplayMediaStreamOptions} */ ({ video: true, preferCurrentTab: true }));
      const settled = await Promise.race([
        window.shareMask.prepareCapture(stream, { fps: 15 }).then((p) => ({ p })),
        new Promise((r) => setTimeout(() => r({ hung: true }), 10000)),
      ]);
      if (settled.hung) return { hung: true };
      const prepared = settled.p;
      window.__prepared = prepared;
      window.__frames = 0;
      const reader = new MediaStreamTrackProcessor({ track: prepared.track }).readable.getReader();
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          value.close();
          window.__frames++;
        }
      })();
      return { hung: false, selfCapture: prepared.selfCapture };
    });
    assert.equal(started.hung, false, `round ${round}: the pipeline is ready within 10 s`);
    assert.equal(started.selfCapture, true, `round ${round}: current tab detected`);
    await waitFor(async () => (await page.evaluate(() => window.__frames)) >= 3, `round ${round}: frames leave the pipeline`, 10000);
    // The repaint helper goes once the capture has delivered.
    await waitFor(async () => page.evaluate(() => document.querySelector("sightline-nudge") === null), `round ${round}: the repaint helper is removed`, 5000);
    await page.evaluate(() => window.__prepared.stop());
  }
  await page.close();
});

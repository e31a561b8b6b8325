// The agent draws on a screen share: strokes go peer to peer on the share's own
// data channel and appear over the visitor's preview; when the visitor shares
// this very tab, over the page itself too, at the same spot of the picture, without
// taking a click. Unpinned strokes fade; pinned ones stay until cleared.

import { after, before, test } from "node:test";
import http from "node:http";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { acceptByPreview, login, openWidget, startServer, visitorSend, waitFor, waitForWidgetTexts } from "./harness.mjs";
import { assertVideoAdvancing, hookedPage, invite, launchShareBrowser } from "./share-harness.mjs";

const stack = { problems: [] };
// The customer's site: a page with a button, the widget preferring this tab.
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Draw test</title></head>
<body style="margin:0;background:#f8fafc;font:16px sans-serif">
<button id="under-ink" style="position:fixed;left:400px;top:300px;width:200px;height:60px" onclick="this.dataset.clicked=String(Number(this.dataset.clicked||0)+1)">Under the drawing</button>
<script src="/widget.js" data-share-tab="prefer"></script>
</body></html>`;
const site = http.createServer((req, res) => {
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(PAGE.replace("/widget.js", stack.base + "/widget.js"));
});
before(async () => {
  await new Promise((r) => site.listen(0, "127.0.0.1", () => r(undefined)));
  stack.site = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (site.address()).port}`;
  stack.server = await startServer({ allowedOrigins: [stack.site] });
  stack.base = stack.server.url;
  stack.agentBrowser = await launchShareBrowser({ capture: "screen" });
  stack.visitorBrowser = await launchShareBrowser({ capture: "tab" });
});
after(async () => {
  await stack.agentBrowser?.close().catch(() => {});
  await stack.visitorBrowser?.close().catch(() => {});
  await stack.server?.stop();
  site.close();
});

const widgetInk = (visitor, testid) =>
  visitor.evaluate((id) => {
    const svg = document.querySelector("[data-sightline]")?.shadowRoot?.querySelector(`[data-testid=${id}]`);
    if (!svg || !svg.isConnected) return null;
    const paths = [...svg.querySelectorAll("path")].map((p) => {
      const r = p.getBoundingClientRect();
      return { x: r.x, y: r.y, w: r.width, h: r.height, pinned: p.getAttribute("data-pinned") };
    });
    return { strokes: paths.length, paths, pointer: getComputedStyle(svg).pointerEvents };
  }, testid);

/** A drag on the agent's view, between two spots of the picture (fractions). */
async function drawOnVideo(agent, from, to) {
  const box = await agent.locator("[data-testid=share-video]").evaluate((v) => {
    const r = v.getBoundingClientRect();
    return { x: r.x, y: r.y, w: r.width, h: r.height };
  });
  const at = ([fx, fy]) => [box.x + fx * box.w, box.y + fy * box.h];
  const [x0, y0] = at(from);
  const [x1, y1] = at(to);
  await agent.mouse.move(x0, y0);
  await agent.mouse.down();
  await agent.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, { steps: 6 });
  await agent.mouse.move(x1, y1, { steps: 6 });
  await agent.mouse.up();
}

test("drawings on a shared tab appear over the visitor's preview and over the page, never block a click, fade unless pinned, and clear", { timeout: 150000 }, async () => {
  const agent = await hookedPage(stack.agentBrowser, "agent", stack.problems);
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await hookedPage(stack.visitorBrowser, "visitor", stack.problems);
  await visitor.setViewportSize({ width: 1000, height: 700 });
  await visitor.goto(stack.site + "/");
  await openWidget(visitor);
  await visitorSend(visitor, "draw test");
  await waitForWidgetTexts(visitor, ["draw test"]);
  await acceptByPreview(agent, "draw test");
  await invite(agent);
  await visitor.locator("[data-sightline] [data-testid=share-accept]").click();
  await assertVideoAdvancing(agent);
  const self = await visitor.evaluate(() => window.__sightlineShare.share.prepared?.selfCapture);
  assert.equal(self, true, "the visitor shares this very tab");

  // An unpinned line across the middle of the picture, over the button.
  await agent.locator("[data-testid=share-draw]").click();
  assert.equal(await agent.locator("[data-testid=share-draw]").getAttribute("aria-pressed"), "true");
  await drawOnVideo(agent, [0.3, 0.47], [0.7, 0.47]);
  assert.equal(await agent.locator("[data-testid=share-ink]").getAttribute("data-strokes"), "1", "shown on the agent's side");
  // (It is sent as it grows: wait for the whole of it.) The same spot of the
  // picture: 30 % to 70 % across, 47 % down the viewport.
  const onPage = await waitFor(async () => {
    const p = await widgetInk(visitor, "share-page-ink");
    return p && p.strokes === 1 && Math.abs(p.paths[0].x + p.paths[0].w - 700) <= 12 ? p : false;
  }, "the whole line over the visitor's page");
  const [line] = onPage.paths;
  assert.ok(Math.abs(line.x - 300) <= 12 && Math.abs(line.x + line.w - 700) <= 12, `across: ${JSON.stringify(line)}`);
  assert.ok(Math.abs(line.y + line.h / 2 - 0.47 * 700) <= 12, `down: ${JSON.stringify(line)}`);
  assert.equal(onPage.pointer, "none");
  const preview = await widgetInk(visitor, "share-preview-ink");
  assert.equal(preview?.strokes, 1, "and over the preview");
  // A click through the line reaches the page.
  await visitor.mouse.click(500, 330);
  assert.equal(await visitor.locator("#under-ink").getAttribute("data-clicked"), "1");
  // Unpinned: it fades away.
  await waitFor(async () => (await widgetInk(visitor, "share-page-ink"))?.strokes === 0, "the line faded", 15000);

  // A pinned arrow stays until the agent clears it.
  await agent.locator("[data-testid=share-pin]").click();
  await agent.locator("[data-testid=share-arrow]").click();
  await drawOnVideo(agent, [0.2, 0.2], [0.4, 0.3]);
  await waitFor(async () => (await widgetInk(visitor, "share-page-ink"))?.paths[0]?.pinned === "true", "the pinned arrow on the page");
  // Past the time an unpinned one would have faded, a later stroke arrives while the pinned one still shows.
  await new Promise((r) => setTimeout(r, 5500));
  await agent.locator("[data-testid=share-pin]").click();
  await drawOnVideo(agent, [0.6, 0.8], [0.8, 0.8]);
  await waitFor(async () => (await widgetInk(visitor, "share-page-ink"))?.strokes === 2, "the pinned arrow and the new line");
  await agent.locator("[data-testid=share-clear-drawings]").click();
  await waitFor(async () => (await widgetInk(visitor, "share-page-ink"))?.strokes === 0 && (await widgetInk(visitor, "share-preview-ink"))?.strokes === 0, "cleared on the visitor's side");
  assert.equal(await agent.locator("[data-testid=share-ink]").getAttribute("data-strokes"), "0");
  assertNoProblems(stack);
});

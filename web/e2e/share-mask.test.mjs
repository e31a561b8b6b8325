// (h) Privacy: the visitor shares the very tab holding the site (current-tab
// capture, auto-accepted by Chromium); elements marked data-sightline-private and
// password fields reach the agent as opaque boxes, burned into the video before it
// leaves the browser. Checked on the agent's decoded pixels.

import { after, before, test } from "node:test";
import http from "node:http";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { acceptByPreview, login, openWidget, startServer, visitorSend, waitFor, waitForWidgetTexts } from "./harness.mjs";
import { assertVideoAdvancing, hookedPage, invite, launchShareBrowser } from "./share-harness.mjs";

const stack = { problems: [] };
// The customer's site: another origin that embeds the widget.
const site = http.createServer((req, res) => {
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end((req.url === "/only" ? ONLY_PAGE : PAGE).replace("/widget.js", stack.base + "/widget.js"));
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

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Mask test</title>
<style>body{margin:0;background:#fff;font:16px sans-serif} .box{position:absolute;width:320px;height:200px;background:#ff0000}</style></head>
<body>
<div class="box" id="secret" data-sightline-private style="left:40px;top:120px">Account 1234 5678</div>
<div class="box" id="open" style="left:420px;top:120px">Visible to the agent</div>
<input type="password" id="pw" value="hunter2" style="position:absolute;left:40px;top:400px;width:320px;height:80px;background:#00ff00;border:0">
<script src="/widget.js" data-share-tab="prefer"></script>
</body></html>`;

const ONLY_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Share-only test</title></head>
<body style="margin:0;background:#ff0000">
<div data-sightline-share-only style="position:absolute;left:100px;top:100px;width:400px;height:300px;background:#0000ff">
  <div data-sightline-private style="position:absolute;left:0;top:0;width:200px;height:300px;background:#00ff00">card number</div>
</div>
<script src="/widget.js"></script>
</body></html>`;

test("(h) private elements and password fields are masked in a current-tab share", { timeout: 120000 }, async () => {
  const agent = await hookedPage(stack.agentBrowser, "agent", stack.problems);
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await hookedPage(stack.visitorBrowser, "visitor", stack.problems);
  await visitor.goto(stack.site + "/");
  await openWidget(visitor);
  await visitorSend(visitor, "mask test");
  await waitForWidgetTexts(visitor, ["mask test"]);
  await acceptByPreview(agent, "mask test");
  await invite(agent);
  const accept = visitor.locator("[data-sightline] [data-testid=share-accept]");
  await accept.waitFor({ state: "visible" });
  await accept.click();
  await assertVideoAdvancing(agent);
  const vis = await visitor.evaluate(() => ({ self: window.__sightlineShare.share.prepared.selfCapture, boxes: window.__sightlineShare.boxes, vw: innerWidth, vh: innerHeight }));
  assert.equal(vis.self, true, "self-capture detected");
  assert.ok(vis.boxes.length >= 2, `mask boxes drawn: ${JSON.stringify(vis.boxes)}`);
  assert.ok(await visitor.locator("[data-sightline] [data-testid=share-masked]").isVisible(), "the visitor is told private fields are hidden");

  // Sample the agent's decoded frame at the centres of the three elements.
  const sample = () =>
    agent.locator("[data-testid=share-video]").evaluate((v, vp) => {
      const c = document.createElement("canvas");
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const g = c.getContext("2d");
      g.drawImage(v, 0, 0);
      const at = (x, y) => Array.from(g.getImageData(Math.round((x * c.width) / vp.vw), Math.round((y * c.height) / vp.vh), 1, 1).data).slice(0, 3);
      return { size: [c.width, c.height], secret: at(200, 220), open: at(580, 220), pw: at(200, 440) };
    }, vis);
  const near = (px, rgb, tol = 40) => px.every((v, i) => Math.abs(v - rgb[i]) <= tol);
  const MASK = [0x2b, 0x2f, 0x36];
  const px = await waitFor(async () => {
    const s = await sample();
    return near(s.secret, MASK) && near(s.pw, MASK) && near(s.open, [255, 0, 0], 60) ? s : false;
  }, "agent sees mask colour over the private element and the password field, red elsewhere", 20000);
  assert.ok(px.size[0] > 0);
  assertNoProblems(stack);
  // End this share before the next test, so that it runs on an idle visitor browser.
  await visitor.context().close();
  await agent.context().close();
});

test("(h2) a share restricted to one element is cropped to it, with its private part masked", { timeout: 120000 }, async () => {
  const agent = await hookedPage(stack.agentBrowser, "agent2", stack.problems);
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await hookedPage(stack.visitorBrowser, "visitor2", stack.problems);
  await visitor.goto(stack.site + "/only");
  await openWidget(visitor);
  await visitorSend(visitor, "share only test");
  await waitForWidgetTexts(visitor, ["share only test"]);
  await acceptByPreview(agent, "share only test");
  await invite(agent);
  await visitor.locator("[data-sightline] [data-testid=share-accept]").click();
  await assertVideoAdvancing(agent);
  const px = await waitFor(async () => {
    const s = await agent.locator("[data-testid=share-video]").evaluate((v) => {
      const c = document.createElement("canvas");
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const g = c.getContext("2d");
      g.drawImage(v, 0, 0);
      const at = (fx, fy) => Array.from(g.getImageData(Math.round(fx * c.width), Math.round(fy * c.height), 1, 1).data).slice(0, 3);
      return { w: c.width, h: c.height, left: at(0.25, 0.5), right: at(0.75, 0.5), corner: at(0.98, 0.02) };
    });
    const near = (p, rgb, tol = 60) => p.every((x, i) => Math.abs(x - rgb[i]) <= tol);
    // Only the 400x300 element: blue on the right half, the private left half masked, no red page around it.
    return Math.abs(s.w / s.h - 4 / 3) < 0.05 && near(s.right, [0, 0, 255]) && near(s.corner, [0, 0, 255]) && near(s.left, [0x2b, 0x2f, 0x36], 40) ? s : false;
  }, "agent sees only the element, its private half masked", 20000);
  assert.ok(px.w > 0);
  assertNoProblems(stack);
  await visitor.context().close();
  await agent.context().close();
});

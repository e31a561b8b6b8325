// Pictures with the widget on the customer's own site (another origin, no CSP):
// the visitor's paste is uploaded cross-origin with the Bearer token (CORS
// preflight), and the agent's picture is fetched cross-origin into blob: URLs
// shown as <img> (the plain path; /demo's CSP forces the canvas fallback).

import { after, before, test } from "node:test";
import http from "node:http";
import assert from "node:assert/strict";
import { acceptByPreview, launchBrowser, login, newPage, openWidget, startServer, visitorSend, waitFor, waitForWidgetTexts } from "./harness.mjs";

const stack = { problems: [] };
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Customer site</title></head>
<body><h1>Customer site</h1><script src="/widget.js"></script></body></html>`;
const site = http.createServer((req, res) => {
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(PAGE.replace("/widget.js", stack.base + "/widget.js"));
});

before(async () => {
  await new Promise((r) => site.listen(0, "127.0.0.1", () => r(undefined)));
  stack.site = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (site.address()).port}`;
  stack.server = await startServer({ allowedOrigins: [stack.site] });
  stack.base = stack.server.url;
  stack.browser = await launchBrowser();
});
after(async () => {
  await stack.browser?.close().catch(() => {});
  if (process.env.E2E_DEBUG && stack.server) console.log(stack.server.logs.join(""));
  await stack.server?.stop();
  site.close();
});

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

test("pictures both ways with the widget on another origin", { timeout: 120000 }, async () => {
  assert.notEqual(new URL(stack.site).origin, new URL(stack.base).origin);
  const agent = await newPage(stack.browser, "agent", stack.problems);
  await agent.addInitScript(() => (window.__sightlineTestHooks = true));
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await newPage(stack.browser, "visitor", stack.problems);
  await visitor.goto(stack.site + "/");
  await openWidget(visitor);
  await visitorSend(visitor, "cors pictures");
  await waitForWidgetTexts(visitor, ["cors pictures"]);
  await acceptByPreview(agent, "cors pictures");

  // Visitor → agent, through a cross-origin upload.
  await visitor.evaluate(async () => {
    const c = document.createElement("canvas");
    c.width = 64;
    c.height = 48;
    c.getContext("2d").fillStyle = "#00ffff";
    c.getContext("2d").fillRect(0, 0, 64, 48);
    const blob = await new Promise((r) => c.toBlob(r, "image/png"));
    const dt = new DataTransfer();
    dt.items.add(new File([blob], "s.png", { type: "image/png" }));
    document.querySelector("[data-sightline]").shadowRoot.querySelector("[data-testid=input]").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  const fromVisitor = agent.locator("[data-testid=transcript] [data-testid=message][data-from=visitor] [data-testid=image-message]");
  await fromVisitor.waitFor({ state: "visible" });
  assert.match(await fromVisitor.textContent(), /64×48/);

  const visitorImageId = await fromVisitor.getAttribute("data-image-id");
  // The agent marks up the visitor's picture: a copy with source_image, the original as base.
  await fromVisitor.locator("[data-testid=image-show]").click();
  await fromVisitor.locator("[data-testid=image-edit]").click();
  let editor = agent.locator("[data-testid=snapshot-editor]");
  await editor.waitFor({ state: "visible" });
  assert.deepEqual([await editor.getAttribute("data-width"), await editor.getAttribute("data-height")], ["64", "48"]);
  await agent.keyboard.press("r");
  const [a, b] = await agent.evaluate(() => [window.__sightlineImages.current.toClient(10, 10), window.__sightlineImages.current.toClient(50, 40)]);
  await agent.mouse.move(a.x, a.y);
  await agent.mouse.down();
  await agent.mouse.move(b.x, b.y, { steps: 4 });
  await agent.mouse.up();
  await agent.locator("[data-testid=editor-send]").click();
  await editor.waitFor({ state: "detached" });
  const copy = agent.locator(`[data-testid=transcript] [data-testid=image-message][data-source-image="${visitorImageId}"]`);
  await copy.waitFor({ state: "visible" });
  const copyId = await copy.getAttribute("data-image-id");
  const doc = await agent.evaluate(async (i) => (await (await fetch(`/api/images/${i}/annotations`)).json()).annotations, copyId);
  assert.equal(doc.base, visitorImageId, "the shapes were drawn on the visitor's picture");
  // Reopened: the base is fetched from the server (not burned-in pixels), one shape.
  await copy.locator("[data-testid=image-edit]").click();
  await editor.waitFor({ state: "visible" });
  await waitFor(async () => (await editor.getAttribute("data-shapes")) === "1", "shape back");
  assert.equal(await agent.locator("[data-testid=editor-note]").count(), 0);
  await agent.locator("[data-testid=editor-close]").click();
  await editor.waitFor({ state: "detached" });

  // Agent → visitor: a picture opened from a file, a marker, sent.
  await agent.evaluate(async () => {
    const c = document.createElement("canvas");
    c.width = 320;
    c.height = 200;
    const ctx = c.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, 320, 200);
    await window.__sightlineImages.fromFile(await new Promise((r) => c.toBlob(r, "image/png")));
  });
  await editor.waitFor({ state: "visible" });
  await agent.keyboard.press("n");
  // The editor fits the picture once its stage has its size: aim only when the
  // picture's centre sits at the centre of the canvas (before that, the mapping
  // from picture to screen is still the provisional one).
  let p = { x: 0, y: 0 };
  await waitFor(async () => {
    p = await agent.evaluate(() => {
      const at = window.__sightlineImages.current.toClient(160, 100);
      const r = document.querySelector("[data-testid=editor-canvas]").getBoundingClientRect();
      return { ...at, cx: r.left + r.width / 2, cy: r.top + r.height / 2 };
    });
    return Math.abs(p.x - p.cx) < 1 && Math.abs(p.y - p.cy) < 1;
  }, "the picture fitted in the editor");
  await agent.mouse.click(p.x, p.y);
  await waitFor(async () => (await editor.getAttribute("data-shapes")) === "1", "the marker placed");
  await agent.locator("[data-testid=editor-send]").click();
  await editor.waitFor({ state: "detached" });

  const thumb = widget(visitor, "image-thumb").last();
  await waitFor(async () => (await widget(visitor, "image-thumb").count()) === 3 && (await thumb.getAttribute("data-loaded")) === "true", "visitor thumbnail loaded cross-origin");
  const el = await thumb.evaluate((b) => ({ tag: b.firstElementChild.tagName, src: b.firstElementChild.getAttribute("src") }));
  assert.equal(el.tag, "IMG", "no CSP here: a plain <img>");
  assert.ok(el.src.startsWith("blob:" + stack.site), `a blob: URL of the site: ${el.src}`);
  await thumb.click();
  const full = widget(visitor, "image-full");
  await waitFor(async () => (await full.count()) === 1 && (await full.getAttribute("data-ready")) === "true", "full picture");
  const px = await full.evaluate((img) => {
    const c = document.createElement("canvas");
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    c.getContext("2d").drawImage(img, 0, 0);
    // Four points 12 px from the centre: inside the marker's disc (radius 18 on a
    // 320 px picture), outside its white rim and clear of the number in the middle.
    const ring = [
      [148, 100],
      [172, 100],
      [160, 88],
      [160, 112],
    ].map(([x, y]) => Array.from(c.getContext("2d").getImageData(x, y, 1, 1).data));
    return { w: c.width, h: c.height, ring };
  });
  assert.deepEqual([px.w, px.h], [320, 200]);
  // The marker is a red (#ef4444) disc on the white page: every ring point is red.
  for (const [r, g, b] of px.ring) {
    assert.ok(r > 200 && g < 120 && b < 120, `marker's red disc around the centre: ${JSON.stringify(px.ring)}`);
  }
  const blobUrl = await full.getAttribute("src");
  await widget(visitor, "image-viewer-close").click();
  // The full picture's blob URL is revoked when the overlay closes.
  const stillThere = await visitor.evaluate(async (u) => {
    try {
      await fetch(u);
      return true;
    } catch {
      return false;
    }
  }, blobUrl);
  assert.equal(stillThere, false, "blob URL revoked");
  assert.deepEqual(stack.problems, []);
});

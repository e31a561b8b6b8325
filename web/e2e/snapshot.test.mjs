// Snapshots and pictures between the console and the widget, over a real server:
// (a) the agent grabs a full-resolution frame of a fake 1280x720 screen share,
//     draws a green arrow with the mouse, sends it; the visitor opens it and the
//     pixel under the arrow's midpoint is green;
// (b) the visitor pastes a picture; the agent sees it (behind "Show") at its size;
// (c) the agent reopens the snapshot: its shapes come back, one is changed, sent
//     again as a new image with source_image;
// (g) the agent pastes a picture into the composer, adds text, crops, sends;
// (d) the history shows pictures behind "Show";
// (e) another visitor's token is refused the picture (403);
// (f) a text file named .png is refused with a message in words (415), and so is
//     a file over the size limit (413).

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { login, openWidget, visitorSend, waitFor, waitForWidgetTexts } from "./harness.mjs";
import { assertVideoAdvancing, invite, startChat, useShareStack } from "./share-harness.mjs";

const stack = useShareStack();
const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);
const state = {};

/** Pixel [r,g,b,a] at (x, y) of an <img> or <canvas> element, read at its full size. */
async function pixelOf(locator, x, y) {
  return locator.evaluate(
    (el, [px, py]) => {
      let c = el;
      if (el instanceof HTMLImageElement) {
        c = document.createElement("canvas");
        c.width = el.naturalWidth;
        c.height = el.naturalHeight;
        c.getContext("2d").drawImage(el, 0, 0);
      }
      return { w: c.width, h: c.height, px: Array.from(c.getContext("2d").getImageData(px, py, 1, 1).data) };
    },
    [x, y],
  );
}

async function readAll(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

function near(a, b, tol = 40) {
  return a.every((v, i) => Math.abs(v - b[i]) <= tol);
}

/** Drags with the mouse from image point (x0, y0) to (x1, y1) in the open editor. */
async function dragInEditor(page, x0, y0, x1, y1) {
  const [p0, p1] = await page.evaluate(
    ([a, b, c, d]) => {
      const ed = window.__sightlineImages.current;
      return [ed.toClient(a, b), ed.toClient(c, d)];
    },
    [x0, y0, x1, y1],
  );
  await page.mouse.move(p0.x, p0.y);
  await page.mouse.down();
  await page.mouse.move((p0.x + p1.x) / 2, (p0.y + p1.y) / 2, { steps: 5 });
  await page.mouse.move(p1.x, p1.y, { steps: 5 });
  await page.mouse.up();
}

async function clickInEditor(page, x, y) {
  const p = await page.evaluate(([a, b]) => window.__sightlineImages.current.toClient(a, b), [x, y]);
  await page.mouse.click(p.x, p.y);
}

test("(a) snapshot of a share at full resolution, green arrow, sent; the visitor sees green under it", { timeout: 180000 }, async () => {
  const { agent, visitor } = await startChat(stack, { text: "snapshot test" });
  state.agent = agent;
  state.visitor = visitor;
  await invite(agent);
  await widget(visitor, "share-accept").click();
  const video = await assertVideoAdvancing(agent);
  assert.deepEqual([video.w, video.h], [1280, 720], "fake screen size");
  // The viewer shows it scaled down; the snapshot must not be.
  const viewWidth = await agent.locator("[data-testid=share-video]").evaluate((v) => v.getBoundingClientRect().width);
  assert.ok(viewWidth < 1280, `viewer scaled (${viewWidth} px wide)`);

  await agent.locator("[data-testid=share-snapshot]").click();
  const editor = agent.locator("[data-testid=snapshot-editor]");
  await editor.waitFor({ state: "visible" });
  assert.equal(await editor.getAttribute("data-width"), "1280");
  assert.equal(await editor.getAttribute("data-height"), "720");
  assert.match(await agent.locator("[data-testid=editor-help]").textContent(), /Ctrl\+Z/);

  await agent.locator("[data-testid=tool-arrow]").click();
  await agent.locator("[data-testid=editor-color]").fill("#00ff00");
  await agent.locator("[data-testid=editor-width]").selectOption("10");
  await dragInEditor(agent, 200, 200, 700, 450);
  assert.equal(await editor.getAttribute("data-shapes"), "1");
  const arrow = await agent.evaluate(() => window.__sightlineImages.current.model.shapes[0]);
  assert.equal(arrow.type, "arrow");
  assert.equal(arrow.color, "#00ff00");
  assert.ok(Math.abs(arrow.pts[0] - 200) < 3 && Math.abs(arrow.pts[3] - 450) < 3, `arrow where dragged: ${arrow.pts}`);
  state.mid = [Math.round((arrow.pts[0] + arrow.pts[2]) / 2), Math.round((arrow.pts[1] + arrow.pts[3]) / 2)];
  // Undo / redo with the keyboard.
  await agent.keyboard.press("Control+z");
  assert.equal(await editor.getAttribute("data-shapes"), "0");
  await agent.keyboard.press("Control+Shift+z");
  assert.equal(await editor.getAttribute("data-shapes"), "1");

  // "Save" downloads the flattened PNG at full size.
  const download = agent.waitForEvent("download");
  await agent.locator("[data-testid=editor-save]").click();
  const file = await download;
  assert.match(file.suggestedFilename(), /^snapshot-\d{8}-\d{6}\.png$/);
  const png = await readAll(await file.createReadStream());
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [1280, 720], "saved at full size");

  await agent.locator("[data-testid=editor-send]").click();
  await editor.waitFor({ state: "detached" });
  const msg = agent.locator("[data-testid=transcript] [data-testid=message][data-from=agent] [data-testid=image-message]").last();
  await msg.waitFor({ state: "visible" });
  state.snapId = await msg.getAttribute("data-image-id");
  assert.ok(state.snapId);
  // The agent's own snapshot shows at once.
  await waitFor(() => msg.locator("[data-testid=image-thumb] img").evaluate((i) => i.complete && i.naturalWidth > 0), "agent thumbnail loaded");

  // The visitor: thumbnail, then the full picture.
  const thumb = widget(visitor, "image-thumb").last();
  await thumb.waitFor({ state: "visible" });
  await waitFor(async () => (await thumb.getAttribute("data-loaded")) === "true", "visitor thumbnail loaded");
  assert.equal(await thumb.getAttribute("data-image-id"), state.snapId);
  await thumb.click();
  const full = widget(visitor, "image-full");
  await waitFor(async () => (await full.count()) === 1 && (await full.getAttribute("data-ready")) === "true", "full picture shown");
  const p = await pixelOf(full, state.mid[0], state.mid[1]);
  assert.deepEqual([p.w, p.h], [1280, 720], "full resolution");
  assert.ok(near(p.px, [0, 255, 0, 255]), `green under the arrow's midpoint: ${p.px}`);
  // Far from the arrow it is not green.
  const q = await pixelOf(full, 1200, 100);
  assert.ok(!near(q.px, [0, 255, 0, 255], 30), `not green elsewhere: ${q.px}`);
  await widget(visitor, "image-viewer-close").click();
  assert.equal(await widget(visitor, "image-viewer").count(), 0);
  // Thumbnails are blob: URLs or canvases (fetched with the Bearer token), never a server URL.
  const shown = await thumb.evaluate((b) => [...b.children].map((e) => ({ tag: e.tagName, src: e.getAttribute("src") })));
  assert.equal(shown.length, 1, JSON.stringify(shown));
  assert.ok(shown[0].tag === "CANVAS" || (shown[0].tag === "IMG" && shown[0].src.startsWith("blob:")), `thumbnail: ${JSON.stringify(shown)}`);
  if (process.env.E2E_DEBUG) console.log("visitor thumbnail element", shown);
  // The S shortcut on the viewer; Esc twice discards a picture with changes.
  await agent.locator("[data-testid=share-stage]").focus();
  await agent.keyboard.press("s");
  await editor.waitFor({ state: "visible" });
  assert.equal(await editor.getAttribute("data-width"), "1280");
  await agent.keyboard.press("r");
  await dragInEditor(agent, 10, 10, 100, 100);
  await agent.keyboard.press("Escape");
  assert.ok(await editor.isVisible(), "first Esc only warns");
  assert.match(await agent.locator("[data-testid=editor-status]").textContent(), /Esc again/);
  await agent.keyboard.press("Escape");
  await editor.waitFor({ state: "detached" });
  assert.equal(await agent.locator("[data-testid=transcript] [data-testid=image-message]").count(), 1, "nothing sent");
  await agent.locator("[data-testid=share-end]").click();
  assertNoProblems(stack);
});

test("(b) the visitor pastes a picture; the agent sees it behind Show, at its size", { timeout: 120000 }, async () => {
  const { agent, visitor } = state;
  await visitor.locator("[data-testid=input]").click();
  // Text and a picture of it (as office apps copy): the text is pasted, nothing is uploaded.
  const notTaken = await visitor.evaluate(async () => {
    const c = document.createElement("canvas");
    c.width = c.height = 10;
    const blob = await new Promise((r) => c.toBlob(r, "image/png"));
    const dt = new DataTransfer();
    dt.setData("text/plain", "a table cell");
    dt.items.add(new File([blob], "cell.png", { type: "image/png" }));
    const input = document.querySelector("[data-sightline]").shadowRoot.querySelector("[data-testid=input]");
    return input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true, composed: true }));
  });
  assert.equal(notTaken, true, "text paste left to the browser");
  await visitor.evaluate(async () => {
    const c = document.createElement("canvas");
    c.width = 300;
    c.height = 200;
    const ctx = c.getContext("2d");
    ctx.fillStyle = "#ff00ff";
    ctx.fillRect(0, 0, 300, 200);
    const blob = await new Promise((r) => c.toBlob(r, "image/png"));
    const dt = new DataTransfer();
    dt.items.add(new File([blob], "screenshot.png", { type: "image/png" }));
    const input = document.querySelector("[data-sightline]").shadowRoot.querySelector("[data-testid=input]");
    input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true, composed: true }));
  });
  const mine = widget(visitor, "image-thumb").last();
  await waitFor(async () => (await widget(visitor, "message").last().getAttribute("data-from")) === "visitor" && (await mine.getAttribute("data-loaded")) === "true", "visitor sees own picture");
  assert.equal(await widget(visitor, "uploads").locator("[data-testid=upload]").count(), 0, "no upload left pending");
  assert.equal(await widget(visitor, "image-thumb").count(), 2, "one picture from the agent, one pasted (not the text's picture)");

  const msg = agent.locator("[data-testid=transcript] [data-testid=message][data-from=visitor] [data-testid=image-message]").last();
  await msg.waitFor({ state: "visible" });
  state.visitorImageId = await msg.getAttribute("data-image-id");
  // Hidden until the agent asks for it.
  assert.equal(await msg.locator("[data-testid=image-thumb]").count(), 0);
  await msg.locator("[data-testid=image-show]").click();
  const img = msg.locator("[data-testid=image-thumb] img");
  await waitFor(() => img.evaluate((i) => i.complete && i.naturalWidth > 0), "agent thumbnail loaded");
  await msg.locator("[data-testid=image-thumb]").click();
  const full = agent.locator("[data-testid=image-full]");
  await waitFor(() => full.evaluate((i) => i.complete && i.naturalWidth > 0), "full picture loaded");
  assert.deepEqual(await full.evaluate((i) => [i.naturalWidth, i.naturalHeight]), [300, 200]);
  const px = await pixelOf(full, 150, 100);
  assert.ok(near(px.px, [255, 0, 255, 255], 2), `magenta: ${px.px}`);
  // The viewer is a modal dialog for the keyboard too: focus starts on Close, Tab
  // goes round inside it ([Edit,] Download, Close), and Escape gives focus back to
  // the thumbnail that opened it.
  const focused = () => agent.evaluate(() => document.activeElement?.getAttribute("data-testid") ?? document.activeElement?.tagName);
  await waitFor(async () => (await focused()) === "image-viewer-close", "focus on Close");
  const round = [];
  for (let i = 0; i < 4; i++) {
    await agent.keyboard.press("Tab");
    round.push(await focused());
  }
  const cycle = (await agent.locator("[data-testid=image-viewer-edit]").count()) ? ["image-viewer-edit", "image-download", "image-viewer-close"] : ["image-download", "image-viewer-close"];
  assert.deepEqual(round, [0, 1, 2, 3].map((i) => cycle[i % cycle.length]), "Tab stays in the viewer");
  await agent.keyboard.press("Shift+Tab");
  assert.equal(await focused(), cycle[(round.length - 2) % cycle.length], "Shift+Tab goes back");
  await agent.keyboard.press("Escape");
  await agent.locator("[data-testid=image-viewer]").waitFor({ state: "detached" });
  assert.equal(await focused(), "image-thumb", "focus is back on the thumbnail");
  assertNoProblems(stack);
});

test("(c) the agent reopens the snapshot: shapes come back, one changes, sent again with source_image", { timeout: 120000 }, async () => {
  const { agent } = state;
  const msg = agent.locator(`[data-testid=transcript] [data-testid=image-message][data-image-id="${state.snapId}"]`);
  await msg.locator("[data-testid=image-edit]").click();
  const editor = agent.locator("[data-testid=snapshot-editor]");
  await editor.waitFor({ state: "visible" });
  await waitFor(async () => (await editor.getAttribute("data-shapes")) === "1", "the arrow came back");
  assert.deepEqual([await editor.getAttribute("data-width"), await editor.getAttribute("data-height")], ["1280", "720"]);
  assert.equal(await agent.locator("[data-testid=editor-note]").count(), 0, "the unannotated base was used");
  // Select the arrow by clicking on it and make it blue; add a numbered marker.
  await agent.locator("[data-testid=tool-select]").click();
  await clickInEditor(agent, state.mid[0], state.mid[1]);
  await waitFor(async () => (await editor.getAttribute("data-selected")) !== "", "arrow selected");
  await agent.locator("[data-testid=swatch-3b82f6]").click();
  await agent.keyboard.press("n");
  await clickInEditor(agent, 900, 300);
  assert.equal(await editor.getAttribute("data-shapes"), "2");
  // A red frame, then a blur box over it: the blur must be burned into the PNG.
  await agent.keyboard.press("r");
  await agent.locator("[data-testid=swatch-ef4444]").click();
  await dragInEditor(agent, 150, 520, 300, 640);
  await agent.keyboard.press("b");
  await dragInEditor(agent, 100, 500, 320, 650);
  assert.equal(await editor.getAttribute("data-shapes"), "4");
  const boxes = await agent.evaluate(() => window.__sightlineImages.current.model.shapes.slice(2).map((s) => s.pts.map(Math.floor)));
  await agent.locator("[data-testid=editor-send]").click();
  await editor.waitFor({ state: "detached" });
  const again = agent.locator(`[data-testid=transcript] [data-testid=image-message][data-source-image="${state.snapId}"]`);
  await again.waitFor({ state: "visible" });
  const id = await again.getAttribute("data-image-id");
  assert.notEqual(id, state.snapId);
  state.editedId = id;
  const doc = await agent.evaluate(async (i) => (await (await fetch(`/api/images/${i}/annotations`)).json()).annotations, id);
  assert.equal(doc.version, 1);
  assert.deepEqual(doc.shapes.map((s) => [s.type, s.color]).slice(0, 3), [["arrow", "#3b82f6"], ["marker", "#3b82f6"], ["rect", "#ef4444"]]);
  assert.equal(doc.shapes[3].type, "blur");
  assert.equal(doc.shapes[1].n, 1);
  // The picture sent is blue under the arrow now.
  await again.locator("[data-testid=image-thumb]").click();
  const full = agent.locator("[data-testid=image-full]");
  await waitFor(() => full.evaluate((i) => i.complete && i.naturalWidth > 0), "full picture loaded");
  const px = await pixelOf(full, state.mid[0], state.mid[1]);
  assert.ok(near(px.px, [0x3b, 0x82, 0xf6, 255]), `blue under the arrow: ${px.px}`);
  // Inside the blur box the red frame's left edge is gone: the block around it is one colour.
  const [rx] = boxes[0];
  const [bx, by] = boxes[1];
  const block = 13; // blurBlock(1280) = max(12, round(1280 / 100))
  const k = Math.floor((rx - bx) / block);
  const x0 = bx + k * block + 1;
  const y0 = by + 5 * block + 1;
  const samples = [];
  for (const [dx, dy] of [[0, 0], [block - 3, 0], [0, block - 3], [block - 3, block - 3], [rx - x0, 4]]) samples.push((await pixelOf(full, x0 + dx, y0 + dy)).px);
  assert.ok(samples.every((p) => near(p, samples[0], 2)), `one colour in the blurred block: ${JSON.stringify(samples)}`);
  assert.ok(!near(samples[0], [0xef, 0x44, 0x44, 255], 20), `the red stroke is not visible as such: ${samples[0]}`);
  await agent.locator("[data-testid=image-viewer-close]").click();
  assertNoProblems(stack);
});

test("(c2) a share snapshot reopened in a fresh console tab draws on the stored original, which the visitor cannot fetch", { timeout: 120000 }, async () => {
  const { agent } = state;
  // Where the arrow's shaft passes, the sent picture is green; the original is not.
  const tab = await stack.page("agent-tab-2");
  await login(tab, stack.base, "admin", stack.server.adminPassword);
  await tab.locator("[data-testid=queue-mine] [data-testid=queue-item]").first().click();
  const msg = tab.locator(`[data-testid=transcript] [data-testid=image-message][data-image-id="${state.snapId}"]`);
  await msg.waitFor({ state: "visible" });
  await msg.locator("[data-testid=image-edit]").click();
  const editor = tab.locator("[data-testid=snapshot-editor]");
  await editor.waitFor({ state: "visible" });
  await waitFor(async () => (await editor.getAttribute("data-shapes")) === "1", "the arrow came back");
  assert.equal(await tab.locator("[data-testid=editor-note]").count(), 0, "no fallback note: the original was stored");
  const doc = await tab.evaluate(async (i) => (await (await fetch(`/api/images/${i}/annotations`)).json()).annotations, state.snapId);
  assert.ok(doc.base && doc.base !== state.snapId, `the shapes refer to a stored original: ${doc.base}`);
  // The editor's picture under the arrow is the original (not green), so a moved arrow leaves no copy.
  const under = await tab.evaluate(([x, y]) => {
    const ed = window.__sightlineImages.current;
    const c = document.createElement("canvas");
    c.width = ed.src.width;
    c.height = ed.src.height;
    const g = c.getContext("2d");
    g.drawImage(ed.src.image, 0, 0);
    return Array.from(g.getImageData(x, y, 1, 1).data);
  }, state.mid);
  assert.ok(!near(under, [0, 255, 0, 255], 30), `the original has no arrow: ${under}`);
  await tab.keyboard.press("Escape");
  await editor.waitFor({ state: "detached" });
  // Agents only: the visitor's token does not open it, while the sent picture opens.
  const status = (id) =>
    state.visitor.evaluate(async (i) => {
      const token = localStorage.getItem("sightline.visitor_token");
      return (await fetch(`/api/images/${i}`, { headers: { authorization: "Bearer " + token } })).status;
    }, id);
  assert.equal(await status(state.snapId), 200);
  assert.equal(await status(doc.base), 403);
  await tab.context().close();
  assert.ok(agent);
  assertNoProblems(stack);
});

test("(g) the agent pastes a picture into the composer, writes on it, crops it and sends it", { timeout: 120000 }, async () => {
  const { agent, visitor } = state;
  await agent.locator("[data-testid=composer-input]").click();
  await agent.evaluate(async () => {
    const c = document.createElement("canvas");
    c.width = 400;
    c.height = 300;
    const ctx = c.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, 400, 300);
    ctx.fillStyle = "#000000";
    ctx.fillRect(0, 0, 40, 40);
    const blob = await new Promise((r) => c.toBlob(r, "image/png"));
    const dt = new DataTransfer();
    dt.items.add(new File([blob], "mine.png", { type: "image/png" }));
    document.querySelector("[data-testid=composer-input]").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  const editor = agent.locator("[data-testid=snapshot-editor]");
  await editor.waitFor({ state: "visible" });
  assert.deepEqual([await editor.getAttribute("data-width"), await editor.getAttribute("data-height")], ["400", "300"]);
  assert.equal(await agent.locator("[data-testid=composer-input]").inputValue(), "", "nothing pasted as text");
  // Text typed right after the click lands in the text, not in the shortcuts. (Each
  // step is checked with where the focus is: this once failed in CI with no shape
  // made, and did not fail again in 4 runs beside two busy loops.)
  const focused = () => agent.evaluate(() => {
    const a = document.activeElement;
    return a ? `${a.tagName.toLowerCase()}${a.getAttribute("data-testid") ? `[${a.getAttribute("data-testid")}]` : ""}` : "none";
  });
  await agent.keyboard.press("t");
  assert.equal(await editor.getAttribute("data-tool"), "text", `"t" chose the text tool (focus: ${await focused()})`);
  await clickInEditor(agent, 120, 120);
  assert.equal(await focused(), "textarea[editor-text-input]", "the click opened the text field, with the focus");
  await agent.keyboard.type("Click here");
  await agent.keyboard.press("Enter");
  assert.equal(await editor.getAttribute("data-shapes"), "1");
  assert.equal(await editor.getAttribute("data-tool"), "text");
  assert.equal(await agent.evaluate(() => window.__sightlineImages.current.model.shapes[0].text), "Click here");
  assert.equal(await agent.locator("[data-testid=editor-canvas]").evaluate((c) => getComputedStyle(c).touchAction), "none");
  // A pen stroke with a stylus, then a two-finger pinch (Pointer Events of those kinds).
  await agent.keyboard.press("p");
  const before = Number(await editor.getAttribute("data-scale"));
  await agent.evaluate(() => {
    const ed = window.__sightlineImages.current;
    const c = document.querySelector("[data-testid=editor-canvas]");
    const at = (x, y) => ed.toClient(x, y);
    const fire = (type, id, kind, x, y) => c.dispatchEvent(new PointerEvent(type, { pointerId: id, pointerType: kind, isPrimary: true, button: type === "pointermove" ? -1 : 0, buttons: type === "pointerup" ? 0 : 1, clientX: at(x, y).x, clientY: at(x, y).y, bubbles: true, cancelable: true }));
    fire("pointerdown", 7, "pen", 300, 40);
    for (let i = 1; i <= 10; i++) fire("pointermove", 7, "pen", 300 + i * 8, 40 + i * 4);
    fire("pointerup", 7, "pen", 380, 80);
    // Pinch: two touches moving apart zoom in.
    const r = c.getBoundingClientRect();
    const cx = r.left + r.width / 2;
    const cy = r.top + r.height / 2;
    const touch = (type, id, x) => c.dispatchEvent(new PointerEvent(type, { pointerId: id, pointerType: "touch", button: type === "pointermove" ? -1 : 0, clientX: x, clientY: cy, bubbles: true, cancelable: true }));
    touch("pointerdown", 11, cx - 40);
    touch("pointerdown", 12, cx + 40);
    touch("pointermove", 11, cx - 80);
    touch("pointermove", 12, cx + 80);
    touch("pointerup", 11, cx - 80);
    touch("pointerup", 12, cx + 80);
  });
  assert.equal(await editor.getAttribute("data-shapes"), "2", "the stylus drew; the pinch drew nothing");
  assert.equal(await agent.evaluate(() => window.__sightlineImages.current.model.shapes[1].type), "pen");
  await waitFor(async () => Number(await editor.getAttribute("data-scale")) > before * 1.5, "pinch zoomed in");
  await agent.keyboard.press("0");
  // Crop away the black corner.
  await agent.locator("[data-testid=tool-crop]").click();
  await dragInEditor(agent, 100, 100, 300, 250);
  assert.equal(await editor.getAttribute("data-crop"), "100,100,200,150");
  assert.equal(await editor.getAttribute("data-tool"), "select");
  await agent.locator("[data-testid=editor-send]").click();
  await editor.waitFor({ state: "detached" });
  const ids = await agent.locator("[data-testid=transcript] [data-testid=image-message]").evaluateAll((els) => els.map((e) => e.getAttribute("data-image-id")));
  const id = ids[ids.length - 1];
  assert.ok(![state.snapId, state.editedId, state.visitorImageId].includes(id));
  const last = agent.locator(`[data-testid=transcript] [data-testid=image-message][data-image-id="${id}"]`);
  assert.match(await last.textContent(), /200×150/);
  assert.equal(await last.getAttribute("data-source-image"), null, "a new picture, not an edit");
  // The visitor's copy is the cropped one, without the black corner.
  const thumb = widget(visitor, "image-thumb").last();
  await waitFor(async () => (await thumb.getAttribute("data-image-id")) === id && (await thumb.getAttribute("data-loaded")) === "true", "visitor got it");
  await thumb.click();
  const full = widget(visitor, "image-full");
  await waitFor(async () => (await full.count()) === 1 && (await full.getAttribute("data-ready")) === "true", "full picture shown");
  const corner = await pixelOf(full, 1, 1);
  assert.deepEqual([corner.w, corner.h], [200, 150]);
  assert.ok(near(corner.px, [255, 255, 255, 255], 3), `white corner: ${corner.px}`);
  await widget(visitor, "image-viewer-close").click();
  assertNoProblems(stack);
});

test("(f) a text file named .png (415) and a file over the limit (413) are refused in words", { timeout: 60000 }, async () => {
  const { visitor } = state;
  const chooser = visitor.waitForEvent("filechooser");
  await widget(visitor, "attach").click();
  await (await chooser).setFiles({ name: "notes.png", mimeType: "image/png", buffer: Buffer.from("these are my notes, not a picture\n") });
  const err = widget(visitor, "upload-error");
  await err.waitFor({ state: "visible" });
  assert.match(await err.textContent(), /^Picture not sent: This file is not a PNG, JPEG, WebP or GIF image\.$/);
  assert.equal(await widget(visitor, "upload-retry").count(), 0, "no retry for a refused file");
  await widget(visitor, "upload-dismiss").click();
  assert.equal(await widget(visitor, "upload").count(), 0);
  // Over the size limit (10 MiB by default): 413 in words.
  const big = Buffer.alloc(11 * 1024 * 1024, 0);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(big);
  const chooser2 = visitor.waitForEvent("filechooser");
  await widget(visitor, "attach").click();
  await (await chooser2).setFiles({ name: "huge.png", mimeType: "image/png", buffer: big });
  await err.waitFor({ state: "visible" });
  assert.match(await err.textContent(), /^Picture not sent: The image is larger than the limit of 10 MB\.$/);
  await widget(visitor, "upload-dismiss").click();
  assertNoProblems(stack);
});

test("(e) another visitor is refused the picture (403); the owner is not", { timeout: 60000 }, async () => {
  const other = await stack.page("other visitor");
  await other.goto(stack.base + "/demo");
  await openWidget(other);
  await visitorSend(other, "I am someone else");
  await waitForWidgetTexts(other, ["I am someone else"]);
  const status = (page, id) =>
    page.evaluate(async (i) => {
      const token = localStorage.getItem("sightline.visitor_token");
      const r = await fetch(`/api/images/${i}`, { headers: { authorization: "Bearer " + token } });
      const t = await fetch(`/api/images/${i}/thumb`, { headers: { authorization: "Bearer " + token } });
      return [r.status, t.status];
    }, id);
  assert.deepEqual(await status(other, state.snapId), [403, 403]);
  assert.deepEqual(await status(state.visitor, state.snapId), [200, 200]);
  assert.equal(await other.evaluate(async (i) => (await fetch(`/api/images/${i}`)).status, state.snapId), 401, "no credentials");
  await other.close();
  assertNoProblems(stack);
});

test("(d) the history shows pictures behind Show", { timeout: 120000 }, async () => {
  const { agent } = state;
  // Closing the conversation takes "Edit" away; the visitor's picture the agent chose to see stays shown.
  const live = agent.locator("[data-testid=transcript]");
  assert.equal(await live.locator("[data-testid=image-edit]").count(), 4);
  await agent.locator("[data-testid=close-conversation]").click();
  await waitFor(async () => (await agent.locator("[data-testid=chat-status]").textContent()) === "closed", "closed");
  await waitFor(async () => (await live.locator("[data-testid=image-edit]").count()) === 0, "no Edit on a closed conversation");
  assert.equal(await live.locator("[data-testid=image-message]").count(), 4);
  assert.equal(await live.locator(`[data-testid=image-message][data-image-id="${state.visitorImageId}"] [data-testid=image-thumb]`).count(), 1, "still shown");
  await agent.locator("[data-testid=nav-history]").click();
  await agent.locator("[data-testid=history-search]").fill("snapshot test");
  await agent.locator("[data-testid=history-submit]").click();
  const rows = agent.locator("[data-testid=history-item]");
  await waitFor(async () => (await rows.count()) === 1, "the conversation is found");
  await rows.first().click();
  const tr = agent.locator("[data-testid=history-transcript]");
  await tr.waitFor({ state: "visible" });
  const pics = tr.locator("[data-testid=image-message]");
  await waitFor(async () => (await pics.count()) === 4, "four pictures in the history");
  assert.equal(await tr.locator("[data-testid=image-show]").count(), 4, "each behind Show");
  assert.equal(await tr.locator("[data-testid=image-thumb]").count(), 0, "nothing shown by default");
  assert.equal(await tr.locator("img").count(), 0, "no picture loaded by default");
  await pics.nth(1).locator("[data-testid=image-show]").click();
  const img = pics.nth(1).locator("[data-testid=image-thumb] img");
  await waitFor(() => img.evaluate((i) => i.complete && i.naturalWidth > 0), "history thumbnail loaded");
  assert.equal(await tr.locator("[data-testid=image-show]").count(), 3);
  await pics.nth(1).locator("[data-testid=image-thumb]").click();
  const full = agent.locator("[data-testid=image-full]");
  await waitFor(() => full.evaluate((i) => i.complete && i.naturalWidth > 0), "full picture from the history");
  assert.deepEqual(await full.evaluate((i) => [i.naturalWidth, i.naturalHeight]), [300, 200]);
  await agent.keyboard.press("Escape");
  assertNoProblems(stack);
});

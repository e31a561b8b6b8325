#!/usr/bin/env node
// Co-browsing benchmark on loopback: the real server (release build) and Chromium
// via playwright-core, both pages in one browser (so they share a clock).
//
// 1. A DOM change on the visitor's page → painted in the agent's mirror (the
//    mirror's document has the new text, then the next animation frame), over N
//    changes at 10 per second: p50/p95/p99.
// 2. The full snapshot of the demo transfer page: bytes on the wire against the
//    raw rrweb JSON.
// 3. A scripted session on the demo site (pointer moving, scrolling, typing, a
//    page change every 20 s) for --seconds: average kbit/s on the wire and raw.
// 4. A 5,000-row table on the visitor's page: how long a full snapshot holds the
//    visitor's main thread.
//
// Usage (from web/): npm run bench:cobrowse
//   or: node bench/cobrowse.mjs [--changes 200] [--seconds 120]
// Env: SIGHTLINE_BIN (default ../target/release/sightline), CHROMIUM_PATH.

import path from "node:path";
import { inflateRawSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.SIGHTLINE_BIN ||= path.join(here, "..", "..", "target", "release", "sightline");
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const CHANGES = arg("--changes", 200);
const SECONDS = arg("--seconds", 120);

const { startServer, login, waitFor, openWidget, visitorSend, waitForWidgetTexts, acceptByPreview } = await import("../e2e/harness.mjs");
const { launchShareBrowser, hookedPage } = await import("../e2e/share-harness.mjs");

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const ms = (v) => `${v.toFixed(1)} ms`;

/** Stream messages the visitor sends: wire bytes and raw JSON bytes, with their time. */
function watchStream(page, messages) {
  page.on("websocket", (ws) => {
    if (!ws.url().includes("/ws/stream")) return;
    let parts = [];
    let wire = 0;
    ws.on("framesent", (f) => {
      if (typeof f.payload === "string") return;
      const bytes = f.payload;
      wire += bytes.length;
      if (bytes.length < 10 || bytes[0] !== 1) return;
      if (bytes.readUInt16BE(6) === 0) parts = [];
      parts.push(bytes.subarray(10));
      if (parts.length === bytes.readUInt16BE(8)) {
        const whole = Buffer.concat(parts);
        const raw = (bytes[1] & 1) !== 0 ? inflateRawSync(whole) : whole;
        const text = raw.toString("utf8");
        let snapshot = false;
        try {
          snapshot = JSON.parse(text).some((e) => e && e.type === 2);
        } catch {
          // not a message of items
        }
        messages.push({ at: Date.now(), wire, raw: raw.length, snapshot });
        parts = [];
        wire = 0;
      }
    });
  });
}

const server = await startServer();
const browser = await launchShareBrowser();
const problems = [];
try {
  const agent = await hookedPage(browser, "agent", problems);
  await login(agent, server.url, "admin", server.adminPassword);
  const visitor = await hookedPage(browser, "visitor", problems);
  const messages = [];
  watchStream(visitor, messages);
  await visitor.goto(server.url + "/demo/transfer");
  await openWidget(visitor);
  await visitorSend(visitor, "cobrowse bench");
  await waitForWidgetTexts(visitor, ["cobrowse bench"]);
  await acceptByPreview(agent, "cobrowse bench");
  await agent.locator("[data-testid=cobrowse-invite]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await visitor.locator("[data-sightline] [data-testid=cobrowse-allow]").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  await waitFor(() => messages.some((m) => m.snapshot), "the first snapshot");
  const snap = messages.find((m) => m.snapshot);

  // ---- 1. change → painted ----
  await visitor.evaluate(() => {
    const p = document.createElement("p");
    p.id = "bench-target";
    p.textContent = "ready";
    document.querySelector("main").prepend(p);
  });
  await waitFor(async () => agent.evaluate(() => /** @type {HTMLIFrameElement | null} */ (document.querySelector("[data-testid=cobrowse-mirror] iframe"))?.contentDocument?.querySelector("#bench-target")?.textContent === "ready"), "bench target in the mirror");
  await agent.evaluate(() => {
    const w = /** @type {any} */ (window);
    const doc = /** @type {HTMLIFrameElement} */ (document.querySelector("[data-testid=cobrowse-mirror] iframe")).contentDocument;
    w.__painted = {};
    const check = () => {
      const text = doc.querySelector("#bench-target")?.textContent ?? "";
      const m = /^t(\d+)$/.exec(text);
      if (m && !(m[1] in w.__painted)) {
        const i = m[1];
        w.__painted[i] = -1;
        requestAnimationFrame(() => (w.__painted[i] = performance.timeOrigin + performance.now()));
      }
    };
    new MutationObserver(check).observe(doc, { subtree: true, childList: true, characterData: true });
  });
  await visitor.evaluate(async (n) => {
    const w = /** @type {any} */ (window);
    w.__changed = {};
    const el = document.querySelector("#bench-target");
    for (let i = 0; i < n; i++) {
      el.textContent = `t${i}`;
      w.__changed[i] = performance.timeOrigin + performance.now();
      await new Promise((r) => setTimeout(r, 100));
    }
  }, CHANGES);
  await waitFor(async () => (await agent.evaluate((n) => (/** @type {any} */ (window).__painted[n - 1] ?? -1) > 0, CHANGES)), "the last change painted", 20000);
  const changed = await visitor.evaluate(() => /** @type {any} */ (window).__changed);
  const painted = await agent.evaluate(() => /** @type {any} */ (window).__painted);
  const lat = [];
  let missed = 0;
  for (let i = 0; i < CHANGES; i++) {
    if (painted[i] > 0) lat.push(painted[i] - changed[i]);
    else missed++;
  }
  lat.sort((a, b) => a - b);

  // ---- 2b. the agent's pointer → drawn on the visitor's page ----
  // Each move is one pointermove on the mirror (its time taken by the console's
  // page), 150 ms apart (more than the 40 ms between pointer messages, so none
  // waits); on the visitor's page, the frame in which the widget applied it (a
  // guidance listener registered after the overlay's, so its animation frame
  // comes right after the one that moved the pointer).
  await agent.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__moved = [];
    document.querySelector("[data-testid=cobrowse-mirror]").addEventListener("pointermove", (e) => w.__moved.push(performance.timeOrigin + e.timeStamp));
  });
  await visitor.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__drawn = [];
    w.__sightlineCobrowse.onGuidance((items) => {
      if (items.some((g) => g.kind === "pointer" && g.at)) requestAnimationFrame(() => w.__drawn.push(performance.timeOrigin + performance.now()));
    });
  });
  const frameBox = await agent.locator("[data-testid=cobrowse-mirror] iframe").boundingBox();
  const MOVES = Math.max(20, Math.round(CHANGES / 2));
  for (let i = 0; i < MOVES; i++) {
    await agent.mouse.move(frameBox.x + 20 + ((i * 37) % Math.max(40, frameBox.width - 40)), frameBox.y + 20 + ((i * 23) % Math.max(40, frameBox.height - 40)));
    await new Promise((r) => setTimeout(r, 150));
  }
  await waitFor(async () => (await visitor.evaluate(() => /** @type {any} */ (window).__drawn.length)) >= MOVES, "every pointer move drawn", 10000).catch(() => {});
  await agent.mouse.move(1, 1);
  const moved = await agent.evaluate(() => /** @type {any} */ (window).__moved);
  const drawn = await visitor.evaluate(() => /** @type {any} */ (window).__drawn);
  const pointerLat = [];
  for (let i = 0; i < Math.min(moved.length, drawn.length); i++) pointerLat.push(drawn[i] - moved[i]);
  pointerLat.sort((a, b) => a - b);

  // ---- 2c. the agent's click → the visitor's page reacting ----
  // Remote control granted (its own request and answer), then each click on a
  // button in the mirror (its time taken by the console's page, at the click
  // event) against the moment the button's own click handler ran on the
  // visitor's page, 250 ms apart.
  await agent.locator("[data-testid=control-request]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await visitor.locator("[data-sightline] [data-testid=control-allow]").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-control")) === "true", "remote control on", 15000);
  await visitor.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__reacted = [];
    const b = document.createElement("button");
    b.id = "bench-button";
    b.type = "button";
    b.textContent = "Bench";
    b.addEventListener("click", () => w.__reacted.push(performance.timeOrigin + performance.now()));
    document.querySelector("main").prepend(b);
  });
  const buttonAt = () =>
    agent.evaluate(() => {
      const frame = /** @type {HTMLIFrameElement | null} */ (document.querySelector("[data-testid=cobrowse-mirror] iframe"));
      const el = frame?.contentDocument?.querySelector("#bench-button");
      if (!frame || !el) return null;
      const outer = frame.getBoundingClientRect();
      const scale = outer.width / (frame.offsetWidth || outer.width);
      const r = el.getBoundingClientRect();
      return { x: outer.x + (r.x + r.width / 2) * scale, y: outer.y + (r.y + r.height / 2) * scale };
    });
  await waitFor(async () => (await buttonAt()) !== null, "the bench button in the mirror");
  await visitor.evaluate(() => window.scrollTo(0, 0));
  await agent.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__clicked = [];
    document.querySelector("[data-testid=cobrowse-mirror]").addEventListener("click", (e) => w.__clicked.push(performance.timeOrigin + e.timeStamp), { capture: true });
  });
  const CLICKS = Math.max(20, Math.round(CHANGES / 2));
  for (let i = 0; i < CLICKS; i++) {
    const at = await buttonAt();
    if (at) await agent.mouse.click(at.x, at.y);
    await new Promise((r) => setTimeout(r, 250));
  }
  await waitFor(async () => (await visitor.evaluate(() => /** @type {any} */ (window).__reacted.length)) >= CLICKS, "every click reacted to", 10000).catch(() => {});
  const clicked = await agent.evaluate(() => /** @type {any} */ (window).__clicked);
  const reacted = await visitor.evaluate(() => /** @type {any} */ (window).__reacted);
  const clickLat = [];
  for (let i = 0; i < Math.min(clicked.length, reacted.length); i++) clickLat.push(reacted[i] - clicked[i]);
  clickLat.sort((a, b) => a - b);
  await agent.locator("[data-testid=control-release]").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-control")) !== "true", "remote control over");

  // ---- 3. a scripted session ----
  const start = Date.now();
  const from = messages.length;
  const pages = ["/demo/transfer", "/demo/account", "/demo"];
  let pageIndex = 0;
  let nextPage = start + 20_000;
  let k = 0;
  while (Date.now() - start < SECONDS * 1000) {
    const x = 100 + ((k * 37) % 900);
    const y = 150 + ((k * 53) % 500);
    await visitor.mouse.move(x, y, { steps: 2 }).catch(() => {});
    if (k % 40 === 0) await visitor.mouse.wheel(0, k % 80 === 0 ? 400 : -400).catch(() => {});
    if (k % 60 === 30) {
      const field = visitor.locator("#payee, #reference").first();
      if (await field.count()) await field.pressSequentially("Alex", { delay: 60 }).catch(() => {});
    }
    if (Date.now() > nextPage) {
      pageIndex = (pageIndex + 1) % pages.length;
      await visitor.goto(server.url + pages[pageIndex]);
      await visitor.locator("[data-sightline] [data-testid=cobrowse-indicator]").waitFor({ state: "visible" });
      nextPage = Date.now() + 20_000;
    }
    k++;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (Date.now() - start) / 1000;
  const session = messages.slice(from);
  const wire = session.reduce((s, m) => s + m.wire, 0);
  const raw = session.reduce((s, m) => s + m.raw, 0);

  // ---- 4. a 5,000-row table ----
  // Main-thread time from Chromium's own accounting (CDP Performance.getMetrics:
  // TaskDuration, every task on the page's main thread), so that serialising,
  // masking, JSON encoding and handing the frames to the socket all count, not
  // only the recorder's snapshot call.
  const cdp = await visitor.context().newCDPSession(visitor);
  await cdp.send("Performance.enable");
  const busy = async () => (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "TaskDuration").value * 1000;
  const quiet = async (from, expectOne = true) => {
    // The first message after the action, then until none has gone out for
    // 500 ms: the capture's work is done.
    if (expectOne) await waitFor(() => messages.length > from, "a message after the action", 30000);
    let count = -1;
    while (messages.length !== count) {
      count = messages.length;
      await new Promise((r) => setTimeout(r, 500));
    }
    return messages.slice(from);
  };
  const addRows = (id) => {
    const rows = [];
    for (let i = 0; i < 5000; i++) rows.push(`<tr><td>${i}</td><td>Payee ${i}</td><td>€ ${(i * 13.37).toFixed(2)}</td><td>2026-11-${String((i % 28) + 1).padStart(2, "0")}</td></tr>`);
    const t = document.createElement("table");
    t.id = id;
    t.innerHTML = `<tbody>${rows.join("")}</tbody>`;
    document.querySelector("main").appendChild(t);
  };
  await visitor.goto(server.url + "/demo");
  await visitor.locator("[data-sightline] [data-testid=cobrowse-indicator]").waitFor({ state: "visible" });
  await quiet(messages.length, false);
  // The same 5,000 rows added to a page that is not captured (another tab of the
  // visitor's) and to the co-browsed one: the difference is what capture costs.
  const plain = await visitor.context().newPage();
  await plain.goto(server.url + "/demo");
  const plainCdp = await plain.context().newCDPSession(plain);
  await plainCdp.send("Performance.enable");
  const plainBusy = async () => (await plainCdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "TaskDuration").value * 1000;
  await new Promise((r) => setTimeout(r, 1000));
  let t0 = await plainBusy();
  await plain.evaluate(addRows, "big");
  await new Promise((r) => setTimeout(r, 1000));
  const addPlainMs = (await plainBusy()) - t0;
  await plain.close();
  let before = messages.length;
  t0 = await busy();
  await visitor.evaluate(addRows, "big");
  const addMessages = await quiet(before);
  const addCapturedMs = (await busy()) - t0;
  // A fresh subscriber asks for a full snapshot of the page as it is now.
  before = messages.length;
  t0 = await busy();
  await agent.evaluate(() => {
    const c = /** @type {any} */ (window).__sightlineAgentCobrowse;
    c.cobrowse.refresh(c.selected());
  });
  await waitFor(() => messages.slice(before).some((m) => m.snapshot), "snapshot of the big table", 30000);
  const snapMessages = await quiet(before);
  const snapshotBusyMs = (await busy()) - t0;
  const bigSnap = snapMessages.find((m) => m.snapshot);
  const snapshotMs = await visitor.evaluate(() => /** @type {any} */ (window).__sightlineCobrowse.lastSnapshotMs);
  const sum = (list, k) => list.reduce((a, m) => a + m[k], 0);

  console.log(`Co-browsing on loopback (Chromium ${browser.version()}, ${CHANGES} changes, ${seconds.toFixed(0)} s session)`);
  console.log(`  change → painted in the mirror   p50 ${ms(percentile(lat, 50))}  p95 ${ms(percentile(lat, 95))}  p99 ${ms(percentile(lat, 99))}  max ${ms(lat[lat.length - 1])}  (${lat.length} measured, ${missed} coalesced)`);
  console.log(`  agent's click → the visitor's page reacting     p50 ${ms(percentile(clickLat, 50))}  p95 ${ms(percentile(clickLat, 95))}  p99 ${ms(percentile(clickLat, 99))}  max ${ms(clickLat[clickLat.length - 1])}  (${clickLat.length} of ${clicked.length} clicks, ${reacted.length} reactions)`);
  console.log(`  agent's pointer → drawn on the visitor's page   p50 ${ms(percentile(pointerLat, 50))}  p95 ${ms(percentile(pointerLat, 95))}  p99 ${ms(percentile(pointerLat, 99))}  max ${ms(pointerLat[pointerLat.length - 1])}  (${pointerLat.length} of ${moved.length} moves, ${drawn.length} drawn)`);
  console.log(`  full snapshot, demo transfer page  ${(snap.wire / 1024).toFixed(1)} KiB on the wire, ${(snap.raw / 1024).toFixed(1)} KiB raw rrweb JSON (${(snap.raw / snap.wire).toFixed(1)}x)`);
  console.log(`  scripted session (pointer, scroll, typing, a page every 20 s)  ${((wire * 8) / seconds / 1000).toFixed(1)} kbit/s on the wire, ${((raw * 8) / seconds / 1000).toFixed(1)} kbit/s raw (${(raw / Math.max(1, wire)).toFixed(1)}x)`);
  console.log(`  5,000-row table, full snapshot: main thread busy ${ms(snapshotBusyMs)} from the request to the last frame sent (the recorder's snapshot call alone ${ms(snapshotMs)}); ${(bigSnap.wire / 1024).toFixed(0)} KiB on the wire, ${(bigSnap.raw / 1024).toFixed(0)} KiB raw`);
  console.log(`  5,000 rows added while captured: main thread busy ${ms(addCapturedMs)}, against ${ms(addPlainMs)} on a page not captured (capture: +${ms(addCapturedMs - addPlainMs)}); ${(sum(addMessages, "wire") / 1024).toFixed(0)} KiB on the wire`);
  if (problems.length) console.log("  problems:", problems);
} finally {
  await browser.close().catch(() => {});
  await server.stop();
}

#!/usr/bin/env node
// Snapshot benchmark on loopback: the real server (release build) and Chromium via
// playwright-core. The agent grabs a 1280x720 frame of a (fake) screen share,
// draws a box, and presses "Send to visitor"; we time from that click to the
// picture being visible in the visitor's chat (its thumbnail fetched with the
// visitor's token and drawn), over N runs. Both pages run in one browser, so they
// share a clock.
//
// Usage (from web/): npm run bench:images
//   or: node bench/image-send.mjs [--runs 20]
// Env: SIGHTLINE_BIN (default ../target/release/sightline), CHROMIUM_PATH.

import path from "node:path";
import os from "node:os";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.SIGHTLINE_BIN ||= path.join(here, "..", "..", "target", "release", "sightline");
const args = process.argv.slice(2);
const runsArg = args.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 20;

const { startServer, login, waitFor, openWidget, visitorSend, waitForWidgetTexts, acceptByPreview } = await import("../e2e/harness.mjs");
const { launchShareBrowser, hookedPage, invite, assertVideoAdvancing } = await import("../e2e/share-harness.mjs");

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const server = await startServer();
const browser = await launchShareBrowser();
const problems = [];
try {
  const agent = await hookedPage(browser, "agent", problems);
  await login(agent, server.url, "admin", server.adminPassword);
  const visitor = await hookedPage(browser, "visitor", problems);
  await visitor.goto(server.url + "/demo");
  await openWidget(visitor);
  await visitorSend(visitor, "image bench");
  await waitForWidgetTexts(visitor, ["image bench"]);
  await acceptByPreview(agent, "image bench");
  await invite(agent);
  await visitor.locator("[data-sightline] [data-testid=share-accept]").click();
  await assertVideoAdvancing(agent);

  // In the visitor's page: note the time each new thumbnail finishes loading.
  await visitor.evaluate(() => {
    const root = document.querySelector("[data-sightline]").shadowRoot;
    window.__thumbTimes = [];
    const seen = new Set();
    const check = () => {
      for (const el of root.querySelectorAll('[data-testid=image-thumb][data-loaded="true"]')) {
        const id = el.getAttribute("data-image-id");
        if (!seen.has(id)) {
          seen.add(id);
          window.__thumbTimes.push({ id, at: performance.timeOrigin + performance.now() });
        }
      }
    };
    new MutationObserver(check).observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-loaded"] });
    check();
  });

  const times = [];
  const started = Date.now();
  for (let run = 0; run < RUNS && Date.now() - started < 240000; run++) {
    await agent.locator("[data-testid=share-snapshot]").click();
    const editor = agent.locator("[data-testid=snapshot-editor]");
    await editor.waitFor({ state: "visible" });
    await agent.locator("[data-testid=tool-rect]").click();
    const box = await editor.locator("canvas").first().boundingBox();
    await agent.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await agent.mouse.down();
    await agent.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.6, { steps: 4 });
    await agent.mouse.up();
    const before = await visitor.evaluate(() => window.__thumbTimes.length);
    // Click "Send to visitor" and take the time in the same task as the click.
    const sentAt = await agent.locator("[data-testid=editor-send]").evaluate((button) => {
      const at = performance.timeOrigin + performance.now();
      button.click();
      return at;
    });
    await waitFor(async () => (await visitor.evaluate(() => window.__thumbTimes.length)) > before, "thumbnail visible at the visitor", 20000);
    const shownAt = await visitor.evaluate(() => window.__thumbTimes[window.__thumbTimes.length - 1].at);
    times.push(shownAt - sentAt);
    console.log(`  run ${String(run + 1).padStart(2)}: Send → visible at the visitor ${(shownAt - sentAt).toFixed(0)} ms`);
    await editor.waitFor({ state: "detached" });
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`\nSightline snapshot benchmark (loopback, release server, Chromium headless, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")})`);
  console.log(
    `agent's Send → picture visible in the visitor's chat (1280x720 PNG, thumbnail fetched and drawn): n=${sorted.length}  ` +
      `p50 ${percentile(sorted, 50).toFixed(0)} ms  p95 ${percentile(sorted, 95).toFixed(0)} ms  max ${sorted[sorted.length - 1].toFixed(0)} ms`,
  );
} finally {
  await browser.close().catch(() => {});
  await server.stop();
}

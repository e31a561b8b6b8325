// The README's screenshots, taken against the real server (SIGHTLINE_BIN) in
// headless Chromium at 1280×800: the console answering a visitor, the visitor's
// widget, the viewer during a screen share, the snapshot editor, and co-browsing.
// The visitor shares the very tab they are on (current-tab capture), so the viewer
// shows the demo bank rather than a test pattern.
//
//   node scripts/readme-shots.mjs [outdir]      (default: ../docs)
//
// Every step waits for what a person would see before the picture is taken, and
// the script fails (exit code 1) when a scene does not come up.

import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { acceptByPreview, agentSend, login, openWidget, startServer, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "../e2e/harness.mjs";
import { assertVideoAdvancing, launchShareBrowser } from "../e2e/share-harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] || path.join(here, "..", "..", "docs"));
mkdirSync(out, { recursive: true });
const size = { width: 1280, height: 800 };
const shot = async (page, name) => {
  // A notice ("Picture sent.") goes after five seconds: the picture is of the work, not of it.
  const toast = page.locator("[data-testid=toast]");
  if (await toast.count()) await toast.waitFor({ state: "hidden", timeout: 10000 });
  await page.screenshot({ path: path.join(out, name) });
  console.log(`wrote ${path.join(out, name)}`);
};
const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);
const byId = (page, id) => page.locator(`[data-testid=${id}]`);

const server = await startServer();
const agentBrowser = await launchShareBrowser({ capture: "screen" });
const visitorBrowser = await launchShareBrowser({ capture: "tab" });
let failed = false;
try {
  const agent = await (await agentBrowser.newContext({ viewport: size })).newPage();
  // The editor's test hook maps picture points to the page (for the drags below).
  await agent.addInitScript(() => {
    /** @type {any} */ (window).__sightlineTestHooks = true;
  });
  await login(agent, server.url, "admin", server.adminPassword);
  // The name visitors see, as a real team sets it in the profile dialog.
  await agent.locator("[data-testid=profile-open]").click();
  await agent.locator("[data-testid=dialog-display_name]").fill("Sam Rivera");
  await agent.locator("[data-testid=dialog-colour]").selectOption("teal");
  await agent.locator("[data-testid=dialog-submit]").click();
  await waitFor(async () => (await agent.locator("[data-testid=me-name]").textContent()) === "Sam Rivera", "the profile is saved");
  const visitor = await (await visitorBrowser.newContext({ viewport: size })).newPage();
  visitor.on("console", (m) => { if (process.env.E2E_DEBUG) console.log("visitor:", m.text()); });
  // The demo page, with the widget told to offer the current tab first (the
  // attribute is set as the parser inserts the script, before it has loaded).
  await visitor.addInitScript(() => {
    new MutationObserver((_, observer) => {
      const script = document.querySelector('script[src="/widget.js"]');
      if (!script) return;
      script.setAttribute("data-share-tab", "prefer");
      observer.disconnect();
    }).observe(document, { childList: true, subtree: true });
  });
  await visitor.goto(`${server.url}/demo/transfer`);
  await openWidget(visitor);
  const first = "Hi! My transfer to Alex keeps failing at the last step.";
  await visitorSend(visitor, first);
  await waitForWidgetTexts(visitor, [first]);
  await acceptByPreview(agent, "transfer to Alex");
  const answer = "Hello Jordan, I can help with that. May I see your screen?";
  await agentSend(agent, answer);
  await waitForWidgetTexts(visitor, [first, answer]);
  await visitor.locator("#payee").fill("Alex Johnson");
  const reply = "Sure, go ahead.";
  await visitorSend(visitor, reply);
  await waitForConsoleTexts(agent, [first, answer, reply]);

  // The console: the conversation and the visitor's details.
  await byId(agent, "details-toggle").click();
  await byId(agent, "details").waitFor({ state: "visible" });
  await waitFor(async () => !/Loading/.test((await byId(agent, "details-earlier").textContent()) ?? ""), "the visitor's earlier conversations are listed");
  await shot(agent, "screenshot-console.png");
  await byId(agent, "details-toggle").click();
  await byId(agent, "details").waitFor({ state: "hidden" });

  // Screen sharing: the visitor's tab in the viewer.
  await byId(agent, "share-invite-open").click();
  await byId(agent, "dialog-submit").click();
  await byId(agent, "dialog").waitFor({ state: "detached" });
  await widget(visitor, "share-accept").click();
  await assertVideoAdvancing(agent);
  await shot(agent, "screenshot-viewer.png");
  await shot(visitor, "screenshot-widget.png");

  // The snapshot editor: an arrow and a box on a frame of the share.
  await byId(agent, "share-snapshot").click();
  const editor = byId(agent, "snapshot-editor");
  await editor.waitFor({ state: "visible" });
  const drag = async (tool, x0, y0, x1, y1) => {
    await byId(agent, tool).click();
    const [p0, p1] = await agent.evaluate(([a, b, c, d]) => {
      const ed = /** @type {any} */ (window).__sightlineImages.current;
      return [ed.toClient(a, b), ed.toClient(c, d)];
    }, [x0, y0, x1, y1]);
    await agent.mouse.move(p0.x, p0.y);
    await agent.mouse.down();
    await agent.mouse.move(p1.x, p1.y, { steps: 8 });
    await agent.mouse.up();
  };
  const payee = await visitor.locator("#payee").boundingBox();
  if (!payee) throw new Error("the payee field has no box");
  await drag("tool-rect", payee.x - 8, payee.y - 8, payee.x + payee.width + 8, payee.y + payee.height + 8);
  await drag("tool-arrow", payee.x + payee.width + 220, payee.y + 140, payee.x + payee.width + 16, payee.y + payee.height / 2);
  await waitFor(async () => (await editor.getAttribute("data-shapes")) === "2", "two shapes in the editor");
  await shot(agent, "screenshot-editor.png");
  await byId(agent, "editor-send").click();
  await editor.waitFor({ state: "detached" });
  await widget(visitor, "share-stop").click();
  await waitFor(async () => await byId(agent, "share-viewer").isHidden(), "the viewer closes when the share ends");

  // Co-browsing: the visitor's page rebuilt in the console, the private IBAN masked.
  await byId(agent, "cobrowse-invite").click();
  await byId(agent, "dialog-submit").click();
  await byId(agent, "dialog").waitFor({ state: "detached" });
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await byId(agent, "cobrowse-mirror").getAttribute("data-live")) === "true", "the mirror shows the page");
  await visitor.locator("#amount").fill("250.00");
  await visitor.locator("#payee").click();
  await waitFor(async () => {
    const value = await agent.evaluate(() => {
      const frame = /** @type {HTMLIFrameElement | null} */ (document.querySelector("[data-testid=cobrowse-mirror] iframe"));
      return /** @type {HTMLInputElement | null | undefined} */ (frame?.contentDocument?.querySelector("#payee"))?.value;
    });
    return value === "Alex Johnson";
  }, "the visitor's typing in the mirror");
  await shot(agent, "screenshot-cobrowse.png");
} catch (err) {
  failed = true;
  console.error(err);
  if (process.env.E2E_DEBUG) console.log(server.logs.join(""));
} finally {
  await agentBrowser.close().catch(() => {});
  await visitorBrowser.close().catch(() => {});
  await server.stop();
}
process.exit(failed ? 1 : 0);

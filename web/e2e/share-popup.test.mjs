// The widget inside a cross-origin iframe without allow="display-capture": the
// "Share my screen" click opens a pop-up on the Sightline origin (token in the URL
// fragment, removed at once) where the visitor consents and shares.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { assertNoProblems } from "./fixture.mjs";
import { acceptByPreview, login, startServer, visitorSend, waitFor } from "./harness.mjs";
import { agentShareSteps, assertVideoAdvancing, hookedPage, invite, launchShareBrowser } from "./share-harness.mjs";

const stack = { problems: [] };
const serve = (body) => http.createServer((req, res) => (res.setHeader("content-type", "text/html; charset=utf-8"), res.end(body(req))));
// The site (top page) and the frame that holds the widget: two origins.
const framePage = serve(() => `<!doctype html><title>Frame</title><body><script src="${stack.base}/widget.js"></script></body>`);
const topPage = serve(() => `<!doctype html><title>Shop</title><body style="margin:0"><iframe id="f" src="${stack.frame}/" style="border:0;width:100vw;height:100vh"></iframe></body>`);

before(async () => {
  await new Promise((r) => framePage.listen(0, "127.0.0.1", () => r(undefined)));
  await new Promise((r) => topPage.listen(0, "127.0.0.1", () => r(undefined)));
  stack.frame = `http://localhost:${/** @type {import("node:net").AddressInfo} */ (framePage.address()).port}`;
  stack.top = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (topPage.address()).port}`;
  stack.server = await startServer({ allowedOrigins: [stack.frame] });
  stack.base = stack.server.url;
  stack.browser = await launchShareBrowser();
});
after(async () => {
  await stack.browser?.close().catch(() => {});
  await stack.server?.stop();
  framePage.close();
  topPage.close();
});

test("a framed widget without display-capture shares from a pop-up", { timeout: 120000 }, async () => {
  const agent = await hookedPage(stack.browser, "agent", stack.problems);
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await hookedPage(stack.browser, "visitor", stack.problems);
  await visitor.goto(stack.top + "/");
  const frame = visitor.frameLocator("#f");
  await frame.locator("[data-testid=launcher]").click();
  await frame.locator("[data-testid=input]").waitFor({ state: "visible" });
  assert.equal(await visitor.frames()[1].evaluate(() => /** @type {Document & { featurePolicy: { allowsFeature(feature: string): boolean } }} */ (document).featurePolicy.allowsFeature("display-capture")), false);
  await frame.locator("[data-testid=input]").fill("framed widget");
  await frame.locator("[data-testid=input]").press("Enter");
  await acceptByPreview(agent, "framed widget");
  await invite(agent);

  const popupPromise = visitor.context().waitForEvent("page");
  await frame.locator("[data-testid=share-accept]").click();
  const popup = await popupPromise;
  popup.on("pageerror", (err) => stack.problems.push(`[popup] ${err.message}`));
  await frame.locator("[data-testid=share-popup-note]").waitFor({ state: "visible" });
  await popup.waitForLoadState();
  assert.ok(popup.url().startsWith(stack.base + "/join?share="), popup.url());
  await waitFor(async () => !popup.url().includes("#"), "token removed from the address");
  // Consent happens in the pop-up, with its own click.
  await popup.locator("[data-testid=share-invite-card]").waitFor({ state: "visible" });
  assert.deepEqual(await agentShareSteps(agent), ["invited"]);
  await popup.locator("[data-testid=share-accept]").click();
  await assertVideoAdvancing(agent);
  await waitFor(async () => (await agentShareSteps(agent)).join(",") === "invited,accepted,choosing,sharing", "agent steps");
  // The visitor stops in the pop-up; it says the window can be closed.
  await popup.locator("[data-testid=share-stop]").click();
  await popup.locator("[data-testid=join-done]").waitFor({ state: "visible" });
  await waitFor(async () => (await agentShareSteps(agent)).at(-1) === "ended", "agent sees ended");
  assertNoProblems(stack);
});

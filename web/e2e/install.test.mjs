// The admin's Install page: the snippet to copy, and a site the widget was
// refused on allowed with one click, at once, without a restart.

import { test } from "node:test";
import http from "node:http";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { login, openWidget, visitorSend, waitFor, waitForWidgetTexts } from "./harness.mjs";

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Customer site</title></head>
<body><h1>Customer site</h1><script src="WIDGET"></script></body></html>`;
let site = "";
const siteServer = http.createServer((req, res) => {
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(PAGE.replace("WIDGET", stack.base + "/widget.js"));
});
const stack = useStack({
  beforeServer: async () => {
    await new Promise((r) => siteServer.listen(0, "127.0.0.1", () => r(undefined)));
    site = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (siteServer.address()).port}`;
  },
  cleanup: () => new Promise((r) => siteServer.close(() => r(undefined))),
});

test("an admin copies the snippet and allows a refused site", { timeout: 90000 }, async () => {
  const visitor = await stack.page("visitor");
  await visitor.goto(site + "/");
  await openWidget(visitor);
  const status = visitor.locator("[data-testid=status]");
  await waitFor(async () => (await status.getAttribute("data-state")) === "refused", "the widget is refused");

  const admin = await stack.page("admin");
  await admin.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.base });
  await login(admin, stack.base, "admin", stack.server.adminPassword);
  await admin.locator("[data-testid=nav-install]").click();
  const snippet = admin.locator("[data-testid=install-snippet]");
  await waitFor(async () => (await snippet.textContent())?.includes(`src="${stack.base}/widget.js"`), "the snippet names this server's widget.js");
  await admin.locator("[data-testid=install-copy]").click();
  await waitFor(async () => (await admin.evaluate(() => navigator.clipboard.readText())) === (await snippet.textContent()), "the snippet is on the clipboard");

  const refused = admin.locator(`[data-testid=refused-origin][data-origin="${site}"]`);
  await refused.waitFor({ state: "visible" });
  await refused.locator("[data-testid=refused-origin-allow]").click();
  await admin.locator(`[data-testid=site-origin][data-origin="${site}"]`).waitFor({ state: "visible" });
  await refused.waitFor({ state: "detached" });

  // A bad origin is refused with a reason, and nothing is added.
  await admin.locator("[data-testid=site-origin-input]").fill("ftp://files.example");
  await admin.locator("[data-testid=site-origin-add]").click();
  await waitFor(async () => (await admin.locator("[data-testid=install-error]").isVisible()) && /origin/i.test((await admin.locator("[data-testid=install-error]").textContent()) || ""), "the bad origin is refused with a reason");
  assert.equal(await admin.locator("[data-testid=site-origin]").count(), 1);

  // The widget on that site now works, with no restart.
  await visitor.reload();
  await openWidget(visitor);
  await visitorSend(visitor, "hello from the customer site");
  await waitForWidgetTexts(visitor, ["hello from the customer site"]);
  assert.notEqual(await status.getAttribute("data-state"), "refused");
  assertNoProblems(stack);
});

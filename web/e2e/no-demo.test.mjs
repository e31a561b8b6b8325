// A server started without the demo site (`no_demo = true`, as `--no-demo` sets
// it): its address leads to the console, /demo is not there, and the widget on a
// customer's site that is allowed still reaches the agent.

import { test } from "node:test";
import http from "node:http";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, openWidget, visitorSend, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Customer site</title></head>
<body><h1>Customer site</h1><script src="WIDGET" async></script></body></html>`;
let site = "";
const siteServer = http.createServer((req, res) => {
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(PAGE.replace("WIDGET", stack.base + "/widget.js"));
});
const stack = useStack({
  serverConfig: "no_demo = true\n",
  beforeServer: async () => {
    await new Promise((r) => siteServer.listen(0, "127.0.0.1", () => r(undefined)));
    site = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (siteServer.address()).port}`;
  },
  allowedOrigins: () => [site],
  cleanup: () => new Promise((r) => siteServer.close(() => r(undefined))),
});

test("without the demo, the address opens the console, /demo is gone, the widget works on the site", { timeout: 90000 }, async () => {
  // Someone types the server's address: the console's login form, not a demo bank.
  const agent = await stack.page("agent");
  await agent.goto(stack.base + "/");
  assert.equal(new URL(agent.url()).pathname, "/console");
  await agent.locator("[data-testid=login-form]").waitFor({ state: "visible" });

  // The demo's pages are not served.
  const visitor = await stack.page("visitor");
  for (const path of ["/demo", "/demo/", "/demo/transfer"]) {
    const response = await visitor.goto(stack.base + path);
    assert.equal(response?.status(), 404, path);
  }

  // The snippet on an allowed site: the visitor writes, the agent answers.
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  await visitor.goto(site + "/");
  await openWidget(visitor);
  await visitorSend(visitor, "Hello from the customer site");
  await waitForWidgetTexts(visitor, ["Hello from the customer site"]);
  await acceptByPreview(agent, "Hello from the customer site");
  await waitForConsoleTexts(agent, ["Hello from the customer site"]);
  await agentSend(agent, "Hello, how can I help?");
  await waitForWidgetTexts(visitor, ["Hello from the customer site", "Hello, how can I help?"]);
  assertNoProblems(stack);
});

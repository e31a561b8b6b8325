// A site whose origin is not in allowed_origins embeds the widget: the widget says
// chat is not available there instead of reconnecting for ever, and the server
// logs the origin once, naming the setting.

import { test } from "node:test";
import http from "node:http";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { openWidget, waitFor } from "./harness.mjs";

// The customer's site: a page of its own on another port, embedding the widget
// from the server, and not in allowed_origins. (A proxy in front of the server
// would not do: the Host header it passes on makes its origin the server's own.)
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

test("the widget on a site that is not allowed says so and stops", { timeout: 60000 }, async () => {
  const visitor = await stack.page("visitor");
  const sockets = [];
  visitor.on("websocket", (ws) => sockets.push(ws.url()));
  assert.notEqual(site, stack.base);
  await visitor.goto(site + "/");
  await openWidget(visitor);
  const status = visitor.locator("[data-testid=status]");
  await waitFor(async () => (await status.isVisible()) && (await status.textContent()) === "Chat is not available on this site", "the widget says chat is not available");
  assert.equal(await status.getAttribute("data-state"), "refused");
  const widgetSockets = () => sockets.filter((u) => u.endsWith("/ws/visitor"));
  assert.equal(widgetSockets().length, 1);

  // Nothing promises an answer, and nothing can be typed that would never be sent.
  assert.equal(await visitor.locator("[data-testid=subtitle]").textContent(), "");
  assert.equal(await visitor.locator("[data-testid=input]").isDisabled(), true, "the composer is off");
  assert.equal(await visitor.locator("[data-testid=send]").isDisabled(), true);
  assert.equal(await visitor.locator("[data-testid=attach]").isDisabled(), true);

  // What would make a reconnecting widget try again at once: the browser coming
  // back online, closing and opening the panel.
  await visitor.evaluate(() => window.dispatchEvent(new Event("online")));
  await visitor.locator("[data-testid=minimize]").click();
  await openWidget(visitor);
  // A later event on the same page: a socket of its own, refused the same way.
  // The browser reports sockets in the order they are created, so once this one
  // is seen, any the widget opened before it would have been too.
  const probeCode = await visitor.evaluate(
    (url) =>
      new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.onclose = (ev) => resolve(ev.code);
      }),
    stack.base.replace(/^http/, "ws") + "/ws/visitor?probe",
  );
  assert.equal(probeCode, 4403, "the page can read the refusal");
  await waitFor(() => sockets.some((u) => u.endsWith("?probe")), "the probe socket is reported");
  assert.deepEqual(widgetSockets().length, 1, `no further widget sockets: ${JSON.stringify(sockets)}`);
  assert.equal(await status.textContent(), "Chat is not available on this site");

  // The server logged the origin once (two refusals), at WARN, naming the setting.
  const warnings = () =>
    stack.server.logs
      .join("")
      .split("\n")
      .filter((l) => l.includes("WARN") && l.includes(site) && l.includes("allowed_origins"));
  await waitFor(() => warnings().length > 0, "the refusal is logged");
  assert.equal(warnings().length, 1, warnings().join("\n"));
  assert.match(warnings()[0], /--allowed-origins/);
  assert.match(warnings()[0], /SIGHTLINE_ALLOWED_ORIGINS/);
  assertNoProblems(stack);
});

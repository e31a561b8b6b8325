// The visitor's page, live (issue 11, point 8). A visitor, who is not
// co-browsing, moves through a single-page app the way its router moves them
// (history.pushState, then a new title) and starts a chat there: the
// conversation starts on that route. The agent has it open with the details
// panel showing; the visitor takes another route, goes back, types into a field
// that rewrites the address on every key, and loads another page in full. The
// panel's "Now on" follows every move, and the widget says each settled route
// once, however many history calls the router made.
// E2E_SHOTS=dir saves the console at 1280×800 with the panel on a route.

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, login, openWidget, visitorSend, waitFor } from "./harness.mjs";

const stack = useStack();
const SHOTS = process.env.E2E_SHOTS || "";

test("the details panel follows the visitor's page: routes, back, an address rewritten per key, a full load", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);

  const visitor = await stack.page("visitor");
  // What the widget says of the page, frame by frame (every socket of the tab).
  const said = [];
  visitor.on("websocket", (ws) => {
    ws.on("framesent", ({ payload }) => {
      if (typeof payload !== "string") return;
      const message = JSON.parse(payload);
      if (message.type === "page_changed") said.push(message.page);
    });
  });
  await visitor.goto(stack.base + "/demo/transfer");
  // The site's router: a route sets the address, then its title; back and
  // forward put back the title of the route they land on. No page loads.
  await visitor.evaluate(() => {
    const titles = { [location.pathname + location.search]: document.title };
    /** @type {any} */ (window).spaRoute = (to, title) => {
      history.pushState({}, "", to);
      titles[to] = title;
      document.title = title;
    };
    addEventListener("popstate", () => (document.title = titles[location.pathname + location.search]));
  });
  await openWidget(visitor);
  await waitFor(async () => (await visitor.locator("[data-testid=subtitle]").textContent()) !== "", "the widget is connected");
  // A route before the first message: the conversation starts there.
  await visitor.evaluate(() => /** @type {any} */ (window).spaRoute("/demo/app/payments", "Payments — Northwind Bank"));
  await waitFor(() => said.length === 1, "the widget said the route");
  await visitorSend(visitor, "Which page am I on?");
  await acceptByPreview(agent, "Which page am I on?");
  const started = agent.locator("[data-testid=transcript] [data-testid=system]").first();
  assert.match(await started.textContent(), /started the conversation on “Payments — Northwind Bank”/);
  await agent.locator("[data-testid=details-toggle]").click();
  const nowOn = agent.locator("[data-testid=details] [data-testid=details-page]");
  const shows = (title, where, what) => {
    const expected = `${title} — ${stack.base}${where}`;
    return waitFor(async () => (await nowOn.textContent()) === expected, `${what}: "Now on" shows ${expected}`);
  };
  await shows("Payments — Northwind Bank", "/demo/app/payments", "the route the chat began on");

  // (a) A route of the app.
  await visitor.evaluate(() => /** @type {any} */ (window).spaRoute("/demo/app/cards?tab=2", "Your cards — Northwind Bank"));
  await shows("Your cards — Northwind Bank", "/demo/app/cards?tab=2", "a pushed route");
  if (SHOTS) {
    await agent.setViewportSize({ width: 1280, height: 800 });
    await agent.screenshot({ path: path.join(SHOTS, "visitor-page-route-1280.png") });
  }

  // (b) Back, with the browser's history.
  await visitor.evaluate(() => history.back());
  await shows("Payments — Northwind Bank", "/demo/app/payments", "back");

  // A field that keeps the address in step with what is typed (replaceState on
  // every key): the agent sees where it came to rest, said once.
  await visitor.evaluate(() => /** @type {any} */ (window).spaRoute("/demo/app/search", "Search — Northwind Bank"));
  await shows("Search — Northwind Bank", "/demo/app/search", "the search route");
  const before = said.length;
  await visitor.evaluate(() => {
    let q = "";
    for (const key of "standing order") {
      q += key;
      history.replaceState({}, "", "/demo/app/search?q=" + encodeURIComponent(q));
    }
  });
  await shows("Search — Northwind Bank", "/demo/app/search?q=standing%20order", "the address typed into");
  assert.deepEqual(
    said.slice(before).map((p) => new URL(p.url).search),
    ["?q=standing%20order"],
    "fourteen history calls within the settling time are one page_changed",
  );
  assert.deepEqual(
    said.map((p) => [new URL(p.url).pathname, p.title]),
    [
      ["/demo/app/payments", "Payments — Northwind Bank"],
      ["/demo/app/cards", "Your cards — Northwind Bank"],
      ["/demo/app/payments", "Payments — Northwind Bank"],
      ["/demo/app/search", "Search — Northwind Bank"],
      ["/demo/app/search", "Search — Northwind Bank"],
    ],
    "one page_changed per settled route, with the title the router set",
  );

  // (c) Another page, loaded in full: the widget connects again from there and
  // its hello carries the page.
  await visitor.goto(stack.base + "/demo/account");
  await shows("Accounts — Northwind Bank", "/demo/account", "a page loaded in full");
  await visitor.locator("[data-testid=launcher]").waitFor({ state: "visible" });
  // Nothing was co-browsed: the transcript has no page lines.
  assert.equal(await agent.locator("[data-testid=transcript] [data-kind=page_viewed]").count(), 0);
  assertNoProblems(stack);
});

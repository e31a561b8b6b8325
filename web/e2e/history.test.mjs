// (e) The history page finds a closed conversation by its text and shows it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, consoleMessages, login, openWidget, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();

test("history search finds a closed conversation", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);

  // Two conversations from two visitors; one is closed, the other stays open.
  const word = "zebra" + Date.now().toString(36);
  const v1 = await stack.page("visitor1");
  await v1.goto(stack.base + "/demo/account");
  await openWidget(v1);
  await visitorSend(v1, `My ${word} card does not work`);
  await waitForWidgetTexts(v1, [`My ${word} card does not work`]);
  await acceptByPreview(agent, word);
  await agentSend(agent, "I have unblocked it.");
  await waitForConsoleTexts(agent, [`My ${word} card does not work`, "I have unblocked it."]);
  await agent.locator("[data-testid=close-conversation]").click();
  await waitFor(async () => (await agent.locator("[data-testid=chat-status]").textContent()) === "closed", "closed");
  await waitForWidgetTexts(v1, [`My ${word} card does not work`, "I have unblocked it."]);

  const v2 = await stack.page("visitor2");
  await v2.goto(stack.base + "/demo");
  await openWidget(v2);
  await visitorSend(v2, "Something else entirely");
  await waitForWidgetTexts(v2, ["Something else entirely"]);

  await agent.locator("[data-testid=nav-history]").click();
  const rows = agent.locator("[data-testid=history-item]");
  await waitFor(async () => (await rows.count()) === 2, "both conversations listed");

  await agent.locator("[data-testid=history-search]").fill(word);
  await agent.locator("[data-testid=history-submit]").click();
  await waitFor(async () => (await rows.count()) === 1, "one result");
  assert.equal(await rows.first().getAttribute("data-status"), "closed");

  // Status filter.
  await agent.locator("[data-testid=history-search]").fill("");
  await agent.locator("[data-testid=history-status]").selectOption("closed");
  await waitFor(async () => (await rows.count()) === 1 && (await rows.first().getAttribute("data-status")) === "closed", "closed filter");
  await agent.locator("[data-testid=history-status]").selectOption("waiting");
  await waitFor(async () => (await rows.count()) === 1 && (await rows.first().getAttribute("data-status")) === "waiting", "waiting filter");
  await agent.locator("[data-testid=history-status]").selectOption("");

  // Nonsense finds nothing.
  await agent.locator("[data-testid=history-search]").fill("nothing-matches-" + word + "x");
  await agent.locator("[data-testid=history-submit]").click();
  await agent.locator("[data-testid=history-empty]").waitFor({ state: "visible" });
  assert.equal(await rows.count(), 0);

  // Open the transcript.
  await agent.locator("[data-testid=history-search]").fill(word);
  await agent.locator("[data-testid=history-submit]").click();
  await waitFor(async () => (await rows.count()) === 1, "one result again");
  await rows.first().click();
  await agent.locator("[data-testid=history-transcript]").waitFor({ state: "visible" });
  const msgs = await consoleMessages(agent, "[data-testid=history-transcript]");
  assert.deepEqual(
    msgs.map((m) => [m.from, m.text]),
    [
      ["visitor", `My ${word} card does not work`],
      ["agent", "I have unblocked it."],
    ],
  );
  const system = await agent.locator("[data-testid=history-transcript] [data-testid=system]").allTextContents();
  assert.ok(system.some((s) => /started the conversation on “Accounts — Northwind Bank”/.test(s)), JSON.stringify(system));
  assert.ok(system.some((s) => /ended the conversation/.test(s)), JSON.stringify(system));
  await agent.locator("[data-testid=history-back]").click();
  await agent.locator("[data-testid=history-table]").waitFor({ state: "visible" });
  assertNoProblems(stack);
});

test("history pages with Load more", { timeout: 180000 }, async () => {
  const agent = await stack.page("agent2");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  // 26 more conversations (page size is 25) from fresh visitors.
  for (let i = 0; i < 26; i++) {
    const ctx = await stack.browser.newContext();
    const p = await ctx.newPage();
    await p.goto(stack.base + "/demo");
    await openWidget(p);
    await visitorSend(p, `bulk question ${i}`);
    await waitForWidgetTexts(p, [`bulk question ${i}`]);
    await ctx.close();
  }
  await agent.locator("[data-testid=nav-history]").click();
  const rows = agent.locator("[data-testid=history-item]");
  await waitFor(async () => (await rows.count()) === 25, "first page of 25");
  const more = agent.locator("[data-testid=history-more]");
  assert.equal(await more.isVisible(), true);
  await more.click();
  await waitFor(async () => (await rows.count()) === 28, "all 28 after Load more");
  const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
  assert.equal(new Set(ids).size, 28, "no conversation listed twice");
  await waitFor(async () => !(await more.isVisible()), "no more pages");
  assertNoProblems(stack);
});

test("a slower transcript answer does not replace the one asked for later", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent3");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const ids = {};
  for (const text of ["the slow transcript", "the fast transcript"]) {
    const v = await stack.page(text);
    await v.goto(stack.base + "/demo");
    await openWidget(v);
    await visitorSend(v, text);
    await waitForWidgetTexts(v, [text]);
    const item = agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: text });
    await item.waitFor();
    ids[text] = await item.getAttribute("data-id");
  }
  const slowId = ids["the slow transcript"];
  const fastId = ids["the fast transcript"];

  // The page records each transcript answer it has read; the history view handles
  // the answer in the same task, so once it is recorded, it has been handled.
  await agent.evaluate(() => {
    window.__transcriptsRead = [];
    const plain = window.fetch;
    window.fetch = async (input, init) => {
      const res = await plain(input, init);
      const m = /^\/api\/conversations\/([^/?]+)$/.exec(String(input));
      if (m) {
        const text = res.text.bind(res);
        res.text = async () => {
          const body = await text();
          window.__transcriptsRead.push(decodeURIComponent(m[1]));
          return body;
        };
      }
      return res;
    };
  });
  // The first transcript's answer is held back until the second one is shown.
  /** @type {(value: unknown) => void} */
  let release = () => {};
  const held = new Promise((resolve) => (release = resolve));
  /** @type {(value: unknown) => void} */
  let slowAsked = () => {};
  const slowRequested = new Promise((resolve) => (slowAsked = resolve));
  await agent.route(
    (url) => url.pathname === `/api/conversations/${encodeURIComponent(slowId)}`,
    async (route) => {
      slowAsked(undefined);
      await held;
      await route.continue();
    },
  );
  const open = (id) => agent.evaluate((id) => (location.hash = `#/history/${encodeURIComponent(id)}`), id);
  await open(slowId);
  await slowRequested;
  await open(fastId);
  const shown = async () => (await consoleMessages(agent, "[data-testid=history-transcript]")).map((m) => m.text);
  await waitFor(async () => JSON.stringify(await shown()) === JSON.stringify(["the fast transcript"]), "the second transcript shows");

  release(undefined);
  await waitFor(() => agent.evaluate((id) => window.__transcriptsRead.includes(id), slowId), "the slow answer was read");
  assert.deepEqual(await shown(), ["the fast transcript"], "the later request wins");
  await agent.unroute(() => true).catch(() => {});
  assertNoProblems(stack);
});

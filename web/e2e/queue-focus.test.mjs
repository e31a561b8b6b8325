// The queue keeps keyboard focus while other conversations change.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { login, openWidget, visitorSend, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();

test("a focused queue entry keeps focus when another conversation changes", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitors = {};
  for (const text of ["first in line", "second in line"]) {
    const v = await stack.page(text);
    await v.goto(stack.base + "/demo");
    await openWidget(v);
    await visitorSend(v, text);
    await waitForWidgetTexts(v, [text]);
    await agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: text }).waitFor();
    visitors[text] = v;
  }
  const waiting = agent.locator("[data-testid=queue-waiting] [data-testid=queue-preview]");
  assert.deepEqual(await waiting.allTextContents(), ["first in line", "second in line"]);
  const second = agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "second in line" });
  const secondId = await second.getAttribute("data-id");

  // Keyboard: from the first entry, Tab moves to the second.
  await agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "first in line" }).focus();
  await agent.keyboard.press("Tab");
  const focusedId = () => agent.evaluate(() => document.activeElement?.getAttribute("data-id") ?? null);
  assert.equal(await focusedId(), secondId, "Tab reaches the second entry");
  await agent.evaluate(() => (window.__focusedEntry = document.activeElement));

  // The first visitor writes again: their entry changes, the focused one must not.
  await visitorSend(visitors["first in line"], "anyone there?");
  await waitForWidgetTexts(visitors["first in line"], ["first in line", "anyone there?"]);
  await agent.locator("[data-testid=queue-waiting] [data-testid=queue-preview]", { hasText: "anyone there?" }).waitFor();
  assert.equal(await agent.evaluate(() => document.activeElement === window.__focusedEntry && window.__focusedEntry.isConnected), true, "the same entry keeps focus");

  // The focused conversation itself changes: its rebuilt entry gets focus back.
  await visitorSend(visitors["second in line"], "me too");
  await waitForWidgetTexts(visitors["second in line"], ["second in line", "me too"]);
  await agent.locator("[data-testid=queue-waiting] [data-testid=queue-preview]", { hasText: "me too" }).waitFor();
  assert.equal(await focusedId(), secondId, "focus follows the rebuilt entry");

  // And Enter opens it.
  await agent.keyboard.press("Enter");
  await waitForConsoleTexts(agent, ["second in line", "me too"]);
  assertNoProblems(stack);
});

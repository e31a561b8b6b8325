// (f) Session keys for voice support: the agent creates a code, the caller opens
// /join, types it (a wrong one first), consents, and the agent sees the screen.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { login, waitFor } from "./harness.mjs";
import { agentShareSteps, assertVideoAdvancing, useShareStack } from "./share-harness.mjs";

const stack = useShareStack();

test("(f) a caller joins with a session key on /join and shares", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  await agent.locator("[data-testid=share-key-create]").click();
  const key = await waitFor(async () => agent.locator("[data-testid=share-key]").getAttribute("data-key"), "key shown");
  assert.match(key, /^\d{9}$/);
  assert.equal(await agent.locator("[data-testid=share-key]").textContent(), key.replace(/(\d{3})(?=\d)/g, "$1 "), "read out in groups of three");
  assert.match(await agent.locator("[data-testid=share-key-countdown]").textContent(), /^Expires in \d+:\d\d$/);

  const caller = await stack.page("caller");
  await caller.goto(stack.base + "/join");
  assert.equal(await caller.title(), "Sightline · Screen sharing");
  const input = caller.locator("[data-testid=share-code-input]");
  await input.waitFor({ state: "visible" });
  // Not 9 digits: said so before anything is sent.
  await input.fill("12a");
  await caller.locator("[data-testid=share-code-submit]").click();
  assert.equal(await caller.locator("[data-testid=share-code-error]").textContent(), "A code has 9 digits.");
  // A wrong code: the server's answer in words.
  const wrong = key === "000000000" ? "000000001" : "000000000";
  await input.fill(wrong);
  await caller.locator("[data-testid=share-code-submit]").click();
  await waitFor(async () => /wrong or has expired/.test(await caller.locator("[data-testid=share-code-error]").textContent()), "wrong code message");

  await input.fill(key.slice(0, 3) + " " + key.slice(3, 6) + "-" + key.slice(6));
  await caller.locator("[data-testid=share-code-submit]").click();
  await caller.locator("[data-testid=share-invite-card]").waitFor({ state: "visible" });
  assert.equal(await caller.locator("[data-testid=share-code-form]").count(), 0, "code form gone");
  assert.match(await caller.locator("[data-testid=join-log]").textContent(), /You are connected with Administrator/);

  // The console opened the caller's conversation by itself.
  await agent.locator("[data-testid=share-key-dialog]").waitFor({ state: "detached" });
  await waitFor(async () => (await agentShareSteps(agent)).join(",") === "invited", "agent sees the invitation");
  assert.match(await agent.locator("[data-testid=transcript]").textContent(), /joined Administrator with a session key/);
  // /join is Sightline's page, not the caller's: co-browsing is not offered.
  const cobrowse = agent.locator("[data-testid=cobrowse-invite]");
  await waitFor(async () => await cobrowse.isDisabled(), "co-browsing not offered to a session-key caller");
  assert.match((await cobrowse.getAttribute("title")) || "", /cannot be co-browsed/);

  await caller.locator("[data-testid=share-accept]").click();
  await assertVideoAdvancing(agent);
  await waitFor(async () => (await agentShareSteps(agent)).join(",") === "invited,accepted,choosing,sharing", "agent steps");
  await caller.locator("[data-testid=share-preview]").waitFor({ state: "visible" });

  // The code was single use.
  await agent.locator("[data-testid=share-end]").click();
  await waitFor(async () => (await caller.locator("[data-testid=share-active]").count()) === 0, "caller preview gone");
  assertNoProblems(stack);
});

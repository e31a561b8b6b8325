// Saved replies, as agents use them: an agent adds one in the list dialog; in a
// reply "/" and a few letters offer it, Enter puts its text in the composer
// (nothing is sent), a second Enter sends it; Escape closes the picker and keeps
// the text; a colleague who is not an admin finds it too, may use it but not
// change or delete it; its author deletes it (a second click confirms).

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible } from "./axe.mjs";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, createAgent, login, openWidget, randomPassword, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const stack = useStack();
const byId = (page, id) => page.locator(`[data-testid=${id}]`);

const REFUND = "We refund card payments within 14 days. You will see the money on your statement.";

test("add a saved reply, take it with /ref and Enter, send it; a colleague uses it but cannot change it", { timeout: 150000 }, async () => {
  const password = randomPassword();
  await createAgent(stack.base, stack.server.adminPassword, { name: "ben", display_name: "Ben", password });
  const ben = await stack.page("ben");
  await login(ben, stack.base, "ben", password);
  // Ben answers a visitor (the composer, and its tools, show in a conversation).
  const walkIn = await stack.page("visitor 1");
  await walkIn.goto(stack.base + "/demo");
  await openWidget(walkIn);
  await visitorSend(walkIn, "Is anyone there?");
  await waitForWidgetTexts(walkIn, ["Is anyone there?"]);
  await acceptByPreview(ben, "Is anyone there?");

  // Ben adds a saved reply.
  await byId(ben, "saved-open").click();
  await byId(ben, "saved-dialog").waitFor({ state: "visible" });
  await byId(ben, "saved-new").click();
  await byId(ben, "saved-shortcut").fill("/Refund");
  await byId(ben, "saved-title").fill("Refund times");
  await byId(ben, "saved-body").fill(REFUND);
  await byId(ben, "saved-save").click();
  await waitFor(async () => (await ben.locator("[data-testid=saved-row][data-shortcut=refund]").count()) === 1, "the new reply is listed, shortcut lowercased");
  // A taken shortcut is refused with the server's reason.
  await byId(ben, "saved-new").click();
  await byId(ben, "saved-shortcut").fill("refund");
  await byId(ben, "saved-body").fill("again");
  await byId(ben, "saved-save").click();
  await waitFor(async () => /another saved reply has this shortcut/i.test((await byId(ben, "saved-error").textContent()) ?? ""), "a duplicate shortcut is refused");
  await assertAccessible(ben, "saved replies dialog");
  await byId(ben, "saved-close").click();
  await byId(ben, "saved-dialog").waitFor({ state: "detached" });

  // The admin, in a conversation, takes it with "/ref" and Enter.
  const agent = await stack.page("admin");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await stack.page("visitor 2");
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  const first = "When do I get my money back?";
  await visitorSend(visitor, first);
  await waitForWidgetTexts(visitor, [first]);
  await acceptByPreview(agent, first);
  const input = byId(agent, "composer-input");
  await input.click();
  await input.pressSequentially("/zz");
  await waitFor(async () => /No saved reply matches \/zz/.test((await byId(agent, "saved-empty").textContent().catch(() => "")) ?? ""), "nothing matches /zz");
  await input.press("Escape");
  await byId(agent, "saved-popup").waitFor({ state: "hidden" });
  assert.equal(await input.inputValue(), "/zz", "Escape keeps the text");
  await input.fill("");
  await input.pressSequentially("/ref");
  const option = agent.locator("[data-testid=saved-option][data-shortcut=refund]");
  await option.waitFor({ state: "visible" });
  assert.equal(await option.getAttribute("aria-selected"), "true", "the best match is chosen");
  assert.equal(await input.getAttribute("aria-activedescendant"), await option.getAttribute("id"));
  await assertAccessible(agent, "saved-reply picker");
  await input.press("Enter");
  await byId(agent, "saved-popup").waitFor({ state: "hidden" });
  assert.equal(await input.inputValue(), REFUND, "the text is in the composer");
  await input.press("Enter");
  // Sent once, as the reply's text ("/ref" itself never went out).
  await waitForWidgetTexts(visitor, [first, REFUND]);
  await waitForConsoleTexts(agent, [first, REFUND]);

  // Ben (not an admin) sees the admin's reply but cannot change it; he can use it.
  await byId(agent, "saved-open").click();
  await byId(agent, "saved-new").click();
  await byId(agent, "saved-shortcut").fill("hello");
  await byId(agent, "saved-body").fill("Hello! How can I help?");
  await byId(agent, "saved-save").click();
  await agent.locator("[data-testid=saved-row][data-shortcut=hello]").waitFor({ state: "visible" });
  await byId(agent, "saved-close").click();

  await byId(ben, "saved-open").click();
  const hello = ben.locator("[data-testid=saved-row][data-shortcut=hello]");
  await hello.waitFor({ state: "visible" });
  assert.equal(await hello.locator("[data-testid=saved-edit]").count(), 0, "no Edit on a colleague's reply");
  assert.equal(await hello.locator("[data-testid=saved-delete]").count(), 0, "no Delete on a colleague's reply");
  const mine = ben.locator("[data-testid=saved-row][data-shortcut=refund]");
  assert.equal(await mine.locator("[data-testid=saved-edit]").count(), 1, "Edit on his own");
  // He deletes his own: the first click asks, the second deletes.
  await mine.locator("[data-testid=saved-delete]").click();
  assert.equal((await mine.locator("[data-testid=saved-delete]").textContent())?.trim(), "Delete it?");
  await mine.locator("[data-testid=saved-delete]").click();
  await mine.waitFor({ state: "detached" });
  await hello.locator("[data-testid=saved-use]").click();
  await byId(ben, "saved-dialog").waitFor({ state: "detached" });
  assert.equal(await byId(ben, "composer-input").inputValue(), "Hello! How can I help?");
  assertNoProblems(stack);
});

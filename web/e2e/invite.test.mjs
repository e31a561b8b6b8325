// Inviting a colleague into a conversation, as two agents and a visitor do it:
// the owner invites a colleague read-only; the colleague sees the conversation,
// its history and the visitor's messages live, and has no composer; the visitor
// sees nothing of an observer. The owner then lets them take part: their message
// reaches the visitor, who sees them join; they leave, and the visitor sees that.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { assertAccessible } from "./axe.mjs";
import {
  acceptByPreview,
  agentSend,
  createAgent,
  login,
  openWidget,
  randomPassword,
  visitorSend,
  waitFor,
  waitForConsoleTexts,
  waitForWidgetTexts,
} from "./harness.mjs";

const stack = useStack();
const SHOTS = process.env.E2E_SHOTS;

/** Every text of the widget's shadow root (messages, system lines, header). */
async function widgetText(page) {
  return page.locator("[data-sightline]").evaluate((host) => host.shadowRoot?.textContent ?? "");
}

test("read-only, then taking part: the colleague follows live, then writes to the visitor", { timeout: 180000 }, async () => {
  const password = randomPassword();
  await createAgent(stack.base, stack.server.adminPassword, { name: "bruno", display_name: "Bruno", password });
  const anna = await stack.page("anna");
  await anna.setViewportSize({ width: 1280, height: 800 });
  await login(anna, stack.base, "admin", stack.server.adminPassword);
  const bruno = await stack.page("bruno");
  await bruno.setViewportSize({ width: 1280, height: 800 });
  await login(bruno, stack.base, "bruno", password);

  const visitor = await stack.page("visitor");
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  await visitorSend(visitor, "My card was charged twice");
  await acceptByPreview(anna, "My card was charged twice");
  await agentSend(anna, "Let me look at the payments");
  await waitForConsoleTexts(anna, ["My card was charged twice", "Let me look at the payments"]);

  // The invite dialog: Bruno is online; read-only is the default.
  await anna.locator("[data-testid=invite]").click();
  const dialog = anna.locator("[data-testid=invite-dialog]");
  await dialog.waitFor();
  const brunoOption = dialog.locator("[data-testid=invite-option]", { hasText: "Bruno" });
  await brunoOption.waitFor();
  assert.equal(await dialog.locator("[data-testid=invite-option]", { hasText: "Administrator" }).count(), 0, "not oneself");
  assert.equal(await brunoOption.locator("input").isChecked(), true);
  assert.equal(await dialog.locator("[data-testid=invite-role-observer] input").isChecked(), true, "read-only by default");
  await dialog.locator("[data-testid=invite-note]").fill("INVITE-NOTE: is this a duplicate charge?");
  await assertAccessible(anna, "invite dialog");
  if (SHOTS) {
    await anna.screenshot({ path: `${SHOTS}/invite-dialog-1280x800.png` });
    await anna.setViewportSize({ width: 390, height: 844 });
    await anna.screenshot({ path: `${SHOTS}/invite-dialog-390x844.png` });
    await anna.setViewportSize({ width: 1280, height: 800 });
  }
  await dialog.locator("[data-testid=invite-submit]").click();
  const row = dialog.locator("[data-testid=invitee-row]", { hasText: "Bruno" });
  await row.waitFor();
  assert.equal(await row.locator("[data-testid=invitee-role]").textContent(), "Observing");
  await dialog.locator("[data-testid=dialog-cancel]").click();
  await anna.locator("[data-testid=chat-invitee]", { hasText: "Bruno · Observing" }).waitFor();

  // Bruno has it in his list, marked, with the history and the note; no composer.
  const item = bruno.locator("[data-testid=queue-mine] [data-testid=queue-item]");
  await item.waitFor();
  assert.equal(await item.locator("[data-testid=invite-badge]").textContent(), "Observing");
  await item.click();
  await waitForConsoleTexts(bruno, ["My card was charged twice", "Let me look at the payments"]);
  await bruno.locator("[data-testid=transcript] [data-kind=agent_invited]", { hasText: "invited Bruno to observe (read-only)" }).waitFor();
  await bruno.locator("[data-testid=transcript] [data-testid=note-text]", { hasText: "INVITE-NOTE" }).waitFor();
  assert.equal(await bruno.locator("[data-testid=observer-notice]").textContent(), "You are observing. Ask Administrator to let you take part.");
  assert.equal(await bruno.locator("[data-testid=composer]").isVisible(), false, "an observer has no composer");
  assert.equal(await bruno.locator("[data-testid=close-conversation]").count(), 0);

  // The visitor writes: Bruno sees it live.
  await visitorSend(visitor, "It shows up twice in my app");
  await waitForConsoleTexts(bruno, ["My card was charged twice", "Let me look at the payments", "It shows up twice in my app"]);
  if (SHOTS) {
    await bruno.screenshot({ path: `${SHOTS}/invite-observer-1280x800.png` });
    await bruno.setViewportSize({ width: 390, height: 844 });
    await bruno.screenshot({ path: `${SHOTS}/invite-observer-390x844.png` });
    await bruno.setViewportSize({ width: 1280, height: 800 });
    await anna.setViewportSize({ width: 1024, height: 768 });
    await anna.screenshot({ path: `${SHOTS}/invite-owner-1024x768.png` });
    await anna.setViewportSize({ width: 1280, height: 800 });
  }
  // Nothing of an observer reaches the visitor (Anna's next message shows the
  // widget is up to date).
  await agentSend(anna, "I can see both");
  await waitForWidgetTexts(visitor, ["My card was charged twice", "Let me look at the payments", "It shows up twice in my app", "I can see both"]);
  assert.ok(!(await widgetText(visitor)).includes("Bruno"), await widgetText(visitor));

  // Anna lets Bruno take part: his composer appears, his message reaches the visitor.
  await anna.locator("[data-testid=invite]").click();
  await dialog.locator("[data-testid=invitee-row]", { hasText: "Bruno" }).locator("[data-testid=invitee-switch]").click();
  await dialog.locator("[data-testid=invitee-row] [data-testid=invitee-role]", { hasText: "Taking part" }).waitFor();
  await dialog.locator("[data-testid=dialog-cancel]").click();
  await bruno.locator("[data-testid=composer-input]").waitFor({ state: "visible" });
  assert.equal(await bruno.locator("[data-testid=observer-notice]").count(), 0);
  // A participant's composer has pictures and saved replies, not the owner's requests to the visitor.
  assert.equal(await bruno.locator("[data-testid=image-attach]").isVisible(), true);
  assert.equal(await bruno.locator("[data-testid=saved-open]").isVisible(), true);
  assert.equal(await bruno.locator("[data-testid=share-invite-open]").isVisible(), false);
  assert.equal(await bruno.locator("[data-testid=cobrowse-invite]").isVisible(), false);
  if (SHOTS) await bruno.screenshot({ path: `${SHOTS}/invite-participant-1280x800.png` });
  await waitFor(async () => (await item.locator("[data-testid=invite-badge]").textContent()) === "Taking part", "Bruno's badge says taking part");
  await agentSend(bruno, "Bruno from payments here: the second one is a pre-authorisation");
  const texts = ["My card was charged twice", "Let me look at the payments", "It shows up twice in my app", "I can see both", "Bruno from payments here: the second one is a pre-authorisation"];
  await waitForWidgetTexts(visitor, texts);
  await waitForConsoleTexts(anna, texts);
  await visitor.locator("[data-sightline] [data-testid=system]", { hasText: "Bruno joined the conversation" }).waitFor();
  assert.ok(!(await widgetText(visitor)).includes("INVITE-NOTE"));
  // The visitor still talks to Anna (the header keeps the owner).
  assert.equal(await visitor.locator("[data-sightline] [data-testid=subtitle]").textContent(), "You are chatting with Administrator");

  // Bruno reloads his console: the conversation comes back, marked, with its history.
  await bruno.reload();
  await bruno.locator("[data-testid=me-name]").waitFor({ state: "visible" });
  await waitFor(async () => (await item.locator("[data-testid=invite-badge]").textContent().catch(() => "")) === "Taking part", "back in Bruno's list after a reload");
  await item.click();
  await waitForConsoleTexts(bruno, texts);
  await bruno.locator("[data-testid=composer-input]").waitFor({ state: "visible" });

  // Bruno leaves: gone from his list; the visitor sees it.
  await bruno.locator("[data-testid=leave-conversation]").click();
  await waitFor(async () => (await bruno.locator("[data-testid=queue-mine] [data-testid=queue-item]").count()) === 0, "gone from Bruno's list");
  await visitor.locator("[data-sightline] [data-testid=system]", { hasText: "Bruno left the conversation" }).waitFor();
  await anna.locator("[data-testid=transcript] [data-kind=agent_left]", { hasText: "Bruno left the conversation" }).waitFor();
  assert.equal(await anna.locator("[data-testid=chat-invitee]").count(), 0);
  assertNoProblems(stack);
});

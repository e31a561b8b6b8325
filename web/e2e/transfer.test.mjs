// Internal notes and transfers, as two agents and a visitor do them: the first
// agent writes a note, hands the conversation to a colleague with a note; the
// colleague sees the conversation, its history and both notes; the visitor sees
// who they talk to now and never a note.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
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

test("a note, then a transfer with a note: the colleague sees everything, the visitor no note", { timeout: 150000 }, async () => {
  const password = randomPassword();
  await createAgent(stack.base, stack.server.adminPassword, { name: "bruno", display_name: "Bruno", password });
  const anna = await stack.page("anna");
  await anna.setViewportSize({ width: 1280, height: 800 });
  await login(anna, stack.base, "admin", stack.server.adminPassword);
  const bruno = await stack.page("bruno");
  await login(bruno, stack.base, "bruno", password);

  const visitor = await stack.page("visitor");
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  await visitorSend(visitor, "My order never arrived");
  await acceptByPreview(anna, "My order never arrived");
  await agentSend(anna, "Let me check the parcel");
  await waitForConsoleTexts(anna, ["My order never arrived", "Let me check the parcel"]);

  // A note, in the composer's Note mode: yellow, stored, for agents.
  await anna.locator("[data-testid=mode-note]").click();
  assert.equal(await anna.locator("[data-testid=composer]").evaluate((el) => el.classList.contains("note-mode")), true);
  await anna.locator("[data-testid=composer-input]").fill("NOTE-ONE: second missing parcel this year");
  await anna.locator("[data-testid=composer-input]").press("Enter");
  const note = anna.locator("[data-testid=transcript] [data-testid=note]", { hasText: "NOTE-ONE" });
  await note.waitFor();
  assert.equal(await note.evaluate((el) => getComputedStyle(el).backgroundColor), "rgb(254, 249, 195)");
  if (SHOTS) await anna.screenshot({ path: `${SHOTS}/note-1280x800.png` });
  // Back to replying: the reply reaches the visitor as usual.
  await anna.locator("[data-testid=mode-reply]").click();
  await agentSend(anna, "A colleague will take over");
  await waitForWidgetTexts(visitor, ["My order never arrived", "Let me check the parcel", "A colleague will take over"]);

  // The transfer dialog lists Bruno as available, and the queue.
  await anna.locator("[data-testid=transfer]").click();
  const dialog = anna.locator("[data-testid=transfer-dialog]");
  await dialog.waitFor();
  const brunoOption = dialog.locator("[data-testid=transfer-option]", { hasText: "Bruno" });
  await brunoOption.waitFor();
  assert.equal(await brunoOption.locator("[data-testid=transfer-status]").textContent(), "Available");
  assert.equal(await dialog.locator("[data-testid=transfer-option]", { hasText: "Back to the queue" }).count(), 1);
  assert.equal(await dialog.locator("[data-testid=transfer-option]", { hasText: "Administrator" }).count(), 0, "not oneself");
  assert.equal(await brunoOption.locator("input").isChecked(), true, "an available colleague is chosen first");
  await dialog.locator("[data-testid=transfer-note]").fill("NOTE-TWO: refund approved, send the form");
  if (SHOTS) await anna.screenshot({ path: `${SHOTS}/transfer-dialog-1280x800.png` });
  await dialog.locator("[data-testid=transfer-submit]").click();

  // Anna's console lets it go.
  await waitFor(async () => (await anna.locator("[data-testid=queue-mine] [data-testid=queue-item]").count()) === 0, "gone from Anna's list");
  assert.equal(await anna.locator("[data-testid=transfer-dialog]").count(), 0);

  // Bruno is told, with the note, without having to look.
  await bruno.locator("[data-testid=toast]", { hasText: "handed you" }).waitFor();
  assert.match(await bruno.locator("[data-testid=toast]").textContent(), /^Administrator handed you .+: NOTE-TWO: refund approved, send the form$/);
  // Bruno has it, with the whole history and both notes.
  const item = bruno.locator("[data-testid=queue-mine] [data-testid=queue-item]");
  await item.waitFor();
  await item.click();
  await waitForConsoleTexts(bruno, ["My order never arrived", "Let me check the parcel", "A colleague will take over"]);
  const notes = bruno.locator("[data-testid=transcript] [data-testid=note-text]");
  await waitFor(async () => (await notes.count()) === 2, "both notes");
  assert.deepEqual(await notes.allTextContents(), ["NOTE-ONE: second missing parcel this year", "NOTE-TWO: refund approved, send the form"]);
  await bruno.locator("[data-testid=transcript] [data-kind=transferred]", { hasText: "handed the conversation to Bruno" }).waitFor();
  assert.equal(await bruno.locator("[data-testid=chat-status]").textContent(), "active");
  await agentSend(bruno, "Hi, Bruno here");

  // The visitor: the new agent's name, Bruno's message, never a note.
  await waitForWidgetTexts(visitor, ["My order never arrived", "Let me check the parcel", "A colleague will take over", "Hi, Bruno here"]);
  const systemLines = await visitor.locator("[data-sightline] [data-testid=system]").allTextContents();
  assert.ok(systemLines.includes("You are chatting with Bruno"), JSON.stringify(systemLines));
  assert.equal(await visitor.locator("[data-sightline] [data-testid=subtitle]").textContent(), "You are chatting with Bruno");
  const seen = await widgetText(visitor);
  assert.ok(!seen.includes("NOTE-"), seen);

  // After a reload (a replay of the whole conversation), still no note.
  await visitor.reload();
  await openWidget(visitor);
  await waitForWidgetTexts(visitor, ["My order never arrived", "Let me check the parcel", "A colleague will take over", "Hi, Bruno here"]);
  assert.ok(!(await widgetText(visitor)).includes("NOTE-"));
  assertNoProblems(stack);
});

test("back to the queue: any agent can take it again, the visitor waits", { timeout: 120000 }, async () => {
  const anna = await stack.page("anna2");
  await login(anna, stack.base, "admin", stack.server.adminPassword);
  const visitor = await stack.page("visitor2");
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  await visitorSend(visitor, "Question about invoices");
  await acceptByPreview(anna, "Question about invoices");
  await anna.locator("[data-testid=transfer]").click();
  const dialog = anna.locator("[data-testid=transfer-dialog]");
  await dialog.locator("[data-testid=transfer-option]", { hasText: "Back to the queue" }).click();
  await dialog.locator("[data-testid=transfer-submit]").click();
  await anna.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Question about invoices" }).waitFor();
  await waitFor(async () => (await visitor.locator("[data-sightline] [data-testid=subtitle]").textContent()) !== "You are chatting with Administrator", "the visitor waits again");
  const lines = await visitor.locator("[data-sightline] [data-testid=system]").allTextContents();
  assert.ok(lines.some((l) => l.startsWith("Waiting for an agent")), JSON.stringify(lines));
  await acceptByPreview(anna, "Question about invoices");
  assertNoProblems(stack);
});

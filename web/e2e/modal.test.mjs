// The console's one modal (web/src/console/modal.tsx), as a keyboard user meets
// it in the profile and transfer dialogs: focus moves in, Tab and Shift+Tab stay
// inside, Escape and a press on the backdrop close it, and focus goes back to
// the button that opened it; Escape in an open editor closes only the editor.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, login, openWidget, visitorSend } from "./harness.mjs";

const stack = useStack();

/** The data-testid of the focused element, and whether it is inside the open dialog. */
async function focused(page, dialog) {
  return page.evaluate((sel) => {
    const el = document.activeElement;
    return { testid: el?.getAttribute("data-testid") ?? el?.tagName ?? null, inside: !!document.querySelector(sel)?.contains(el) };
  }, dialog);
}

test("the modal keeps the keyboard inside and gives the focus back", { timeout: 120000 }, async () => {
  const page = await stack.page("agent");
  await login(page, stack.base, "admin", stack.server.adminPassword);

  // The profile dialog: named by its heading, focus on the first field.
  await page.locator("[data-testid=profile-open]").click();
  const dialog = page.locator("[data-testid=dialog]");
  await dialog.waitFor({ state: "visible" });
  assert.equal(await dialog.getAttribute("aria-modal"), "true");
  assert.equal(await page.locator(`#${await dialog.getAttribute("aria-labelledby")}`).textContent(), "Your profile");
  assert.deepEqual(await focused(page, "[data-testid=dialog]"), { testid: "dialog-display_name", inside: true });

  // Tab goes round the fields and buttons and back to the first; Shift+Tab the other way.
  const seen = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press("Tab");
    seen.push(await focused(page, "[data-testid=dialog]"));
  }
  assert.deepEqual(
    seen.map((f) => f.testid),
    ["dialog-colour", "dialog-cancel", "dialog-submit", "dialog-display_name"],
  );
  assert.ok(seen.every((f) => f.inside));
  await page.keyboard.press("Shift+Tab");
  assert.deepEqual(await focused(page, "[data-testid=dialog]"), { testid: "dialog-submit", inside: true });

  // Escape closes it; the focus is back on the button that opened it.
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal((await focused(page, "body")).testid, "profile-open");

  // A press on the backdrop closes it too; a press inside does not.
  await page.locator("[data-testid=profile-open]").click();
  await dialog.waitFor({ state: "visible" });
  await page.locator("#dlg-title").click();
  assert.equal(await dialog.isVisible(), true);
  await page.mouse.click(5, 5);
  await dialog.waitFor({ state: "detached" });

  // The transfer dialog starts in its note; Escape there closes it too.
  const visitor = await stack.page("visitor");
  await visitor.goto(stack.base + "/demo");
  await openWidget(visitor);
  await visitorSend(visitor, "Modal test here");
  await acceptByPreview(page, "Modal test here");
  await page.locator("[data-testid=transfer]").click();
  const transfer = page.locator("[data-testid=transfer-dialog]");
  await transfer.waitFor({ state: "visible" });
  assert.deepEqual(await focused(page, "[data-testid=transfer-dialog]"), { testid: "transfer-note", inside: true });
  await page.keyboard.press("Escape");
  await transfer.waitFor({ state: "detached" });
  assert.equal((await focused(page, "body")).testid, "transfer");

  // Saved replies: Escape in the editor closes the editor, the next one the dialog.
  await page.locator("[data-testid=saved-open]").click();
  const saved = page.locator("[data-testid=saved-dialog]");
  await saved.waitFor({ state: "visible" });
  assert.deepEqual(await focused(page, "[data-testid=saved-dialog]"), { testid: "saved-search", inside: true });
  await page.locator("[data-testid=saved-new]").click();
  await page.locator("[data-testid=saved-editor]").waitFor({ state: "visible" });
  assert.equal((await focused(page, "[data-testid=saved-dialog]")).testid, "saved-shortcut");
  await page.keyboard.press("Escape");
  await page.locator("[data-testid=saved-editor]").waitFor({ state: "hidden" });
  assert.equal(await saved.isVisible(), true, "the first Escape closed only the editor");
  await page.keyboard.press("Escape");
  await saved.waitFor({ state: "detached" });
  assert.equal((await focused(page, "body")).testid, "saved-open");
  assertNoProblems(stack);
});

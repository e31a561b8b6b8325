// (f) An admin adds an agent in the console, who can then log in; disabling,
// admin rights and password resets work; wrong passwords are refused.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { login, randomPassword, waitFor } from "./harness.mjs";

const stack = useStack();

async function tryLogin(page, base, name, password) {
  await page.goto(base + "/console");
  await page.locator("[data-testid=login-name]").fill(name);
  await page.locator("[data-testid=login-password]").fill(password);
  await page.locator("[data-testid=login-submit]").click();
  const error = page.locator("[data-testid=login-error]");
  const me = page.locator("[data-testid=me-name]");
  await waitFor(async () => (await error.isVisible()) || (await me.isVisible()), "login answered");
  return (await error.isVisible()) ? { error: await error.textContent() } : { me: await me.textContent() };
}

test("admin manages agents", { timeout: 120000 }, async () => {
  const anon = await stack.page("anon");
  const wrong = await tryLogin(anon, stack.base, "admin", "definitely-wrong");
  assert.ok(wrong.error && wrong.error.length > 0, "wrong password shows an error");
  assert.equal(await anon.locator("[data-testid=me-name]").count(), 0);

  const admin = await stack.page("admin");
  await login(admin, stack.base, "admin", stack.server.adminPassword);
  assert.equal(await admin.locator("[data-testid=nav-admin]").isVisible(), true);
  await admin.locator("[data-testid=nav-admin]").click();
  const rows = admin.locator("[data-testid=user-row]");
  await waitFor(async () => (await rows.count()) === 1, "only the admin at first");
  assert.equal(await rows.first().getAttribute("data-name"), "admin");

  const password = randomPassword();
  await admin.locator("[data-testid=user-add-name]").fill("bob");
  await admin.locator("[data-testid=user-add-display]").fill("Bob Builder");
  await admin.locator("[data-testid=user-add-password]").fill(password);
  await admin.locator("[data-testid=user-add-submit]").click();
  await admin.locator("[data-testid=user-add-ok]").waitFor({ state: "visible" });
  await waitFor(async () => (await rows.count()) === 2, "bob listed");
  const bobRow = admin.locator("[data-testid=user-row][data-name=bob]");
  assert.match(await bobRow.textContent(), /Bob Builder/);
  assert.equal(await bobRow.locator("[data-testid=user-role]").textContent(), "Agent");
  assert.equal(await bobRow.locator("[data-testid=user-status]").textContent(), "Active");

  // The same name again is refused with the server's message.
  await admin.locator("[data-testid=user-add-name]").fill("bob");
  await admin.locator("[data-testid=user-add-password]").fill(randomPassword());
  await admin.locator("[data-testid=user-add-submit]").click();
  await admin.locator("[data-testid=user-add-error]").waitFor({ state: "visible" });
  assert.ok((await admin.locator("[data-testid=user-add-error]").textContent()).length > 0);
  assert.equal(await rows.count(), 2);

  // Bob logs in: a plain agent without the Admin page.
  const bob = await stack.page("bob");
  await login(bob, stack.base, "bob", password);
  assert.equal(await bob.locator("[data-testid=me-name]").textContent(), "Bob Builder");
  assert.equal(await bob.locator("[data-testid=nav-admin]").isVisible(), false);

  // Bob changes his own password.
  const bobPassword2 = randomPassword();
  await bob.locator("[data-testid=change-password]").click();
  await bob.locator("[data-testid=dialog-current]").fill(password);
  await bob.locator("[data-testid=dialog-password]").fill(bobPassword2);
  await bob.locator("[data-testid=dialog-confirm]").fill(bobPassword2);
  await bob.locator("[data-testid=dialog-submit]").click();
  await bob.locator("[data-testid=dialog]").waitFor({ state: "detached" });
  await bob.locator("[data-testid=logout]").click();
  await bob.locator("[data-testid=login-name]").waitFor({ state: "visible" });
  assert.ok((await tryLogin(bob, stack.base, "bob", password)).error, "old password refused");
  assert.equal((await tryLogin(bob, stack.base, "bob", bobPassword2)).me, "Bob Builder");
  await bob.locator("[data-testid=logout]").click();

  // Make Bob an admin, then disable him: he can no longer log in.
  await bobRow.locator("[data-testid=user-toggle-admin]").click();
  await waitFor(async () => (await bobRow.locator("[data-testid=user-role]").textContent()) === "Admin", "bob is admin");
  await bobRow.locator("[data-testid=user-toggle-disabled]").click();
  await waitFor(async () => (await bobRow.locator("[data-testid=user-status]").textContent()) === "Disabled", "bob disabled");
  assert.ok((await tryLogin(bob, stack.base, "bob", bobPassword2)).error, "disabled agent cannot log in");

  // Enable again and reset his password.
  await bobRow.locator("[data-testid=user-toggle-disabled]").click();
  await waitFor(async () => (await bobRow.locator("[data-testid=user-status]").textContent()) === "Active", "bob enabled");
  const reset = randomPassword();
  await bobRow.locator("[data-testid=user-reset-password]").click();
  await admin.locator("[data-testid=dialog-password]").fill(reset);
  await admin.locator("[data-testid=dialog-confirm]").fill(reset);
  await admin.locator("[data-testid=dialog-submit]").click();
  await admin.locator("[data-testid=dialog]").waitFor({ state: "detached" });
  const again = await tryLogin(bob, stack.base, "bob", reset);
  assert.equal(again.me, "Bob Builder");
  assert.equal(await bob.locator("[data-testid=nav-admin]").isVisible(), true, "now with the Admin page");

  // Disabling Bob while he is logged in sends his console back to the login form.
  await bobRow.locator("[data-testid=user-toggle-disabled]").click();
  await bob.locator("[data-testid=login-form]").waitFor({ state: "visible" });
  assert.equal(await bob.locator("[data-testid=login-error]").textContent(), "Your session has ended. Please log in again.");
  assertNoProblems(stack);
});

// The first admin's password, made up by the server and printed once, is
// one-time: the first login leads to "choose your own password", nothing else
// works until then (the server refuses it), and the printed password stops working.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";

const stack = useStack({ serverEnv: { SIGHTLINE_ADMIN_PASSWORD: "" } });

async function submitLogin(page, name, password) {
  await page.locator("[data-testid=login-name]").fill(name);
  await page.locator("[data-testid=login-password]").fill(password);
  await page.locator("[data-testid=login-submit]").click();
}

test("the printed admin password must be replaced at the first login", { timeout: 120000 }, async () => {
  const printed = stack.server.printedPassword;
  assert.ok(printed && printed.length >= 12, "the server printed a one-time password");
  const page = await stack.page("admin");
  await page.goto(stack.base + "/console");
  await submitLogin(page, "admin", printed);
  const form = page.locator("[data-testid=first-password-form]");
  await form.waitFor({ state: "visible" });
  assert.equal(await page.locator("[data-testid=me-name]").count(), 0, "no console before the new password");
  assert.equal(await page.locator("[data-testid=first-current]").isVisible(), false, "the password just typed is reused");

  // The server, not the page, enforces it: the API refuses this session.
  const refused = await page.evaluate(async () => {
    const r = await fetch("/api/conversations");
    return { status: r.status, body: await r.json() };
  });
  assert.deepEqual([refused.status, refused.body.error], [403, "password_change_required"]);

  // A reload keeps asking, now with the current password as a field.
  await page.reload();
  await form.waitFor({ state: "visible" });
  assert.equal(await page.locator("[data-testid=first-current]").isVisible(), true);
  const error = page.locator("[data-testid=first-error]");

  await page.locator("[data-testid=first-current]").fill(printed);
  await page.locator("[data-testid=first-password]").fill("my own long secret");
  await page.locator("[data-testid=first-confirm]").fill("my own long secreT");
  await page.locator("[data-testid=first-submit]").click();
  await waitFor(async () => (await error.isVisible()) && /do not match/.test(await error.textContent()), "mismatch explained");

  await page.locator("[data-testid=first-password]").fill(printed);
  await page.locator("[data-testid=first-confirm]").fill(printed);
  await page.locator("[data-testid=first-submit]").click();
  await waitFor(async () => /differ/.test(await error.textContent()), "the same password is refused in words");

  // The first login also asks for the name visitors will see (not "Administrator").
  assert.equal(await page.locator("[data-testid=first-display]").inputValue(), "Administrator");
  await page.locator("[data-testid=first-display]").fill("Ada Lovelace");
  await page.locator("[data-testid=first-password]").fill("my own long secret");
  await page.locator("[data-testid=first-confirm]").fill("my own long secret");
  await page.locator("[data-testid=first-submit]").click();
  await page.locator("[data-testid=me-name]").waitFor({ state: "visible" });
  assert.equal(await page.locator("[data-testid=me-name]").textContent(), "Ada Lovelace");
  assert.equal(await page.locator("[data-testid=me-avatar]").textContent(), "AL");

  // The profile dialog changes the name and the colour; the server refuses an empty name in words.
  await page.locator("[data-testid=profile-open]").click();
  await page.locator("[data-testid=dialog-display_name]").fill("   ");
  await page.locator("[data-testid=dialog-submit]").click();
  await waitFor(async () => /1 to 80 characters/.test((await page.locator("[data-testid=dialog-error]").textContent()) ?? ""), "an empty name is refused");
  await page.locator("[data-testid=dialog-display_name]").fill("Ada");
  await page.locator("[data-testid=dialog-colour]").selectOption("teal");
  await page.locator("[data-testid=dialog-submit]").click();
  await waitFor(async () => (await page.locator("[data-testid=me-avatar]").getAttribute("data-colour")) === "teal", "the colour is shown");
  assert.equal(await page.locator("[data-testid=me-name]").textContent(), "Ada");
  assert.equal(
    await page.locator("[data-testid=me-avatar]").evaluate((el) => getComputedStyle(el).backgroundColor),
    "rgb(15, 118, 110)",
  );
  await waitFor(async () => (await page.locator("[data-testid=link-state]").getAttribute("data-state")) === "online", "agent socket online");

  // A reload goes straight to the console; after logging out the printed password no longer works.
  await page.reload();
  await page.locator("[data-testid=me-name]").waitFor({ state: "visible" });
  assert.equal(await page.locator("[data-testid=me-name]").textContent(), "Ada", "the profile is stored");
  assert.equal(await page.locator("[data-testid=me-avatar]").getAttribute("data-colour"), "teal");

  // An admin edits a profile in the agents' list; "Default" takes the colour back.
  await page.locator("[data-testid=nav-admin]").click();
  const row = page.locator("[data-testid=user-row][data-name=admin]");
  assert.equal(await row.locator("[data-testid=user-avatar]").getAttribute("data-colour"), "teal");
  await row.locator("[data-testid=user-edit]").click();
  await page.locator("[data-testid=dialog-display_name]").fill("Ada L.");
  await page.locator("[data-testid=dialog-colour]").selectOption("");
  await page.locator("[data-testid=dialog-submit]").click();
  await waitFor(async () => (await row.locator("[data-testid=user-display]").textContent()) === "Ada L.", "renamed in the list");
  assert.equal(await row.locator("[data-testid=user-avatar]").getAttribute("data-colour"), "", "back to the default colour");
  await page.locator("[data-testid=logout]").click();
  await submitLogin(page, "admin", printed);
  await page.locator("[data-testid=login-error]").waitFor({ state: "visible" });
  await submitLogin(page, "admin", "my own long secret");
  await page.locator("[data-testid=me-name]").waitFor({ state: "visible" });
  assert.equal(await form.count(), 0);
  assertNoProblems(stack);
});

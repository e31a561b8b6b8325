// Visitors in their own language: a German visitor reads the widget, the screen
// share's, co-browsing's and remote control's consent in German (the language
// pack is there before the widget first paints); /join in French shows the
// company's name and logo from the server's configuration, as text.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { assertNoProblems } from "./fixture.mjs";
import { acceptByPreview, login, visitorSend, waitFor, waitForWidgetTexts } from "./harness.mjs";
import { invite, useShareStack } from "./share-harness.mjs";

const COMPANY = "Exemple & Fils <b>SA</b>";
const stack = useShareStack({
  serverEnv: () => ({ SIGHTLINE_COMPANY_NAME: COMPANY, SIGHTLINE_COMPANY_LOGO_URL: "/console/favicon.svg" }),
});
const SHOTS = process.env.I18N_SHOTS || "";

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

/** A page in a browser whose language is `locale`, with the test hooks on. */
async function pageIn(locale, label) {
  const context = await stack.browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("pageerror", (err) => stack.problems.push(`[${label}] page error: ${err.message}`));
  await page.addInitScript(() => {
    window.__sightlineTestHooks = true;
  });
  return page;
}

async function shoot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  for (const [w, h] of [
    [1280, 800],
    [390, 844],
  ]) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: `${SHOTS}/${name}-${w}x${h}.png` });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

test("a German visitor reads the widget and every consent in German", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const visitor = await pageIn("de-DE", "visitor");
  const packs = [];
  visitor.on("request", (r) => /\/widget-(de|fr)\.js$/.test(r.url()) && packs.push(new URL(r.url()).pathname));
  await visitor.goto(stack.base + "/demo");
  const launcher = visitor.locator("[data-testid=launcher]");
  await launcher.waitFor({ state: "visible" });
  // German from the first paint: the widget mounts once its pack is here.
  assert.equal(await launcher.getAttribute("aria-label"), "Chat öffnen");
  assert.deepEqual(packs, ["/widget-de.js"]);
  await launcher.click();
  assert.equal(await widget(visitor, "input").getAttribute("placeholder"), "Nachricht schreiben…");
  assert.equal(await widget(visitor, "have-code").textContent(), "Ich habe einen Code");
  await visitorSend(visitor, "Hallo, ich brauche Hilfe");
  await waitForWidgetTexts(visitor, ["Hallo, ich brauche Hilfe"]);
  await acceptByPreview(agent, "Hallo, ich brauche Hilfe");
  await waitFor(async () => (await widget(visitor, "subtitle").textContent()) === "Sie chatten mit Administrator", "German subtitle");

  // Screen sharing: the invitation, in German.
  await invite(agent);
  const card = widget(visitor, "share-invite-card");
  await card.waitFor({ state: "visible" });
  assert.equal(await card.locator(".sl-who").textContent(), "Administrator möchte Ihren Bildschirm sehen");
  assert.match(await card.textContent(), /Es wird nichts freigegeben, bevor Sie auswählen, was Sie zeigen möchten\./);
  assert.equal(await widget(visitor, "share-accept").textContent(), "Bildschirm freigeben");
  assert.equal(await widget(visitor, "share-decline").textContent(), "Nein danke");
  await shoot(visitor, "de-share-consent");
  await widget(visitor, "share-decline").click();
  await waitFor(async () => (await widget(visitor, "log").textContent()).includes("Sie haben die Bildschirmfreigabe abgelehnt"), "declined, in German");

  // Co-browsing: the request and the bar, in German.
  await agent.locator("[data-testid=cobrowse-invite]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  const request = widget(visitor, "cobrowse-request");
  await request.waitFor({ state: "visible" });
  assert.equal(await request.locator(".sl-cb-who").textContent(), "Administrator möchte diese Seite gemeinsam mit Ihnen ansehen");
  assert.match(await request.textContent(), /Private Felder und Passwörter werden nie angezeigt\./);
  assert.equal(await widget(visitor, "cobrowse-allow").textContent(), "Erlauben");
  await shoot(visitor, "de-cobrowse-consent");
  await widget(visitor, "cobrowse-allow").click();
  const bar = widget(visitor, "cobrowse-indicator");
  await waitFor(async () => (await bar.isVisible()) && /Administrator sieht diese Seite/.test(await bar.textContent()), "the bar, in German");
  assert.equal(await widget(visitor, "cobrowse-stop").textContent(), "Beenden");

  // Remote control: the request and the bar, in German.
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-state]").getAttribute("data-state")) === "active", "co-browsing active");
  await agent.locator("[data-testid=control-request]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  const asked = widget(visitor, "control-asked");
  await asked.waitFor({ state: "visible" });
  assert.equal(await asked.locator(".sl-cb-who").textContent(), "Administrator möchte diese Seite steuern");
  assert.match(await asked.textContent(), /Passwörter und private Felder bleiben unzugänglich\./);
  await widget(visitor, "control-allow").click();
  await widget(visitor, "control-indicator").waitFor({ state: "visible" });
  assert.equal(await widget(visitor, "control-indicator").textContent(), "Administrator steuert diese Seite");
  assert.equal(await widget(visitor, "control-revoke").textContent(), "Steuerung zurücknehmen (Esc)");
  await widget(visitor, "cobrowse-stop").click();
  await waitFor(async () => (await widget(visitor, "log").textContent()).includes("Gemeinsames Browsen beendet"), "ended, in German");
  assertNoProblems(stack);
});

test("an English visitor loads no language pack", { timeout: 60000 }, async () => {
  const visitor = await pageIn("en-US", "english");
  const packs = [];
  visitor.on("request", (r) => /\/widget-(de|fr)\.js$/.test(r.url()) && packs.push(r.url()));
  await visitor.goto(stack.base + "/demo");
  const launcher = visitor.locator("[data-testid=launcher]");
  await launcher.waitFor({ state: "visible" });
  assert.equal(await launcher.getAttribute("aria-label"), "Open chat");
  await launcher.click();
  assert.equal(await widget(visitor, "input").getAttribute("placeholder"), "Write a message…");
  assert.deepEqual(packs, []);
  assertNoProblems(stack);
});

test("/join in French shows the configured company's name and logo", { timeout: 60000 }, async () => {
  const caller = await pageIn("en-US", "caller");
  await caller.goto(stack.base + "/join?lang=fr");
  const company = caller.locator("[data-testid=join-company]");
  await company.waitFor({ state: "visible" });
  // The name as text, never as HTML.
  assert.equal(await company.textContent(), COMPANY);
  assert.equal(await caller.locator("[data-testid=join-brand] b").count(), 0);
  assert.equal(await caller.title(), `${COMPANY} · Partage d’écran`);
  assert.equal(await caller.locator("html").getAttribute("lang"), "fr");
  const logo = caller.locator("[data-testid=join-logo]");
  assert.equal(await logo.getAttribute("alt"), `Logo de ${COMPANY}`);
  await waitFor(async () => logo.evaluate((img) => img.complete && img.naturalWidth > 0), "the logo loaded");
  assert.equal(await caller.locator("[data-testid=join-title]").textContent(), "Rejoindre avec un code");
  assert.match(await caller.locator("[data-testid=join-lead]").textContent(), /^Votre conseiller vous a donné un code à 9 chiffres\./);
  assert.equal(await caller.locator("[data-testid=share-code-submit]").textContent(), "Rejoindre");
  const input = caller.locator("[data-testid=share-code-input]");
  assert.equal(await input.getAttribute("aria-label"), "Code à 9 chiffres");
  await input.fill("12a");
  await caller.locator("[data-testid=share-code-submit]").click();
  assert.equal(await caller.locator("[data-testid=share-code-error]").textContent(), "Un code comporte 9 chiffres.");
  // The server's refusal (not_found), worded in French by its code.
  await input.fill("000000000");
  await caller.locator("[data-testid=share-code-submit]").click();
  await waitFor(async () => /^Ce code est erroné ou a expiré\./.test(await caller.locator("[data-testid=share-code-error]").textContent()), "wrong code, in French");
  await shoot(caller, "join-fr");

  // Without ?lang=, the browser's language.
  const german = await pageIn("de-AT", "caller-de");
  await german.goto(stack.base + "/join");
  await waitFor(async () => (await german.title()) === `${COMPANY} · Bildschirmfreigabe`, "German title");
  assert.equal(await german.locator("[data-testid=join-title]").textContent(), "Mit einem Code beitreten");
  assertNoProblems(stack);
});

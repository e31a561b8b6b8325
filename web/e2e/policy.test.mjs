// Permissions and the site policy in the console, as an admin sets them: an agent
// whose screen sharing is taken away no longer sees "Ask to see screen" (at once,
// without reloading); screen sharing turned off for everyone in the site policy
// is gone from an agent's console, refused by the server if asked for anyway, and
// back at once when turned on again; and a private selector set on the Install
// page keeps an element the page does not mark out of the agent's co-browse mirror.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { agentSend, createAgent, login, randomPassword, waitFor, waitForWidgetTexts } from "./harness.mjs";
import { invite, startChat, useShareStack } from "./share-harness.mjs";

const stack = useShareStack();

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

/** Runs `fn` in the agent's mirror document (rrweb's sandboxed iframe). */
function inMirror(agent, fn) {
  return agent.evaluate((source) => {
    const frame = /** @type {HTMLIFrameElement | null} */ (document.querySelector("[data-testid=cobrowse-mirror] iframe"));
    const doc = frame?.contentDocument;
    if (!doc) return null;
    return new Function("doc", `return (${source})(doc);`)(doc);
  }, fn.toString());
}

test("an admin takes screen sharing from an agent: their console stops offering it at once", { timeout: 120000 }, async () => {
  const password = randomPassword();
  await createAgent(stack.base, stack.server.adminPassword, { name: "bea", display_name: "Bea", password });
  const bea = await stack.page("bea");
  await login(bea, stack.base, "bea", password);
  const { agent } = await startChat(stack, { text: "policy test a", agentPage: bea });
  const inviteBtn = agent.locator("[data-testid=share-invite-open]");
  await inviteBtn.waitFor({ state: "visible" });
  await agent.locator("[data-testid=cobrowse-invite]").waitFor({ state: "visible" });

  const admin = await stack.page("admin");
  await login(admin, stack.base, "admin", stack.server.adminPassword);
  await admin.locator("[data-testid=nav-admin]").click();
  const row = admin.locator("[data-testid=user-row][data-name=bea]");
  await row.locator("[data-testid=user-edit]").click();
  await admin.locator("[data-testid=dialog-may_screen_share]").selectOption("no");
  await admin.locator("[data-testid=dialog-submit]").click();
  await admin.locator("[data-testid=dialog]").waitFor({ state: "detached" });
  await waitFor(async () => /No screen sharing/.test((await row.locator("[data-testid=user-limits]").textContent().catch(() => "")) || ""), "the row says what Bea may not use");

  // Bea's open console hides the button; co-browsing is still offered.
  await inviteBtn.waitFor({ state: "hidden" });
  assert.equal(await agent.locator("[data-testid=cobrowse-invite]").isVisible(), true);
  // Stored: after a reload it stays hidden.
  await agent.reload();
  await agent.locator("[data-testid=me-name]").waitFor({ state: "visible" });
  await agent.locator("[data-testid=share-key-create]").waitFor({ state: "visible" });
  assert.equal(await agent.locator("html[data-deny-screen-share]").count(), 1);
  assert.equal(await agent.locator("html[data-deny-cobrowse]").count(), 0);
  await admin.close();
  await bea.close();
});

test("a private selector set on the Install page keeps an unmarked element out of the co-browse mirror", { timeout: 120000 }, async () => {
  const admin = await stack.page("policy-admin");
  await login(admin, stack.base, "admin", stack.server.adminPassword);
  await admin.locator("[data-testid=nav-install]").click();
  const selectors = admin.locator("[data-testid=policy-selectors]");
  await selectors.waitFor({ state: "visible" });
  // A selector the server refuses shows why, and nothing is stored.
  await selectors.fill(".a { color: red }");
  await admin.locator("[data-testid=policy-save]").click();
  await admin.locator("[data-testid=policy-error]").waitFor({ state: "visible" });
  // The payee field is marked data-sightline-visible on the demo page; the policy wins.
  await selectors.fill("#payee\n.demo-balance");
  await admin.locator("[data-testid=policy-save]").click();
  // Stored: the server's answer says so (the error line empties at the click already).
  await waitFor(async () => /Policy saved/.test((await admin.locator("[data-testid=toast]").textContent()) ?? ""), "saved");
  assert.equal(await admin.locator("[data-testid=policy-error]").isVisible(), false, "saved without an error");
  await admin.reload();
  await admin.locator("[data-testid=policy-selectors]").waitFor({ state: "visible" });
  await waitFor(async () => (await admin.locator("[data-testid=policy-selectors]").inputValue()) === "#payee\n.demo-balance", "stored");
  await admin.close();

  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "policy test b" });
  await agent.locator("[data-testid=cobrowse-invite]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror shows a page");

  await visitor.locator("#payee").fill("Zed Quillfeather");
  await visitor.locator("#reference").fill("Rent for May");
  // The reference was typed after the payee: once it shows, the payee's change
  // has gone out too (if it went at all).
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#reference")?.value)) === "Rent for May", "an unblocked field shows");
  const html = await inMirror(agent, (doc) => doc.documentElement.outerHTML);
  assert.doesNotMatch(html, /Quillfeather/, "the payee never reached the agent");
  const values = await inMirror(agent, (doc) => [...doc.querySelectorAll("input")].map((i) => i.value).join("|"));
  assert.doesNotMatch(values, /Quillfeather/, "nor any field's value in the mirror");
  assert.equal(await inMirror(agent, (doc) => doc.querySelector("#payee")), null, "the payee field is blocked whole");
  assert.equal(await visitor.locator("#payee").inputValue(), "Zed Quillfeather", "the visitor's page is untouched");
});

test("screen sharing turned off in the site policy is gone for every agent, refused if asked for, and back at once", { timeout: 120000 }, async () => {
  const password = randomPassword();
  await createAgent(stack.base, stack.server.adminPassword, { name: "cleo", display_name: "Cleo", password });
  const cleo = await stack.page("cleo");
  // The console's own socket, passed through, so that the test can later send on
  // it what the console no longer offers, and read what the server answers.
  /** @type {import("playwright-core").WebSocketRoute | null} */
  let toServer = null;
  /** @type {any[]} */
  const fromServer = [];
  await cleo.routeWebSocket(/\/ws\/agent/, (ws) => {
    const server = ws.connectToServer();
    toServer = server;
    server.onMessage((frame) => {
      if (typeof frame === "string") fromServer.push(JSON.parse(frame));
      ws.send(frame);
    });
  });
  await login(cleo, stack.base, "cleo", password);
  const { agent, visitor } = await startChat(stack, { text: "policy test c", agentPage: cleo });
  const conversation = await agent.locator("[data-testid=queue-item][aria-current=true]").getAttribute("data-id");
  assert.ok(conversation, "the open conversation's id");
  const inviteBtn = agent.locator("[data-testid=share-invite-open]");
  await inviteBtn.waitFor({ state: "visible" });
  await agent.locator("[data-testid=cobrowse-invite]").waitFor({ state: "visible" });
  // Gone if the page were loaded again: the changes below must come without a reload.
  await agent.evaluate(() => ((/** @type {any} */ (window)).__samePage = true));

  // The admin unticks screen sharing in the site policy: Cleo has her own permissions untouched.
  const admin = await stack.page("site-admin");
  await login(admin, stack.base, "admin", stack.server.adminPassword);
  await admin.locator("[data-testid=nav-install]").click();
  const screenShare = admin.locator("[data-testid=policy-screen_share]");
  await waitFor(async () => (await screenShare.isEnabled()) && (await screenShare.isChecked()), "the stored policy has arrived, screen sharing on");
  await screenShare.uncheck();
  await admin.locator("[data-testid=policy-save]").click();
  await waitFor(async () => /Policy saved/.test((await admin.locator("[data-testid=toast]").textContent()) ?? ""), "saved");

  // Cleo's open console stops offering it; co-browsing stays.
  await inviteBtn.waitFor({ state: "hidden" });
  assert.equal(await agent.locator("html[data-deny-screen-share]").count(), 1);
  assert.equal(await agent.locator("[data-testid=cobrowse-invite]").isVisible(), true, "co-browsing is still offered");

  // Asked for anyway, over the console's own socket: the server refuses and says why.
  assert.ok(toServer, "the console's socket is routed");
  toServer.send(JSON.stringify({ type: "share_invite", ref: "policy-probe", conversation, message: null }));
  const refusal = await waitFor(() => fromServer.find((m) => m.type === "error" && m.ref === "policy-probe"), "the server answers the invitation");
  assert.equal(refusal.code, "forbidden");
  assert.equal(refusal.message, "screen sharing is turned off for this site by its policy");
  await waitFor(async () => (await agent.locator("[data-testid=toast]").textContent()) === "Screen sharing is turned off for this site by its policy.", "the console shows the refusal");
  // A later message reaches the visitor; no invitation came before it.
  await agentSend(agent, "I cannot see your screen today");
  await waitForWidgetTexts(visitor, ["policy test c", "I cannot see your screen today"]);
  assert.equal(await widget(visitor, "share-invite-card").count(), 0, "no invitation reached the visitor");
  assert.equal(fromServer.filter((m) => m.type === "event" && m.event?.kind === "share").length, 0, "nor the conversation");

  // Turned on again: the button is back in the same page, and an invitation goes through.
  await screenShare.check();
  await admin.locator("[data-testid=policy-save]").click();
  await inviteBtn.waitFor({ state: "visible" });
  assert.equal(await agent.locator("html[data-deny-screen-share]").count(), 0);
  assert.equal(await agent.evaluate(() => (/** @type {any} */ (window)).__samePage), true, "not reloaded");
  await invite(agent);
  await widget(visitor, "share-invite-card").waitFor({ state: "visible" });
  await widget(visitor, "share-accept").waitFor({ state: "visible" });
  await admin.close();
  await cleo.close();
  await visitor.close();
});

test("no page errors", () => assertNoProblems(stack));

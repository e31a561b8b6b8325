// The host site's JavaScript API. A customer's site (its own origin, allowed)
// embeds the widget with the install snippet's queue and calls the API before
// widget.js has loaded: identify with a signature its server computed (HMAC-SHA256
// over the user's id, name and e-mail address with the identity secret), and
// listeners. The agent sees the visitor's name and e-mail address; a forged
// signature (another user's id, or one's own id under another name) is refused
// and the agent sees an anonymous visitor. open(), close(), hide() and show() from the page, and
// the events it hears (open, close, message, unread, identified, error).

import { test } from "node:test";
import http from "node:http";
import crypto from "node:crypto";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const SECRET = "e2e identity secret, at least 16 characters";

/** What the site's server does for a logged-in user (README, "Identified visitors"). */
const sign = ({ id, name, email }) => crypto.createHmac("sha256", SECRET).update([id, name ?? "", email ?? ""].join("\n")).digest("hex");

const ADA = { id: "user-42", name: "Ada Lovelace", email: "ada@example.com" };
const MALLORY = { id: "user-666", name: "Mallory", email: "mallory@example.com" };

// The page, as the admin's Install page tells a site to write it: the stub that
// queues calls, then widget.js. Everything the page hears goes to window.heard.
const page = (widget, user) => `<!doctype html><html><head><meta charset="utf-8"><title>Customer site</title></head>
<body><h1>Customer site</h1>
<script>
window.Sightline=window.Sightline||function(){(Sightline.q=Sightline.q||[]).push(arguments)};
window.heard = [];
for (const name of ["open", "close", "message", "unread", "identified", "error"]) Sightline("on", name, (detail) => heard.push({ name, detail }));
Sightline("identify", ${JSON.stringify(user)});
</script>
<script src="${widget}" async></script>
</body></html>`;

const USERS = {
  ada: { ...ADA, signature: sign(ADA) },
  // Mallory copies Ada's id into the call, without Ada's signature.
  mallory: { ...ADA, signature: sign(MALLORY) },
  grace: { id: "user-7", name: "Grace Hopper", email: "grace@example.com", signature: sign({ id: "user-7", name: "Grace Hopper", email: "grace@example.com" }) },
  // Mallory keeps her own id and her own valid signature, but shows Ada's name and address.
  renamed: { ...MALLORY, name: ADA.name, email: ADA.email, signature: sign(MALLORY) },
};

let site = "";
const siteServer = http.createServer((req, res) => {
  const who = new URL(req.url || "/", "http://x").searchParams.get("as") || "ada";
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(page(stack.base + "/widget.js", USERS[who]));
});
const stack = useStack({
  beforeServer: async () => {
    await new Promise((r) => siteServer.listen(0, "127.0.0.1", () => r(undefined)));
    site = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (siteServer.address()).port}`;
  },
  allowedOrigins: () => [site],
  serverEnv: { SIGHTLINE_IDENTITY_SECRET: SECRET },
  cleanup: () => new Promise((r) => siteServer.close(() => r(undefined))),
});

/** The events the host page heard, by name. */
const heard = (visitor, name) => visitor.evaluate((n) => /** @type {any} */ (window).heard.filter((e) => e.name === n).map((e) => e.detail), name);

test("a signed identity names the visitor to agents; the page opens, hides and listens", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);

  const visitor = await stack.page("visitor");
  await visitor.goto(site + "/?as=ada");
  const launcher = visitor.locator("[data-testid=launcher]");
  await launcher.waitFor({ state: "visible" });
  // The queued calls ran; the API is there in both forms now.
  assert.equal(await visitor.evaluate(() => typeof (/** @type {any} */ (window).Sightline.open)), "function");

  // open() from the page (no click on the launcher).
  await visitor.evaluate(() => /** @type {any} */ (window).Sightline.open());
  await visitor.locator("[data-testid=panel]").waitFor({ state: "visible" });
  assert.equal((await heard(visitor, "open")).length, 1);

  await visitorSend(visitor, "Hello, I am logged in");
  await waitForWidgetTexts(visitor, ["Hello, I am logged in"]);
  await waitFor(async () => (await heard(visitor, "identified")).length === 1, "the page heard that the identity was taken");
  assert.deepEqual((await heard(visitor, "identified"))[0], { id: "user-42", name: "Ada Lovelace", email: "ada@example.com" });

  // The agent sees the name in the queue, the chat's title and the details.
  const item = agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Hello, I am logged in" });
  await waitFor(async () => (await item.locator("[data-testid=queue-name]").textContent()) === "Ada Lovelace", "name in the queue");
  await acceptByPreview(agent, "Hello, I am logged in");
  assert.equal(await agent.locator("[data-testid=chat-title]").textContent(), "Ada Lovelace");
  await agent.locator("[data-testid=details-toggle]").click();
  const details = agent.locator("[data-testid=details]");
  await details.waitFor({ state: "visible" });
  assert.equal(await details.locator("[data-testid=details-name]").textContent(), "Ada Lovelace");
  assert.equal(await details.locator("[data-testid=details-identity-email]").textContent(), "ada@example.com");
  assert.equal(await details.locator("[data-testid=details-user-id]").textContent(), "user-42");

  // A message from the agent: the page hears it with its text.
  await agentSend(agent, "Hi Ada, how can I help?");
  await waitFor(async () => (await heard(visitor, "message")).length === 1, "the page heard the message");
  const [message] = await heard(visitor, "message");
  assert.equal(message.text, "Hi Ada, how can I help?");
  assert.equal(message.kind, "text");

  // close() from the page; a message then counts as unread, and the page hears the count.
  await visitor.evaluate(() => /** @type {any} */ (window).Sightline("close"));
  await visitor.locator("[data-testid=panel]").waitFor({ state: "hidden" });
  assert.equal((await heard(visitor, "close")).length, 1);
  await agentSend(agent, "Are you still there?");
  await waitFor(async () => (await heard(visitor, "unread")).includes(1), "the page heard one unread message");
  assert.equal(await visitor.locator("[data-testid=unread]").textContent(), "1");

  // hide() takes the launcher away; show() brings it back; opening clears the count.
  await visitor.evaluate(() => /** @type {any} */ (window).Sightline.hide());
  await launcher.waitFor({ state: "hidden" });
  await visitor.evaluate(() => /** @type {any} */ (window).Sightline.show());
  await launcher.waitFor({ state: "visible" });
  await launcher.click();
  await waitFor(async () => (await heard(visitor, "unread")).at(-1) === 0, "the count went back to 0");
  // Opened from the page while the launcher is hidden: the panel sits where the
  // launcher was, not above an empty space.
  await visitor.evaluate(() => /** @type {any} */ (window).Sightline.hide());
  await launcher.waitFor({ state: "hidden" });
  await visitor.evaluate(() => /** @type {any} */ (window).Sightline.open());
  await visitor.locator("[data-testid=panel]").waitFor({ state: "visible" });
  const gap = await visitor.locator("[data-testid=panel]").evaluate((el) => window.innerHeight - el.getBoundingClientRect().bottom);
  assert.ok(gap <= 24, `the panel's bottom gap is ${gap}px with the launcher hidden`);
  await visitor.evaluate(() => /** @type {any} */ (window).Sightline.show());
  await launcher.waitFor({ state: "visible" });
  // A listener taken off hears nothing more: off(), then a later message that a
  // second listener does hear.
  await visitor.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.offHeard = [];
    w.laterHeard = [];
    const fn = (d) => w.offHeard.push(d);
    w.Sightline.on("message", fn);
    w.Sightline.off("message", fn);
    w.Sightline.on("message", (d) => w.laterHeard.push(d));
  });
  await agentSend(agent, "One more thing");
  await waitFor(async () => (await visitor.evaluate(() => /** @type {any} */ (window).laterHeard.length)) === 1, "the later listener heard");
  assert.equal(await visitor.evaluate(() => /** @type {any} */ (window).offHeard.length), 0);

  // The identity is stored on the conversation: history shows the name after the fact.
  await agent.locator("[data-testid=close-conversation]").click();
  await agent.goto(stack.base + "/console#/history");
  const row = agent.locator("[data-testid=history-item]").first();
  await waitFor(async () => /Ada Lovelace/.test((await row.textContent()) || ""), "name in history");

  // Ada again, from another browser (her phone, say): the details list the
  // conversation she had from the first one, found by her user id.
  const phone = await stack.page("ada-elsewhere");
  await phone.goto(site + "/?as=ada");
  await phone.locator("[data-testid=launcher]").click();
  await visitorSend(phone, "Me again, from another device");
  await waitForWidgetTexts(phone, ["Me again, from another device"]);
  await agent.goto(stack.base + "/console#/inbox");
  await acceptByPreview(agent, "Me again, from another device");
  const panel = agent.locator("[data-testid=details]");
  if (!(await panel.isVisible())) await agent.locator("[data-testid=details-toggle]").click();
  const earlier = panel.locator("[data-testid=details-earlier-item]");
  await waitFor(async () => (await earlier.count()) === 1, "one earlier conversation listed");
  assert.match((await earlier.textContent()) || "", /closed/);
  assert.match((await earlier.getAttribute("href")) || "", /^#\/history\//, "a link to it in History");
  assertNoProblems(stack);
});

test("a shared browser: the next user never sees the chat of the one before, with or without reset()", { timeout: 120000 }, async () => {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  // One browser (one context, one localStorage): Ada chats, logs out without
  // reset(), and Grace logs in on the same site.
  const shared = await stack.page("shared computer");
  await shared.goto(site + "/?as=ada");
  await shared.locator("[data-testid=launcher]").click();
  await visitorSend(shared, "Ada's private question");
  await waitForWidgetTexts(shared, ["Ada's private question"]);
  await waitFor(async () => (await heard(shared, "identified")).length === 1, "Ada identified");
  await shared.goto(site + "/?as=grace");
  // (The panel may come back open, as it was: open() leaves it so.)
  await shared.evaluate(() => /** @type {any} */ (window).Sightline.open());
  await waitFor(async () => (await heard(shared, "identified")).some((i) => i.id === "user-7"), "Grace identified");
  await visitorSend(shared, "Grace here");
  // Only Grace's words in the widget, and a conversation of her own at the agent's.
  await waitForWidgetTexts(shared, ["Grace here"]);
  const grace = agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Grace here" });
  await waitFor(async () => (await grace.locator("[data-testid=queue-name]").textContent()) === "Grace Hopper", "Grace's own conversation");
  const ada = agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Ada's private question" });
  assert.equal(await ada.locator("[data-testid=queue-name]").textContent(), "Ada Lovelace", "Ada's stays hers");

  // Sightline.reset() on logout: the next visitor starts anonymous and empty.
  await shared.evaluate(() => /** @type {any} */ (window).Sightline.reset());
  await visitorSend(shared, "Someone new");
  await waitForWidgetTexts(shared, ["Someone new"]);
  const anon = agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Someone new" });
  await waitFor(async () => /^Visitor \d{4}$/.test((await anon.locator("[data-testid=queue-name]").textContent()) || ""), "an anonymous new visitor");
  assert.equal(await grace.locator("[data-testid=queue-name]").textContent(), "Grace Hopper");
  assertNoProblems(stack);
});

for (const [who, said] of [
  ["mallory", "I am Ada, honestly"],
  ["renamed", "I am Ada too, see my name"],
]) {
  test(`a forged signature (${who}) is refused: the page hears why and agents see an anonymous visitor`, { timeout: 120000 }, async () => {
    const agent = await stack.page("agent");
    await login(agent, stack.base, "admin", stack.server.adminPassword);
    const visitor = await stack.page(who);
    await visitor.goto(site + "/?as=" + who);
    await visitor.locator("[data-testid=launcher]").click();
    await visitorSend(visitor, said);
    await waitForWidgetTexts(visitor, [said]);

    // The page is told (an error event); the visitor's chat shows no error.
    await waitFor(async () => (await heard(visitor, "error")).length === 1, "the page heard the refusal");
    const [error] = await heard(visitor, "error");
    assert.equal(error.code, "forbidden");
    assert.match(error.message, /signature/);
    assert.equal((await heard(visitor, "identified")).length, 0);
    assert.equal(await visitor.locator("[data-testid=status]").isHidden(), true, "no notice in the chat");

    // The identify went out before the message (the widget says it right after the
    // welcome), so by the time the agent has the message, a taken identity would be
    // on the conversation: the agent sees an anonymous visitor.
    const item = agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: said });
    await item.waitFor({ state: "visible" });
    assert.match((await item.locator("[data-testid=queue-name]").textContent()) || "", /^Visitor \d{4}$/);
    await item.click();
    await agent.locator("[data-testid=details-toggle]").click();
    const details = agent.locator("[data-testid=details]");
    await details.waitFor({ state: "visible" });
    await details.locator("[data-testid=details-browser]").waitFor({ state: "visible" });
    assert.equal(await details.locator("[data-testid=details-name]").count(), 0);
    assert.equal(await details.locator("[data-testid=details-user-id]").count(), 0);
    assert.doesNotMatch((await agent.locator("[data-testid=chat-title]").textContent()) || "", /Ada/);
    assertNoProblems(stack);
  });
}

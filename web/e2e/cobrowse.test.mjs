// Co-browsing between the widget and the console through the relay: the consent
// flow, nothing captured before Allow, typing and DOM changes in the agent's
// mirror, private and password fields never shown, and Stop by either side.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { agentShareSteps, assertVideoAdvancing, invite, startChat, useShareStack } from "./share-harness.mjs";
import { recordOutgoing } from "./cobrowse-wire.mjs";

const stack = useShareStack();

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

/** Runs `fn` in the agent's mirror document (rrweb's sandboxed iframe). */
function inMirror(agent, fn, arg) {
  return agent.evaluate(
    ([source, a]) => {
      const frame = /** @type {HTMLIFrameElement | null} */ (document.querySelector("[data-testid=cobrowse-mirror] iframe"));
      const doc = frame?.contentDocument;
      if (!doc) return null;
      return new Function("doc", "arg", `return (${source})(doc, arg);`)(doc, a);
    },
    [fn.toString(), arg],
  );
}

async function ask(agent, message) {
  await agent.locator("[data-testid=cobrowse-invite]").click();
  if (message !== undefined) await agent.locator("[data-testid=dialog-message]").fill(message);
  await agent.locator("[data-testid=dialog-submit]").click();
  await agent.locator("[data-testid=dialog]").waitFor({ state: "detached" });
}

/**
 * Closes the pages of earlier tests: they are the same agent account, and every
 * console tab of an agent subscribes to that agent's live co-browsing (at most 6
 * subscribers per stream).
 */
async function fresh() {
  for (const context of stack.browser.contexts()) await context.close().catch(() => {});
}

const agentState = (agent) => agent.locator("[data-testid=cobrowse-state]").getAttribute("data-state");

test("ask, allow: the agent's mirror shows the page, typing and changes live; Stop ends it", { timeout: 120000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse test a" });
  await ask(agent, "May I look at the transfer form with you?");
  await waitFor(async () => (await agentState(agent)) === "asked", "agent sees asked");

  await widget(visitor, "cobrowse-request").waitFor({ state: "visible" });
  assert.equal(await widget(visitor, "cobrowse-request-text").textContent(), "May I look at the transfer form with you?");
  assert.match(await widget(visitor, "cobrowse-request").textContent(), /Private fields and passwords are never shown/);
  // Nothing is captured before the click.
  assert.deepEqual(await visitor.evaluate(() => ({ capturing: window.__sightlineCobrowse.capturing, bytes: window.__sightlineCobrowse.bytesSent })), { capturing: false, bytes: 0 });
  await widget(visitor, "cobrowse-allow").click();

  const indicator = widget(visitor, "cobrowse-indicator");
  await indicator.waitFor({ state: "visible" });
  assert.match(await indicator.textContent(), /is viewing this page/);
  await waitFor(async () => (await agentState(agent)) === "active", "agent sees active");
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror shows a page");
  await waitFor(async () => /Transfer money|Send money|Transfer/.test((await inMirror(agent, (doc) => doc.body?.textContent ?? "")) ?? ""), "mirror has the page's text");
  assert.match(await agent.locator("[data-testid=cobrowse-url]").textContent(), /\/demo\/transfer$/);

  // Typing into a visible field appears; a private field and the PIN never do.
  await visitor.locator("#payee").fill("Alex Johnson");
  await visitor.locator("#iban").fill("DE44 5001 0517 5407 3249 31");
  await visitor.locator("#pin").fill("735194");
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#payee")?.value)) === "Alex Johnson", "typed text in the mirror");
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#pin")?.value)) === "••••••••", "the PIN as a fixed-length mask");
  // The field the visitor is in is outlined in the mirror.
  await visitor.locator("#amount").focus();
  await waitFor(async () => (await inMirror(agent, (doc) => [...doc.querySelectorAll("[data-sl-focus]")].map((e) => e.id).join())) === "amount", "the focused field outlined");
  await visitor.locator("#amount").blur();
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelectorAll("[data-sl-focus]").length)) === 0, "no outline after the visitor leaves the field");
  const mirrorHtml = await inMirror(agent, (doc) => doc.documentElement.outerHTML);
  assert.doesNotMatch(mirrorHtml, /5407|735194/, "neither the IBAN nor the PIN reached the agent");
  assert.equal(await inMirror(agent, (doc) => doc.querySelector("#iban")), null, "the private field is blocked whole");

  // A DOM change appears.
  await visitor.evaluate(() => {
    const p = document.createElement("p");
    p.id = "cb-added";
    p.textContent = "Added while co-browsing";
    document.querySelector("main").appendChild(p);
  });
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#cb-added")?.textContent)) === "Added while co-browsing", "DOM change in the mirror");
  // The widget itself is not mirrored.
  const widgetInMirror = await inMirror(agent, (doc) => {
    const host = doc.querySelector("sightline-widget");
    return { text: (host?.textContent ?? "") + (host?.shadowRoot?.textContent ?? ""), nodes: host?.shadowRoot?.childNodes.length ?? 0 };
  });
  assert.deepEqual(widgetInMirror, { text: "", nodes: 0 }, "the widget is an empty box in the mirror");

  // The visitor stops.
  await widget(visitor, "cobrowse-stop").click();
  await indicator.waitFor({ state: "hidden" });
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-panel]").isHidden()) || (await agentState(agent)) === "ended", "agent sees the end");
  assert.equal(await visitor.evaluate(() => window.__sightlineCobrowse.capturing), false);
  // Every step is in the agent's transcript.
  const steps = await waitFor(async () => {
    const s = await agent.locator("[data-testid=transcript] [data-grant-state]").evaluateAll((els) => els.map((e) => e.getAttribute("data-grant-state")));
    return s.join(",") === "asked,allowed,active,ended" ? s : false;
  }, "agent transcript shows asked→allowed→active→ended");
  assert.equal(steps.length, 4);
  assert.match(await agent.locator("[data-testid=transcript] [data-grant-state=asked]").textContent(), /asked for co-browsing: “May I look at the transfer form with you\?”/);
  assert.match(await agent.locator("[data-testid=transcript] [data-grant-state=ended]").textContent(), /stopped co-browsing/);
  // And in the visitor's chat: when it started and when it ended.
  await waitFor(async () => {
    const lines = await visitor.locator("[data-sightline] [data-testid=system]").allTextContents();
    return lines.some((l) => / is viewing your page$/.test(l)) && lines.includes("Co-browsing ended");
  }, "the visitor's chat shows the start and the end");
  assertNoProblems(stack);
});

test("No thanks: the agent sees the decline and nothing is captured", { timeout: 90000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo", text: "cobrowse test b" });
  await ask(agent);
  await widget(visitor, "cobrowse-request").waitFor({ state: "visible" });
  await widget(visitor, "cobrowse-decline").click();
  await widget(visitor, "cobrowse-request").waitFor({ state: "hidden" });
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-invite]").isEnabled()), "the agent may ask again");
  await waitFor(async () => (await agent.locator("[data-testid=system][data-kind=grant][data-grant-state=declined]").count()) === 1, "the agent is told in the transcript");
  assert.match(await agent.locator("[data-testid=system][data-kind=grant][data-grant-state=declined]").textContent(), /declined co-browsing/);
  assert.equal(await visitor.evaluate(() => window.__sightlineCobrowse.bytesSent), 0);
  assert.equal(await widget(visitor, "cobrowse-indicator").isHidden(), true);
  assertNoProblems(stack);
});

test("the agent ends co-browsing: the visitor's indicator goes and capture stops", { timeout: 90000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo", text: "cobrowse test c" });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror shows a page");
  await agent.locator("[data-testid=cobrowse-end]").click();
  await widget(visitor, "cobrowse-indicator").waitFor({ state: "hidden" });
  await waitFor(async () => (await visitor.evaluate(() => window.__sightlineCobrowse.capturing)) === false, "capture stopped");
  assertNoProblems(stack);
});

test("co-browsing follows the visitor to another page of the site, under the same consent", { timeout: 120000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse test d" });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => /\/demo\/transfer$/.test((await agent.locator("[data-testid=cobrowse-url]").textContent().catch(() => "")) ?? ""), "mirror on the transfer page");
  // A link on the page: the widget loads again on the new page and goes on by itself.
  await visitor.locator("a[href='/demo/account']").first().click();
  await visitor.waitForURL(/\/demo\/account$/);
  await widget(visitor, "cobrowse-indicator").waitFor({ state: "visible" });
  await waitFor(async () => /\/demo\/account$/.test((await agent.locator("[data-testid=cobrowse-url]").textContent().catch(() => "")) ?? ""), "mirror follows to the account page");
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-title]").textContent().catch(() => "")) === "Accounts — Northwind Bank", "the page's title in the viewer");
  await waitFor(async () => /Everyday Current Account/.test((await inMirror(agent, (doc) => doc.body?.textContent ?? "")) ?? ""), "the account page's text in the mirror");
  assert.equal(await agentState(agent), "active");
  // A reload too.
  await visitor.reload();
  await widget(visitor, "cobrowse-indicator").waitFor({ state: "visible" });
  await visitor.evaluate(() => {
    const p = document.createElement("p");
    p.id = "after-reload";
    p.textContent = "after reload";
    document.body.appendChild(p);
  });
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#after-reload")?.textContent)) === "after reload", "mirror after a reload");
  // Another tab of the same visitor shares nothing.
  const other = await visitor.context().newPage();
  const otherStreams = [];
  other.on("websocket", (ws) => ws.url().includes("/ws/stream") && otherStreams.push(ws.url()));
  await other.goto(stack.base + "/demo");
  await other.locator("[data-sightline]").waitFor({ state: "attached" });
  await other.evaluate(() => {
    const p = document.createElement("p");
    p.id = "other-tab";
    document.body.appendChild(p);
  });
  // Cause a later change in the allowing tab, wait for it in the mirror, then check.
  await visitor.evaluate(() => {
    document.querySelector("#after-reload").textContent = "later";
  });
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#after-reload")?.textContent)) === "later", "later change in the mirror");
  assert.equal(await inMirror(agent, (doc) => doc.querySelector("#other-tab")), null, "the other tab is not mirrored");
  assert.deepEqual(otherStreams, [], "the other tab opened no stream");
  assert.match(await agent.locator("[data-testid=cobrowse-url]").textContent(), /\/demo\/account$/);
  // The agent's transcript shows each page once: not the reload, not the other tab.
  const pageLines = agent.locator("[data-testid=system][data-kind=page_viewed]");
  await waitFor(async () => (await pageLines.count()) === 2, "a transcript line per page");
  const lines = await pageLines.allTextContents();
  assert.match(lines[0], /opened “.+” \(\/demo\/transfer\)/);
  assert.match(lines[1], /opened “.+” \(\/demo\/account\)/);
  await other.close();
  assertNoProblems(stack);
});


test("canary secrets typed into private, password and ordinary fields never leave the browser", { timeout: 120000 }, async () => {
  await fresh();
  const visitor = await stack.page("visitor");
  const sent = recordOutgoing(visitor);
  const { agent } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse test e", visitorPage: visitor });
  // Fields the site did not mark at all: their values are masked by default.
  await visitor.evaluate(() => {
    const form = document.querySelector("form");
    form.insertAdjacentHTML(
      "beforeend",
      '<input id="mail" type="email"><textarea id="notes"></textarea><input id="card" autocomplete="cc-number">' +
        '<textarea id="prefilled">CANARY-DEFAULT-4</textarea><input id="scripted"><input id="upload" type="file">' +
        '<div id="editor" contenteditable="true">x</div>' +
        '<div data-sightline-private><p id="secret-text">Balance CANARY-TEXT-1</p><img alt="CANARY-ALT-2" src="/demo/x.png"><input id="in-private" value=""></div>' +
        '<input type="hidden" name="csrf" value="CANARY-HIDDEN-3">',
    );
  });
  // Set by the page's own script, before anything is allowed.
  await visitor.evaluate(() => {
    /** @type {HTMLInputElement} */ (document.querySelector("#scripted")).value = "CANARY-SCRIPTED-5";
  });
  await visitor.locator("#upload").setInputFiles({ name: "passport-CANARY-FILE-6.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4") });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  const canaries = {
    "#iban": "CANARYIBAN7391",
    "#pin": "CANARYPIN8264",
    "#mail": "canary-mail-5512@example.com",
    "#notes": "CANARYNOTES4471",
    "#card": "4111CANARY9876",
    "#in-private": "CANARYINPRIVATE2203",
  };
  for (const [selector, value] of Object.entries(canaries)) await visitor.locator(selector).pressSequentially(value, { delay: 5 });
  await visitor.locator("#editor").pressSequentially("CANARYEDITOR7", { delay: 5 });
  // A "show password" toggle, then more typing.
  await visitor.evaluate(() => {
    /** @type {HTMLInputElement} */ (document.querySelector("#pin")).type = "text";
  });
  await visitor.locator("#pin").pressSequentially("SHOWNCANARY8", { delay: 5 });
  // The page logs what the visitor typed.
  await visitor.evaluate(() => console.error("payment failed", { card: "CANARY-OBJECT-9" }, "card 4111 2222 3333 4444, CANARY@example.com"));
  await visitor.locator("#payee").fill("visible-marker-6620");
  // Wait until the last keystrokes reached the mirror, so that everything typed has been sent.
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#payee")?.value)) === "visible-marker-6620", "the visible field arrived");
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#notes")?.value)) === "••••••••", "an ordinary field arrives masked");
  const all = sent.join("\n");
  assert.match(all, /visible-marker-6620/, "the recording of outgoing bytes works");
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-diag-count]").getAttribute("data-count")) === "1", "the console error reached the agent");
  for (const secret of [...Object.values(canaries), "CANARY-TEXT-1", "CANARY-ALT-2", "CANARY-HIDDEN-3", "CANARY-DEFAULT-4", "CANARY-SCRIPTED-5", "CANARY-FILE-6", "CANARYEDITOR7", "SHOWNCANARY8", "CANARY-OBJECT-9", "4111 2222"]) {
    assert.equal(all.includes(secret), false, `${secret} left the browser`);
  }
  // Every secret holds the word: not even a piece of one went out.
  assert.doesNotMatch(all, /canary/i, "part of a secret left the browser");
  // The widget is blocked whole: not even its style sheets go out.
  assert.doesNotMatch(all, /all: ?initial !important|\.launcher/, "the widget's own styles went out");
  await widget(visitor, "cobrowse-stop").click();
  assertNoProblems(stack);
});

test("the viewer: actual size and fit, freeze holds the picture while the page goes on, live figures", { timeout: 120000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse test f" });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  const mirror = agent.locator("[data-testid=cobrowse-mirror]");
  await waitFor(async () => Number(await mirror.getAttribute("data-scale")) < 1, "fitted into the panel");
  await agent.locator("[data-testid=cobrowse-fit]").click();
  await waitFor(async () => (await mirror.getAttribute("data-scale")) === "1.000", "actual size");
  assert.equal(await mirror.getAttribute("data-fit"), "false");
  await agent.locator("[data-testid=cobrowse-fit]").click();
  await waitFor(async () => (await mirror.getAttribute("data-fit")) === "true", "fit again");

  // The open conversation's stream (the console also follows earlier tests' live ones).
  const received = () => agent.evaluate(() => window.__sightlineAgentCobrowse.cobrowse.live.get(window.__sightlineAgentCobrowse.selected())?.items ?? 0);
  await agent.locator("[data-testid=cobrowse-freeze]").click();
  await agent.locator("[data-testid=cobrowse-frozen]").waitFor({ state: "visible" });
  const before = await received();
  await visitor.evaluate(() => {
    const p = document.createElement("p");
    p.id = "while-frozen";
    p.textContent = "changed while frozen";
    document.body.appendChild(p);
  });
  // The change arrived at the console…
  await waitFor(async () => (await received()) > before, "the change reached the console");
  // …and the picture holds.
  assert.equal(await inMirror(agent, (doc) => doc.querySelector("#while-frozen")), null, "held while frozen");
  await agent.locator("[data-testid=cobrowse-freeze]").click();
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#while-frozen")?.textContent)) === "changed while frozen", "back to live shows it");
  assert.equal(await agent.locator("[data-testid=cobrowse-frozen]").count(), 0);
  await waitFor(async () => /events\/s · [\d.]+ kbit\/s/.test(await agent.locator("[data-testid=cobrowse-figures]").textContent()), "live figures");

  // Full screen, and back.
  await agent.locator("[data-testid=cobrowse-fullscreen]").click();
  await waitFor(async () => agent.evaluate(() => document.fullscreenElement?.getAttribute("data-testid") === "cobrowse-panel"), "the co-browsing panel full screen");
  await agent.locator("[data-testid=cobrowse-fullscreen]").click();
  await waitFor(async () => agent.evaluate(() => document.fullscreenElement === null), "back from full screen");
  assert.match(await agent.locator("[data-testid=cobrowse-figures]").textContent(), /delay \+\d+ ms/);

  // The visitor's window size, pointer and clicks.
  await visitor.setViewportSize({ width: 1100, height: 700 });
  await waitFor(async () => /^1100×700 /.test(await agent.locator("[data-testid=cobrowse-figures]").textContent()), "the visitor's new window size");
  const mouse = agent.locator("[data-testid=cobrowse-mirror] .replayer-mouse");
  const at = () => mouse.evaluate((m) => `${m.style.left},${m.style.top}`);
  // A burst of moves, then the pointer rests: the mirror shows where it rests
  // (rrweb samples moves; the widget sends the resting place once more).
  await visitor.mouse.move(200, 150);
  await visitor.mouse.move(320, 222, { steps: 10 });
  await waitFor(async () => (await at()) === "320px,222px", "the pointer where the visitor's rests");
  // One single move.
  await visitor.mouse.move(400, 300);
  await waitFor(async () => (await at()) === "400px,300px", "the pointer after one move");
  await visitor.mouse.click(321, 222);
  await waitFor(async () => mouse.evaluate((m) => m.classList.contains("active")), "the click shown");
  assertNoProblems(stack);
});

test("whether a checkbox is ticked shows only where the site marked it visible", { timeout: 120000 }, async () => {
  await fresh();
  const visitor = await stack.page("visitor");
  const sent = recordOutgoing(visitor);
  const { agent } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse checkboxes", visitorPage: visitor });
  const addBoxes = (suffix) =>
    visitor.evaluate((sfx) => {
      for (const { id, marked } of [{ id: `plain${sfx}`, marked: false }, { id: `shown${sfx}`, marked: true }]) {
        const box = document.createElement("input");
        box.type = "checkbox";
        box.id = id;
        box.checked = true;
        if (marked) box.setAttribute("data-sightline-visible", "");
        document.body.appendChild(box);
      }
    }, suffix);
  await addBoxes("-before");
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  const checked = (id) => inMirror(agent, (doc, i) => doc.querySelector(`#${i}`)?.checked ?? null, id);
  await waitFor(async () => (await checked("shown-before")) === true, "a visible box ticked in the mirror");
  assert.equal(await checked("plain-before"), false, "an unmarked box shows unticked (snapshot)");
  // Added while co-browsing, then clicked.
  await addBoxes("-later");
  await waitFor(async () => (await checked("shown-later")) === true, "a box added later");
  assert.equal(await checked("plain-later"), false, "an unmarked box shows unticked (mutation)");
  await visitor.locator("#plain-before").click();
  await visitor.locator("#plain-before").click();
  // Radio buttons not marked: which one is chosen must not tell either.
  await visitor.evaluate(() => {
    for (const id of ["standard", "express"]) {
      const r = document.createElement("input");
      r.type = "radio";
      r.name = "speed";
      r.id = id;
      document.body.appendChild(r);
    }
  });
  await waitFor(async () => (await checked("express")) === false, "radios in the mirror");
  await visitor.locator("#express").click();
  await visitor.locator("#shown-before").click();
  await waitFor(async () => (await checked("shown-before")) === false, "the visible box's click reaches the mirror");
  assert.equal(await checked("plain-before"), false, "clicks on an unmarked box show nothing (input events)");
  assert.equal(await checked("express"), false, "nor on an unmarked radio button");
  // On the wire: the rrweb events the visitor's browser sent, read back.
  const events = sent.flatMap((text) => {
    try {
      const v = JSON.parse(text);
      return Array.isArray(v) ? v : [v];
    } catch {
      return [];
    }
  });
  /** rrweb node id → the element's id attribute, and whether its snapshot said checked. */
  const nodes = new Map();
  const walk = (n) => {
    if (!n || typeof n !== "object") return;
    if (n.type === 2 && n.attributes?.id) nodes.set(n.id, { name: n.attributes.id, checked: "checked" in n.attributes });
    for (const c of n.childNodes ?? []) walk(c);
  };
  for (const e of events) {
    if (e?.type === 2) walk(e.data?.node);
    if (e?.type === 3 && e.data?.source === 0) for (const a of e.data.adds ?? []) walk(a.node);
  }
  const names = (pred) => [...nodes.values()].filter(pred).map((n) => n.name).sort();
  assert.deepEqual(names((n) => n.checked), ["shown-before", "shown-later"], "only visible boxes carry their ticked state");
  const inputEventsOf = events.filter((e) => e?.type === 3 && e.data?.source === 5 && "isChecked" in e.data).map((e) => nodes.get(e.data.id)?.name ?? `#${e.data.id}`);
  assert.ok(inputEventsOf.includes("shown-before"), `the visible box's click went out: ${inputEventsOf}`);
  for (const hidden of ["plain-before", "plain-later", "standard", "express"]) assert.ok(!inputEventsOf.includes(hidden), `no input event of ${hidden} left the browser: ${inputEventsOf}`);
  await widget(visitor, "cobrowse-stop").click();
  assertNoProblems(stack);
});

test("freeze, snapshot, draw and send: a snapshot of the mirror opens in the editor at the visitor's window size and scroll, is marked up, and goes into the chat", { timeout: 120000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse snapshot" });
  await visitor.setViewportSize({ width: 900, height: 640 });
  await visitor.evaluate(() => {
    const block = (id, top, color) => {
      const d = document.createElement("div");
      d.id = id;
      d.style.cssText = `position:absolute;left:0;top:${top}px;width:120px;height:80px;background:${color};z-index:5`;
      document.body.appendChild(d);
    };
    const spacer = document.createElement("div");
    spacer.style.height = "3000px";
    document.body.appendChild(spacer);
    block("red-block", 0, "rgb(220, 20, 60)");
    block("blue-block", 500, "rgb(20, 40, 220)");
    window.scrollTo(0, 300);
  });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await inMirror(agent, (doc) => doc.defaultView?.scrollY)) === 300 && (await inMirror(agent, (doc) => !!doc.querySelector("#blue-block"))), "the scrolled page in the mirror");

  // Hold the picture (the page goes on underneath), then take it.
  await agent.locator("[data-testid=cobrowse-freeze]").click();
  await agent.locator("[data-testid=cobrowse-frozen]").waitFor({ state: "visible" });
  await agent.locator("[data-testid=cobrowse-snapshot]").click();
  const editor = agent.locator("[data-testid=snapshot-editor]");
  await editor.waitFor({ state: "visible" });
  assert.deepEqual([await editor.getAttribute("data-width"), await editor.getAttribute("data-height")], ["900", "640"], "the visitor's viewport, whatever the panel's size");
  const pixel = (x, y) =>
    agent.evaluate(([px, py]) => {
      const base = /** @type {any} */ (window).__sightlineImages.current.src.image;
      return [...base.getContext("2d").getImageData(px, py, 1, 1).data.slice(0, 3)];
    }, [x, y]);
  const near = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 12);
  const blue = await pixel(60, 240);
  assert.ok(near(blue, [20, 40, 220]), `the block 500 px down shows 200 px down, as the visitor scrolled: ${blue}`);
  const top = await pixel(60, 40);
  assert.ok(!near(top, [220, 20, 60]), `the block scrolled out of view is not in the picture: ${top}`);

  // An arrow drawn on it.
  await agent.locator("[data-testid=tool-arrow]").click();
  const [p0, p1] = await agent.evaluate(() => {
    const ed = /** @type {any} */ (window).__sightlineImages.current;
    return [ed.toClient(100, 100), ed.toClient(400, 300)];
  });
  await agent.mouse.move(p0.x, p0.y);
  await agent.mouse.down();
  await agent.mouse.move(p1.x, p1.y, { steps: 8 });
  await agent.mouse.up();
  assert.equal(await editor.getAttribute("data-shapes"), "1", "the arrow drawn");

  const images = agent.locator("[data-testid=message] img");
  const before = await images.count();
  await agent.locator("[data-testid=editor-send]").click();
  await waitFor(async () => (await images.count()) > before, "the snapshot in the chat");
  // The visitor gets the marked-up picture in their chat.
  await widget(visitor, "image-thumb").last().waitFor({ state: "visible" });
  await agent.locator("[data-testid=cobrowse-freeze]").click();
  await widget(visitor, "cobrowse-stop").click();
  assertNoProblems(stack);
});

test("problems on the visitor's page reach the agent: console errors, exceptions, failed requests without their query", { timeout: 120000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo", text: "cobrowse test g" });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  await visitor.evaluate(() => {
    console.error("diag-console", { code: 7 });
    setTimeout(() => {
      throw new Error("diag-exception");
    });
    void fetch("/demo/missing-page?token=SECRET-QUERY#frag");
  });
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-diag-count]").getAttribute("data-count")) === "3", "three problems counted");
  await agent.locator("[data-testid=cobrowse-diag-toggle]").click();
  const rows = await agent.locator("[data-testid=cobrowse-diag] .cb-diag-row").allTextContents();
  const all = rows.join("\n");
  assert.match(all, /console\.error: diag-console \[Object\]/, "objects are named, not serialised");
  assert.match(all, /Error: diag-exception/);
  assert.match(all, /GET http:\/\/127\.0\.0\.1:\d+\/demo\/missing-page → 404 \(\d+ ms\)/);
  assert.doesNotMatch(all, /SECRET-QUERY|frag/, "no query string or fragment");
  // A long text cut right at an emoji, text with a lone surrogate of the page's
  // own, and an ordinary error in the same batch: all three arrive (half an
  // emoji would have had the whole batch refused).
  await visitor.evaluate(() => {
    console.error("x".repeat(299) + "😀 after the cut");
    console.error("broken \ud83d text");
    console.error("diag-after-emoji");
  });
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-diag-count]").getAttribute("data-count")) === "6", "six problems counted");
  const later = (await agent.locator("[data-testid=cobrowse-diag] .cb-diag-row").allTextContents()).join("\n");
  assert.match(later, /diag-after-emoji/);
  assert.match(later, /x{299}😀…/);
  // The exception was the test's own doing on the visitor's page.
  const own = stack.problems.filter((p) => /diag-exception/.test(p));
  assert.equal(own.length, 1);
  stack.problems.splice(stack.problems.indexOf(own[0]), 1);
  // The page wraps console.warn itself while capture is on.
  await visitor.evaluate(() => {
    const inner = console.warn;
    console.warn = function (...args) {
      /** @type {any} */ (window).__pageWarns = (/** @type {any} */ (window).__pageWarns ?? 0) + 1;
      return inner.apply(this, args);
    };
  });
  await widget(visitor, "cobrowse-stop").click();
  // Capture undone: the page's own functions are back.
  await waitFor(async () => visitor.evaluate(() => !window.fetch.toString().includes("failed(")), "fetch restored");
  // …and what the page wrapped later is left as the page made it.
  await visitor.evaluate(() => console.warn("after stop"));
  assert.equal(await visitor.evaluate(() => /** @type {any} */ (window).__pageWarns), 1, "the page's own wrapper survived Stop");
  assertNoProblems(stack);
});

test("one conversation goes from co-browsing to a screen share and back; history shows every step", { timeout: 150000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse then share" });
  const id = await agent.evaluate(() => /** @type {any} */ (window).__sightlineAgentCobrowse.selected());
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  await agent.locator("[data-testid=cobrowse-end]").click();
  await widget(visitor, "cobrowse-indicator").waitFor({ state: "hidden" });

  // The screen, in the same conversation.
  await invite(agent);
  await widget(visitor, "share-accept").click();
  await assertVideoAdvancing(agent);
  await agent.locator("[data-testid=share-end]").click();
  await waitFor(async () => (await agentShareSteps(agent)).at(-1) === "ended", "the share ended");

  // And the page again.
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live again");
  await waitFor(async () => /Send money|Transfer/.test((await inMirror(agent, (doc) => doc.body?.textContent ?? "")) ?? ""), "the page in the mirror again");
  await widget(visitor, "cobrowse-stop").click();
  await waitFor(async () => (await agent.locator("[data-testid=transcript] [data-grant-state]").count()) === 8, "both co-browse sessions in the transcript");

  // History keeps every step.
  await agent.evaluate((c) => (location.hash = `#/history/${encodeURIComponent(c)}`), id);
  const history = agent.locator("[data-testid=history-transcript]");
  await history.waitFor({ state: "visible" });
  await waitFor(async () => (await history.locator("[data-grant-state]").count()) === 8, "history: the co-browse steps");
  assert.deepEqual(
    await history.locator("[data-grant-state]").evaluateAll((els) => els.map((e) => e.getAttribute("data-grant-state"))),
    ["asked", "allowed", "active", "ended", "asked", "allowed", "active", "ended"],
  );
  const shareSteps = await history.locator("[data-share-state]").evaluateAll((els) => els.map((e) => e.getAttribute("data-share-state")));
  assert.equal(shareSteps[0], "invited");
  assert.equal(shareSteps.at(-1), "ended");
  assert.ok((await history.locator("[data-kind=page_viewed]").count()) >= 2, "the pages of both sessions");
  assertNoProblems(stack);
});

test("a caller joins with a co-browsing session key typed into the chat on the site", { timeout: 120000 }, async () => {
  await fresh();
  const agent = await stack.page("agent");
  const { login } = await import("./harness.mjs");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  await agent.locator("[data-testid=share-key-create]").click();
  await waitFor(async () => agent.locator("[data-testid=share-key]").getAttribute("data-key"), "a screen-share key first");
  await agent.locator("[data-testid=share-key-for-cobrowse]").click();
  assert.equal(await agent.locator("[data-testid=share-key-for-cobrowse]").getAttribute("aria-pressed"), "true");
  const key = await waitFor(async () => agent.locator("[data-testid=share-key]").getAttribute("data-key"), "a co-browsing key");

  const caller = await stack.page("caller");
  await caller.goto(stack.base + "/demo/transfer");
  await caller.locator("[data-sightline] [data-testid=launcher]").click();
  await caller.locator("[data-sightline] [data-testid=have-code]").click();
  await caller.locator("[data-sightline] [data-testid=share-code-input]").fill(key);
  await caller.locator("[data-sightline] [data-testid=share-code-submit]").click();
  await widget(caller, "cobrowse-request").waitFor({ state: "visible" });
  assert.equal(await caller.locator("[data-sightline] [data-testid=share-invite-card]").count(), 0, "not asked for a screen share");
  await agent.locator("[data-testid=share-key-dialog]").waitFor({ state: "detached" });
  await waitFor(async () => (await agentState(agent)) === "asked", "the console opened the caller's conversation, co-browsing asked");
  await widget(caller, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  assert.match(await agent.locator("[data-testid=transcript]").textContent(), /joined Administrator with a session key/);
  assertNoProblems(stack);
});

test("the visitor leaves the site: the agent is told, and the mirror goes on when they come back", { timeout: 120000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse test h" });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  assert.equal(await agent.locator("[data-testid=cobrowse-away]").isHidden(), true);
  // Another site (a page without the widget).
  await visitor.goto("about:blank");
  await agent.locator("[data-testid=cobrowse-away]").waitFor({ state: "visible" });
  assert.match(await agent.locator("[data-testid=cobrowse-away]").textContent(), /left the pages that can be mirrored/);
  assert.equal(await agent.locator("[data-testid=cobrowse-link]").getAttribute("data-state"), "away", "the link says so too, not Live");
  await visitor.goto(stack.base + "/demo/account");
  await agent.locator("[data-testid=cobrowse-away]").waitFor({ state: "hidden" });
  await waitFor(async () => /\/demo\/account$/.test((await agent.locator("[data-testid=cobrowse-url]").textContent().catch(() => "")) ?? ""), "mirror back on the site");
  assert.equal(await agentState(agent), "active");

  // Again, while another tab of the site keeps the visitor online: the co-browsing
  // tab's own absence is what counts.
  const other = await visitor.context().newPage();
  await other.goto(stack.base + "/demo");
  await other.locator("[data-sightline]").waitFor({ state: "attached" });
  await visitor.goto("about:blank");
  await agent.locator("[data-testid=cobrowse-away]").waitFor({ state: "visible" });
  assert.equal(await agent.locator("[data-testid=presence]").first().textContent(), "Online", "the visitor is online all the same (the other tab)");
  await visitor.goto(stack.base + "/demo/transfer");
  await agent.locator("[data-testid=cobrowse-away]").waitFor({ state: "hidden" });
  await waitFor(async () => /\/demo\/transfer$/.test((await agent.locator("[data-testid=cobrowse-url]").textContent().catch(() => "")) ?? ""), "mirror back again");
  await other.close();
  assertNoProblems(stack);
});

test("a single-page app's route change is followed: a fresh picture, the new address and a transcript line", { timeout: 120000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse test spa" });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => /\/demo\/transfer$/.test((await agent.locator("[data-testid=cobrowse-url]").textContent().catch(() => "")) ?? ""), "mirror on the transfer page");
  const pageLines = agent.locator("[data-testid=system][data-kind=page_viewed]");
  await waitFor(async () => (await pageLines.count()) === 1, "the first page in the transcript");
  // The page's own router: a new address, a new title, new content; no load.
  await visitor.evaluate(() => {
    history.pushState({}, "", "/demo/app/cards?tab=2");
    document.title = "Your cards";
    const p = document.createElement("p");
    p.id = "spa-route";
    p.textContent = "Cards route";
    document.body.appendChild(p);
  });
  await waitFor(async () => /\/demo\/app\/cards\?tab=2$/.test((await agent.locator("[data-testid=cobrowse-url]").textContent().catch(() => "")) ?? ""), "the mirror shows the new address");
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#spa-route")?.textContent)) === "Cards route", "the route's content in the mirror");
  await waitFor(async () => (await pageLines.count()) === 2, "a transcript line for the route");
  assert.match((await pageLines.allTextContents())[1], /opened “Your cards” \(\/demo\/app\/cards\)/, "without its query");
  // Back: the first page again, also a line (it is a page the visitor went to).
  await visitor.goBack();
  await waitFor(async () => /\/demo\/transfer$/.test((await agent.locator("[data-testid=cobrowse-url]").textContent().catch(() => "")) ?? ""), "back on the transfer page");
  await waitFor(async () => (await pageLines.count()) === 3, "a line for going back");
  assert.equal(await visitor.evaluate(() => location.pathname), "/demo/transfer", "no page was loaded: the same document");
  assert.equal(await visitor.evaluate(() => document.querySelector("#spa-route")?.textContent), "Cards route");
  assertNoProblems(stack);
});

test("the keyboard cannot reach into the mirror: a link there is not followed", { timeout: 120000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse test keys" });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelectorAll("a[href]").length)) > 0, "the mirror has links");
  const asked = [];
  agent.on("request", (r) => asked.push(new URL(r.url()).pathname));
  const inside = () => agent.evaluate(() => {
    const frame = document.querySelector("[data-testid=cobrowse-mirror] iframe");
    const doc = /** @type {HTMLIFrameElement | null} */ (frame)?.contentDocument;
    return document.activeElement === frame || (!!doc && doc.activeElement !== doc.body && doc.activeElement !== null);
  });
  // Tab through the whole console: the focus never enters the mirror, so no
  // link in it can be followed with Enter.
  await agent.locator("[data-testid=cobrowse-mirror]").click({ position: { x: 20, y: 20 } });
  for (let i = 0; i < 60; i++) {
    await agent.keyboard.press("Tab");
    assert.equal(await inside(), false, `Tab ${i + 1} put the focus inside the mirror`);
  }
  assert.equal(await inMirror(agent, (doc) => doc.activeElement === doc.body || doc.activeElement === null), true);
  // A later change on the visitor's page reaches the mirror: it is still the
  // visitor's page, and the agent's browser asked for none of the page's links.
  await visitor.evaluate(() => {
    const p = document.createElement("p");
    p.id = "after-keys";
    p.textContent = "still mirrored";
    document.body.appendChild(p);
  });
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#after-keys")?.textContent)) === "still mirrored", "the mirror goes on");
  assert.deepEqual(asked.filter((p) => p.startsWith("/demo")), [], "no page of the visitor's site was requested");
  assertNoProblems(stack);
});

test("a console that joins late (reloaded) starts from a fresh snapshot of the page as it is now", { timeout: 120000 }, async () => {
  await fresh();
  const { agent, visitor } = await startChat(stack, { visitorUrl: stack.base + "/demo/transfer", text: "cobrowse test late" });
  await ask(agent);
  await widget(visitor, "cobrowse-allow").click();
  await waitFor(async () => (await agent.locator("[data-testid=cobrowse-mirror]").getAttribute("data-live")) === "true", "mirror live");
  await agent.reload();
  // While the console is away the page changes: only a fresh snapshot can show it.
  await visitor.evaluate(() => {
    const p = document.createElement("p");
    p.id = "while-away";
    p.textContent = "changed while the agent was away";
    document.body.appendChild(p);
  });
  // Its own conversation, open again.
  await agent.locator("[data-testid=mine-list] li").first().click();
  await waitFor(async () => (await inMirror(agent, (doc) => doc.querySelector("#while-away")?.textContent)) === "changed while the agent was away", "the reloaded console shows the page as it is now");
  assert.equal(await agentState(agent), "active");
  assertNoProblems(stack);
});

// Last in this file: everything the real widget sent in the tests above went
// through the relay's checks of shape and size (docs/protocol.md, "Stream
// messages"), and none of it was refused.
test("every message the widget sent passed the relay's checks", async () => {
  const metrics = await (await fetch(stack.base + "/metrics")).text();
  const value = (name) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(metrics)?.[1] ?? NaN);
  assert.equal(value("sightline_stream_messages_refused_total"), 0, "no message refused");
  assert.ok(value("sightline_stream_messages_checked_total") > 20, `checked: ${value("sightline_stream_messages_checked_total")}`);
});

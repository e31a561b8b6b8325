// Office hours from the configuration, as a visitor sees them: outside them the
// widget says nobody is available and takes an e-mail address although an agent
// is logged in and Available; inside them the same visitor is answered as usual.
// The hours are written around the current time in Asia/Kolkata (UTC+05:30, no
// daylight saving time), so a server that read them in UTC, or ignored the day,
// would be open when it should be closed or the other way round.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertNoProblems, useStack } from "./fixture.mjs";
import { acceptByPreview, agentSend, login, openWidget, visitorSend, waitFor, waitForConsoleTexts, waitForWidgetTexts } from "./harness.mjs";

const ZONE = "Asia/Kolkata";
const HOUR = 3600_000;

/** Day and clock of the instant `ms` in ZONE, as office_hours writes them ("Tue", "21:58"). */
function local(ms) {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(ms));
  const part = (type) => parts.find((p) => p.type === type)?.value;
  return { day: part("weekday"), clock: `${part("hour")}:${part("minute")}` };
}

/**
 * One office_hours entry open from `fromMs` to `toMs` (less than a day apart): the
 * day `fromMs` falls on, and a range that runs past midnight when it ends earlier
 * on the clock than it starts.
 */
function openBetween(fromMs, toMs) {
  const from = local(fromMs);
  return `${from.day} ${from.clock}-${local(toMs).clock}`;
}

function hoursConfig(entry) {
  return `office_hours = [${JSON.stringify(entry)}]\ntime_zone = "${ZONE}"\n`;
}

const subtitle = (page) => page.locator("[data-testid=subtitle]").textContent();

/** The agent is logged in, online and Available: nothing but the hours keeps them from visitors. */
async function availableAgent(stack) {
  const agent = await stack.page("agent");
  await login(agent, stack.base, "admin", stack.server.adminPassword);
  const away = agent.locator("[data-testid=away-toggle]");
  assert.equal(await away.getAttribute("aria-pressed"), "false");
  assert.equal(await away.textContent(), "Available");
  return agent;
}

// Outside: open from an hour from now to an hour before now, a day later; now
// is in the two closed hours. Computed when the file loads, the server reads it
// a moment later, and the test ends long before an hour has passed.
const now = Date.now();
const closedEntry = openBetween(now + HOUR, now + 23 * HOUR);
// Inside: open from an hour ago to an hour from now, on no other day.
const openEntry = openBetween(now - HOUR, now + HOUR);

describe("outside office hours", () => {
  const stack = useStack({ serverConfig: hoursConfig(closedEntry) });

  test(`nobody is available and the visitor leaves an address (open ${closedEntry} ${ZONE})`, { timeout: 120000 }, async () => {
    const agent = await availableAgent(stack);
    // The agent is told why visitors hear that no one is available.
    const closed = agent.locator("[data-testid=office-closed]");
    await closed.waitFor({ state: "visible" });
    assert.equal(await closed.textContent(), "Outside office hours");
    if (process.env.E2E_SHOTS) await agent.screenshot({ path: `${process.env.E2E_SHOTS}/office-closed.png` });
    const visitor = await stack.page("visitor");
    await visitor.goto(stack.base + "/demo");
    await openWidget(visitor);
    await waitFor(async () => (await visitor.locator("[data-testid=status]").getAttribute("data-state")) === "online", "the widget is welcomed");
    assert.equal(await subtitle(visitor), "No one is available right now");

    await visitorSend(visitor, "Are you open today?");
    await waitForWidgetTexts(visitor, ["Are you open today?"]);
    const form = visitor.locator("[data-testid=away]");
    await form.waitFor({ state: "visible" });
    assert.match(await form.textContent(), /Leave your e-mail address/);
    await visitor.locator("[data-testid=email]").fill("omar@example.com");
    await visitor.locator("[data-testid=email-save]").click();
    await waitFor(async () => (await visitor.locator("[data-testid=system]").allTextContents()).includes("We will reply to omar@example.com."), "the widget confirms");
    await form.waitFor({ state: "detached" });
    assert.equal(await subtitle(visitor), "No one is available right now", "still closed");

    // The agent finds the conversation and the address in the queue.
    const item = agent.locator("[data-testid=queue-waiting] [data-testid=queue-item]", { hasText: "Are you open today?" });
    await item.click();
    await waitFor(async () => (await agent.locator("[data-testid=chat-email]").textContent()) === "✉ omar@example.com", "the address in the header");
    assertNoProblems(stack);
  });
});

describe("inside office hours", () => {
  const stack = useStack({ serverConfig: hoursConfig(openEntry) });

  test(`the visitor is answered as usual (open ${openEntry} ${ZONE})`, { timeout: 120000 }, async () => {
    const agent = await availableAgent(stack);
    const visitor = await stack.page("visitor");
    await visitor.goto(stack.base + "/demo");
    await openWidget(visitor);
    await waitFor(async () => (await visitor.locator("[data-testid=status]").getAttribute("data-state")) === "online", "the widget is welcomed");
    assert.equal(await subtitle(visitor), "We typically reply in a few minutes");
    assert.equal(await agent.locator("[data-testid=office-closed]").count(), 0, "no office-hours notice inside them");

    await visitorSend(visitor, "Are you open today?");
    await waitForWidgetTexts(visitor, ["Are you open today?"]);
    await acceptByPreview(agent, "Are you open today?");
    await waitForConsoleTexts(agent, ["Are you open today?"]);
    await agentSend(agent, "We are, how can I help?");
    await waitForWidgetTexts(visitor, ["Are you open today?", "We are, how can I help?"]);
    // The answer came after the widget would have offered the form: it did not.
    assert.equal(await visitor.locator("[data-testid=away]").count(), 0, "no e-mail form");
    assertNoProblems(stack);
  });
});

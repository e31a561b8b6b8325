import { test } from "node:test";
import assert from "node:assert/strict";
import { browserLine, capabilityLines, cobrowseOffer, localTime, screenOffer } from "../src/lib/visitor-details";

test("the visitor's local time comes from their offset, whatever the agent's zone", () => {
  const noonUtc = Date.UTC(2026, 11, 1, 12, 0);
  assert.equal(localTime(60, noonUtc), "13:00 (UTC+1)");
  assert.equal(localTime(0, noonUtc), "12:00 (UTC)");
  assert.equal(localTime(-300, noonUtc), "07:00 (UTC−5)");
  assert.equal(localTime(330, noonUtc), "17:30 (UTC+5:30)");
  assert.equal(localTime(-720, Date.UTC(2026, 11, 1, 5, 0)), "17:00 (UTC−12)", "the day before");
});

test("capabilities and the browser in words", () => {
  const phone = { page: null, browser: "Safari 18", os: "iOS 18.1 (iPhone)", device: { can_share_screen: false, can_cobrowse: true, touch: true, utc_offset_minutes: 60 } };
  assert.deepEqual(capabilityLines(phone), [
    ["Screen share", "no (a phone or tablet: ask for a screenshot)"],
    ["Co-browse", "yes"],
  ]);
  assert.equal(capabilityLines(null)[0][1], "not known (an older widget)");
  assert.equal(browserLine(phone), "Safari 18 on iOS 18.1 (iPhone)");
  assert.equal(browserLine({ page: null, browser: null, os: "Linux", device: null }), "Linux");
  assert.equal(browserLine(undefined), "unknown");
});

test("what the agent is offered follows the visitor's device", () => {
  const device = { can_share_screen: true, can_cobrowse: true, touch: false, utc_offset_minutes: 0 };
  const desktop = { page: null, browser: "Chrome 140", os: "Linux", device };
  assert.equal(screenOffer(desktop).ask, "share");
  assert.equal(screenOffer(null).ask, "share", "an older widget: the share reports its own failure");
  const phone = { ...desktop, device: { ...device, can_share_screen: false, touch: true } };
  assert.deepEqual(screenOffer(phone), {
    ask: "screenshot",
    why: "The visitor is on a phone or tablet, which cannot share its screen: ask them for a screenshot instead",
  });
  const noCapture = { ...desktop, device: { ...device, can_share_screen: false } };
  assert.match(screenOffer(noCapture).why, /^The visitor's browser cannot share its screen/);
  assert.equal(cobrowseOffer(phone).offered, true);
  assert.deepEqual(cobrowseOffer({ ...desktop, device: { ...device, can_cobrowse: false } }), { offered: false, why: "The visitor's page cannot be co-browsed (a session-key call has no page of theirs to see)" });
  assert.equal(cobrowseOffer(undefined).offered, true);
});

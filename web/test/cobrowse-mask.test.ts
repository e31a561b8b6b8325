import { test } from "node:test";
import assert from "node:assert/strict";
import { maskToggles } from "../src/lib/cobrowse-mask";

// Node 5 is a checkbox marked visible; 6 and 7 are unmarked radio buttons; 8 is text; 99 unknown.
const hidden = (id: number) => id !== 5 && id !== 8;

test("a hidden toggle's ticked state leaves neither in snapshots, added nodes, attribute changes nor input events", () => {
  const box = (id: number) => ({ type: 2, tagName: "input", id, attributes: { type: "checkbox", checked: true }, childNodes: [] });
  const snapshot = { type: 2, timestamp: 1, data: { node: { type: 0, childNodes: [box(5), box(6), box(99)] } } };
  assert.equal(maskToggles(snapshot, hidden), snapshot);
  const kids = snapshot.data.node.childNodes;
  assert.deepEqual(kids.map((k) => "checked" in k.attributes), [true, false, false], "kept only where marked visible; unknown nodes fail closed");

  const mutation = { type: 3, timestamp: 2, data: { source: 0, texts: [], removes: [], adds: [{ parentId: 1, nextId: null, node: box(7) }], attributes: [{ id: 6, attributes: { checked: "" } }, { id: 5, attributes: { checked: "" } }] } };
  maskToggles(mutation, hidden);
  assert.equal("checked" in mutation.data.adds[0].node.attributes, false);
  assert.deepEqual(mutation.data.attributes.map((a) => "checked" in a.attributes), [false, true]);

  // Input events of hidden toggles are dropped whole (their order would tell which radio was chosen).
  assert.equal(maskToggles({ type: 3, timestamp: 3, data: { source: 5, id: 6, text: "on", isChecked: true } }, hidden), null);
  assert.equal(maskToggles({ type: 3, timestamp: 3, data: { source: 5, id: 7, text: "on", isChecked: false } }, hidden), null);
  const shown = { type: 3, timestamp: 3, data: { source: 5, id: 5, text: "on", isChecked: true } };
  assert.equal(maskToggles(shown, hidden), shown);
  // Text inputs' events are not toggles: their values are masked elsewhere.
  const typed = { type: 3, timestamp: 4, data: { source: 5, id: 8, text: "••••••••", isChecked: false } };
  assert.equal(maskToggles(typed, hidden), typed);
});

test("a meta event's enormous page URL is cut to what the relay takes; other events pass as they are", async () => {
  const { fitForRelay } = await import("../src/lib/cobrowse-mask");
  const { MAX_PAGE_URL_CHARS } = await import("../src/protocol.gen");
  const long = { type: 4, timestamp: 1, data: { href: "https://shop.example/?q=" + "x".repeat(5000), width: 1, height: 1 } };
  const cut = fitForRelay(long) as typeof long;
  assert.equal(cut.data.href.length, MAX_PAGE_URL_CHARS);
  assert.ok(cut.data.href.startsWith("https://shop.example/?q=x"));
  const short = { type: 4, timestamp: 1, data: { href: "https://shop.example/", width: 1, height: 1 } };
  assert.deepEqual(fitForRelay(structuredClone(short)), short);
  const other = { type: 3, timestamp: 1, data: { source: 1, href: "x".repeat(5000) } };
  assert.equal((fitForRelay(other) as typeof other).data.href.length, 5000);
});

test("style sheets adopted by a blocked element's shadow root are dropped; the page's own stay", async () => {
  const { isBlockedSheets } = await import("../src/lib/cobrowse-mask");
  const blocked = (id: number) => id === 40;
  assert.equal(isBlockedSheets({ type: 3, timestamp: 1, data: { source: 15, id: 40, styles: [] } }, blocked), true);
  assert.equal(isBlockedSheets({ type: 3, timestamp: 1, data: { source: 15, id: 1, styles: [] } }, blocked), false, "the document's sheets");
  assert.equal(isBlockedSheets({ type: 3, timestamp: 1, data: { source: 0, id: 40 } }, blocked), false, "other events");
  assert.equal(isBlockedSheets({ type: 2, timestamp: 1, data: { node: {} } }, blocked), false);
});

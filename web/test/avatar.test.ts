import { test } from "node:test";
import assert from "node:assert/strict";
import { AVATAR_COLOURS, avatarColour, initials } from "../src/lib/avatar";

/** WCAG relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

test("every avatar colour carries white initials at WCAG AA contrast", () => {
  for (const [name, { hex }] of Object.entries(AVATAR_COLOURS)) {
    const ratio = (1 + 0.05) / (luminance(hex) + 0.05);
    assert.ok(ratio >= 4.5, `${name} ${hex}: ${ratio.toFixed(2)}:1`);
  }
});

test("initials take the first and last word; odd names fall back", () => {
  assert.equal(initials("Anna Kovacs"), "AK");
  assert.equal(initials("  anna  "), "A");
  assert.equal(initials("Jean de la Fontaine"), "JF");
  assert.equal(initials("Émile Zola"), "ÉZ");
  assert.equal(initials("😀 Smile"), "😀S");
  assert.equal(initials("   "), "?");
});

test("only palette names are colours", () => {
  assert.equal(avatarColour("teal"), "teal");
  assert.equal(avatarColour("toString"), null);
  assert.equal(avatarColour("#ff0000"), null);
  assert.equal(avatarColour(null), null);
});

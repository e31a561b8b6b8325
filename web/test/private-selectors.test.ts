import { test } from "node:test";
import assert from "node:assert/strict";
import { usableSelectors, withExtra } from "../src/lib/private-selectors";

// Stands in for the browser: refuses what a browser would not parse here.
const parses = (s: string) => {
  if (s.includes("::nope") || s.endsWith(",")) throw new SyntaxError(`not a selector: ${s}`);
};

test("a selector the browser cannot parse is skipped and the others still apply", () => {
  assert.equal(usableSelectors([".balance", "a::nope", "#iban"], parses), ".balance, #iban");
  assert.equal(usableSelectors(["a::nope"], parses), "");
  assert.equal(usableSelectors([], parses), "");
});

test("the extra selectors are added to the list of the built-in ones", () => {
  assert.equal(withExtra("[data-sightline-private]", ".balance, #iban"), "[data-sightline-private], .balance, #iban");
  assert.equal(withExtra("[data-sightline-private]", ""), "[data-sightline-private]");
});

// axe-core in the page, for the accessibility checks of the browser tests.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * Runs axe-core's WCAG 2.0/2.1/2.2 A and AA rules on the page (open shadow roots
 * included, so the widget too) and fails with every serious or critical violation:
 * its rule, what it asks for and the elements, so that each can be found and fixed.
 */
export async function assertAccessible(page, label) {
  // Colours are measured as painted: let transitions (the widget's panel fades in) end.
  await page.evaluate(() => {
    const roots = [document, ...Array.from(document.querySelectorAll("sightline-widget"), (h) => /** @type {ShadowRoot} */ (h.shadowRoot))];
    const ending = roots.flatMap((r) => r.getAnimations()).filter((a) => a.effect?.getComputedTiming().endTime !== Infinity);
    return Promise.all(ending.map((a) => a.finished.catch(() => {})));
  });
  // Evaluated through the DevTools protocol: the console's Content-Security-Policy
  // would refuse an inline script tag.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = /** @type {any} */ (window).axe;
    const result = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
      resultTypes: ["violations"],
    });
    return result.violations.map((/** @type {any} */ v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((/** @type {any} */ n) => ({ impact: n.impact, target: n.target, why: n.failureSummary })),
    }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n` + v.nodes.map((n) => `    ${JSON.stringify(n.target)}\n      ${String(n.why).replace(/\n/g, "\n      ")}`).join("\n"))
    .join("\n");
  assert.equal(bad.length, 0, `[${label}] axe found serious or critical violations:\n${report}`);
}


// The mirror on pages with shadow DOM, same-site frames, linked, imported,
// inserted and adopted stylesheets, form fields and large mutations: for each
// page, the text a person can see on the visitor's page must be the text a
// person can see in the agent's mirror (input values aside: they are masked).
//
// The pages are served from another origin than the console's, each with the
// widget, and the visitor goes from one to the next under one consent. By
// default they are web/e2e/fixtures/mirror/; SIGHTLINE_MIRROR_FIXTURES (a list
// of directories, separated by ":") runs the same comparison on pages written
// elsewhere, such as rrweb's and Sentry's replay test fixtures, which are not
// part of this repository: it then prints a table instead of failing.

import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { assertNoProblems } from "./fixture.mjs";
import { waitFor } from "./harness.mjs";
import { startChat, useShareStack } from "./share-harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const OWN = path.join(here, "fixtures", "mirror");
const external = (process.env.SIGHTLINE_MIRROR_FIXTURES ?? "").split(":").filter(Boolean);
const dirs = external.length ? external : [OWN];

const TYPES = { ".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript", ".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".gif": "image/gif", ".woff2": "font/woff2" };

/** Pages named frame… are the content of other pages' frames, not pages of their own. */
const isFramePage = (file) => path.basename(file).startsWith("frame");

/** A static server for one directory; HTML pages get the widget. */
function siteFor(dir, host) {
  const site = { dir, origin: "", server: http.createServer(), widget: "" };
  site.server.on("request", (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/+/, "");
    const file = path.join(dir, rel);
    if (!file.startsWith(dir) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404);
      res.end();
      return;
    }
    const ext = path.extname(file);
    let body = readFileSync(file);
    // Same-site frames load the page alone; the top page gets the widget.
    if (ext === ".html" && !isFramePage(rel)) {
      const tag = `<script src="${site.widget}" async></script>`;
      const html = body.toString("utf8");
      body = Buffer.from(html.includes("</body>") ? html.replace("</body>", `${tag}</body>`) : html + tag);
    }
    res.writeHead(200, { "content-type": TYPES[ext] ?? "application/octet-stream" });
    res.end(body);
  });
  site.listen = () => new Promise((r) => site.server.listen(0, host, () => ((site.origin = `http://${host}:${/** @type {import("node:net").AddressInfo} */ (site.server.address()).port}`), r(undefined))));
  return site;
}

const sites = dirs.map((d, i) => siteFor(path.resolve(d), `127.0.0.${10 + i}`));

const stack = useShareStack({
  beforeServer: async () => {
    for (const s of sites) await s.listen();
  },
  allowedOrigins: () => sites.map((s) => s.origin),
  afterServer: async (s) => {
    for (const site of sites) site.widget = `${s.base}/widget.js`;
  },
  cleanup: async () => {
    for (const s of sites) await new Promise((r) => s.server.close(r));
  },
});

/** The text a person can see in a document: shadow roots and same-origin frames included, form values and the widget left out. */
function visibleText(doc) {
  const out = [];
  const skip = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TEXTAREA", "SELECT", "OPTION", "TITLE", "HEAD", "SIGHTLINE-WIDGET"]);
  const walk = (node, depth) => {
    if (depth > 500) return;
    if (node.nodeType === 3) {
      const parent = node.parentElement;
      const text = (node.textContent ?? "").replace(/\s+/g, " ").trim();
      if (text && parent && (!parent.checkVisibility || parent.checkVisibility({ visibilityProperty: true }))) out.push(text);
      return;
    }
    if (node.nodeType === 1) {
      if (skip.has(node.tagName) || node.hasAttribute("data-sightline") || node.hasAttribute("data-sightline-private")) return;
      if (node.shadowRoot) walk(node.shadowRoot, depth + 1);
      if (node.tagName === "IFRAME") {
        try {
          if (node.contentDocument?.body) walk(node.contentDocument.body, depth + 1);
        } catch {
          // Another origin's frame: neither side shows its text here.
        }
        return;
      }
    }
    for (const child of node.childNodes) walk(child, depth + 1);
  };
  if (doc.body) walk(doc.body, 0);
  return out;
}

const widget = (page, id) => page.locator(`[data-sightline] [data-testid=${id}]`);

/**
 * The pages of a directory and its subdirectories (Sentry's fixtures are
 * `suites/replay/<case>/template.html`), as paths relative to it with "/".
 */
function htmlPages(dir, rel = "") {
  return readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return e.name === "node_modules" || e.name.startsWith(".") ? [] : htmlPages(dir, p);
    return e.isFile() && e.name.endsWith(".html") && !isFramePage(e.name) ? [p] : [];
  });
}

test("the mirror shows the text the visitor sees, page after page", { timeout: external.length ? 3_600_000 : 600_000 }, async () => {
  const pages = sites.flatMap((s) =>
    htmlPages(s.dir)
      .sort()
      .map((f) => ({ site: s, file: f })),
  );
  assert.ok(pages.length > 0, "pages to compare");
  const results = [];
  let agent = null;
  let visitor = null;
  let consentOrigin = "";
  for (const { site, file } of pages) {
    const url = `${site.origin}/${file}`;
    // Consent is per tab and origin: each directory's first page asks again.
    if (consentOrigin !== site.origin) {
      const started = await startChat(stack, { visitorUrl: url, text: `fixtures ${path.basename(site.dir)}`, agentPage: agent ?? undefined });
      agent = started.agent;
      visitor = started.visitor;
      await agent.locator("[data-testid=cobrowse-invite]").click();
      await agent.locator("[data-testid=dialog-submit]").click();
      await widget(visitor, "cobrowse-allow").click();
      consentOrigin = site.origin;
    } else {
      await visitor.goto(url);
    }
    const mirrorText = () =>
      agent.evaluate(
        ([source]) => {
          // The shown mirror (earlier conversations' mirrors stay in the page, hidden).
          const stage = [...document.querySelectorAll("[data-testid=cobrowse-mirror]")].find((m) => !(/** @type {HTMLElement} */ (m).hidden));
          const frame = /** @type {HTMLIFrameElement | null} */ (stage?.querySelector("iframe") ?? null);
          return frame?.contentDocument ? new Function("doc", `return (${source})(doc);`)(frame.contentDocument) : null;
        },
        [visibleText.toString()],
      );
    const visitorText = () => visitor.evaluate(([source]) => new Function("doc", `return (${source})(doc);`)(document), [visibleText.toString()]);
    let outcome = "same";
    let detail = "";
    try {
      await waitFor(async () => ((await agent.locator("[data-testid=cobrowse-url]").textContent().catch(() => "")) ?? "").endsWith(`/${file}`), `the mirror on ${file}`, external.length ? 10000 : 20000);
      // The page's own action, if it has one (a mutation to follow).
      const act = visitor.locator("#act");
      if ((await act.count()) > 0) await act.click();
      await waitFor(async () => JSON.stringify(await mirrorText()) === JSON.stringify(await visitorText()), `${file}: the mirror's text matches`, external.length ? 6000 : 15000);
    } catch {
      outcome = "different";
      const seen = (await visitorText()) ?? [];
      const shown = (await mirrorText()) ?? [];
      const missing = seen.filter((t) => !shown.includes(t));
      const extra = shown.filter((t) => !seen.includes(t));
      detail = `${seen.length} texts on the page, ${shown.length} in the mirror; missing ${JSON.stringify(missing.slice(0, 3))}${missing.length > 3 ? ` (+${missing.length - 3})` : ""}, extra ${JSON.stringify(extra.slice(0, 3))}`;
    }
    results.push({ page: `${path.basename(site.dir)}/${file}`, outcome, detail });
    if (external.length) process.stderr.write(`${outcome === "same" ? "same     " : "DIFFERENT"} ${path.basename(site.dir)}/${file}${detail ? `: ${detail}` : ""}\n`);
  }
  const same = results.filter((r) => r.outcome === "same").length;
  console.log(`mirror text comparison: ${same} of ${results.length} pages the same`);
  for (const r of results) console.log(`  ${r.outcome === "same" ? "same     " : "DIFFERENT"} ${r.page}${r.detail ? `: ${r.detail}` : ""}`);
  if (external.length === 0) {
    assert.deepEqual(results.filter((r) => r.outcome !== "same"), [], "every page mirrored as the visitor sees it");
    assertNoProblems(stack);
  }
});

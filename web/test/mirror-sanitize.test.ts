import { test } from "node:test";
import assert from "node:assert/strict";
import { ASSET_PROXY_PATH, rewriteCss, sanitizeEvents, type SanitizeState } from "../src/lib/mirror-sanitize";

const OWN = "https://console.example";
const proxied = (url: string) => `${ASSET_PROXY_PATH}?u=${encodeURIComponent(url)}`;

const el = (tagName: string, attributes: Record<string, unknown>, childNodes: unknown[] = [], id = 0) => ({ type: 2, tagName, attributes, childNodes, id });

test("a crafted snapshot loses refreshes, handlers, javascript: URLs, srcdoc and base", () => {
  const snapshot = {
    type: 2,
    timestamp: 1,
    data: {
      node: {
        type: 0,
        childNodes: [
          el("html", {}, [
            el("head", {}, [el("meta", { "http-equiv": "refresh", content: "0;url=/api/logout" }), el("base", { href: "https://evil.example/" })]),
            el("body", { onload: "x()" }, [
              el("img", { src: "/a.png", OnError: "x()", alt: "fine" }),
              el("a", { href: " java\tscript:alert(1)", title: "t" }),
              el("a", { href: "https://shop.example/ok" }),
              el("iframe", { srcdoc: "<script>x()</script>", src: "JAVASCRIPT:x()" }),
              el("form", { action: "javascript:x()" }),
              el("object", { data: "data:text/html,<script>x()</script>" }),
            ]),
          ]),
        ],
      },
    },
  };
  sanitizeEvents([snapshot], OWN);
  const json = JSON.stringify(snapshot);
  assert.doesNotMatch(json, /http-equiv|onload|OnError|javascript|srcdoc|evil\.example|data:text\/html/i);
  assert.match(json, /"alt":"fine"/);
  assert.match(json, /"href":"https:\/\/shop\.example\/ok"/);
  assert.match(json, /"content":"0;url=\/api\/logout"/, "harmless without http-equiv");
});

test("mutations are cleaned too: added nodes and changed attributes", () => {
  const mutation = {
    type: 3,
    timestamp: 2,
    data: {
      source: 0,
      texts: [],
      removes: [],
      adds: [{ parentId: 1, nextId: null, node: el("meta", { "http-equiv": "refresh", content: "0" }) }],
      attributes: [{ id: 5, attributes: { onclick: "x()", href: "javascript:x()", class: "ok" } }],
    },
  };
  sanitizeEvents([mutation, null, "junk", { type: 3, data: { source: 1 } }], OWN);
  assert.deepEqual(mutation.data.adds[0].node.attributes, { content: "0" });
  assert.deepEqual(mutation.data.attributes[0].attributes, { class: "ok" });
});

test("what the mirror loads from elsewhere goes through the asset proxy; the console's API is never loaded", () => {
  const css = "body{background:url(https://cdn.example/bg.png)} @import 'https://shop.example/theme.css';";
  const link = el("link", { rel: "stylesheet", href: "https://shop.example/site.css" });
  const styled = el("style", { _cssText: css });
  const img = el("img", { src: "https://shop.example/a.png", srcset: "https://shop.example/a.png 1x, /api/me 2x, https://shop.example/b.png 2x" });
  const own = el("img", { src: "/demo/logo.svg" });
  const api = el("img", { src: "/api/logout", style: "background:url(/ws/agent)" });
  const other = [el("img", { src: "blob:https://shop.example/1" }), el("img", { src: "data:image/png;base64,AA==" }), el("a", { href: "https://console.example/api/conversations" }), el("a", { href: "https://shop.example/next" })];
  const snapshot = { type: 2, timestamp: 1, data: { node: { type: 0, childNodes: [el("html", {}, [el("head", {}, [link, styled]), el("body", {}, [img, own, api, ...other])])] } } };
  sanitizeEvents([snapshot], OWN);
  assert.equal(link.attributes.href, proxied("https://shop.example/site.css"));
  assert.equal(styled.attributes._cssText, `body{background:url("${proxied("https://cdn.example/bg.png")}")} @import "${proxied("https://shop.example/theme.css")}";`);
  assert.equal(img.attributes.src, proxied("https://shop.example/a.png"));
  assert.equal(img.attributes.srcset, `${proxied("https://shop.example/a.png")} 1x, ${proxied("https://shop.example/b.png")} 2x`);
  assert.equal(own.attributes.src, "https://console.example/demo/logo.svg");
  assert.equal(api.attributes.src, undefined);
  assert.equal(api.attributes.style, 'background:url("about:invalid")');
  assert.equal(other[0].attributes.src, undefined, "a blob of the visitor's page");
  assert.equal(other[1].attributes.src, "data:image/png;base64,AA==");
  assert.equal(other[2].attributes.href, undefined, "a link to the console's API");
  assert.equal(other[3].attributes.href, "https://shop.example/next", "links load nothing");
});

test("stylesheet changes are rewritten; fonts and canvas drawings are dropped", () => {
  const state: SanitizeState = { styleTexts: new Set() };
  const text = { type: 3, id: 7, isStyle: true, textContent: "a{background:url(https://shop.example/1.png)}" };
  const snapshot = { type: 2, timestamp: 1, data: { node: { type: 0, childNodes: [el("style", {}, [text])] } } };
  const styleText = { type: 3, timestamp: 2, data: { source: 0, adds: [], removes: [], attributes: [], texts: [{ id: 7, value: "b{background:url(https://shop.example/2.png)}" }, { id: 8, value: "prose about url(x)" }] } };
  const styleDiff = { type: 3, timestamp: 2, data: { source: 0, adds: [], removes: [], texts: [], attributes: [{ id: 9, attributes: { style: { background: "url(https://shop.example/3.png)", color: ["red", "important"], "background-image": ["url(https://shop.example/4.png)", ""] } } }] } };
  const rule = { type: 3, timestamp: 3, data: { source: 8, id: 1, adds: [{ rule: "c{background:url(https://shop.example/5.png)}", index: 0 }], replace: "@import url(https://shop.example/6.css);" } };
  const declaration = { type: 3, timestamp: 4, data: { source: 13, id: 1, index: [0], set: { property: "background", value: "url(https://shop.example/7.png)" } } };
  const adopted = { type: 3, timestamp: 5, data: { source: 15, id: 1, styleIds: [1], styles: [{ styleId: 1, rules: [{ rule: "d{background:url(https://shop.example/8.png)}" }] }] } };
  const font = { type: 3, timestamp: 6, data: { source: 10, family: "x", fontSource: "https://evil.example/f.woff" } };
  const canvas = { type: 3, timestamp: 7, data: { source: 9, id: 3, commands: [] } };
  const kept = sanitizeEvents([snapshot, styleText, styleDiff, rule, declaration, adopted, font, canvas], OWN, state);
  assert.deepEqual(kept, [snapshot, styleText, styleDiff, rule, declaration, adopted]);
  const json = JSON.stringify(kept);
  for (let n = 1; n <= 8; n++) {
    const ext = n === 6 ? "css" : "png";
    assert.ok(json.includes(JSON.stringify(proxied(`https://shop.example/${n}.${ext}`)).slice(1, -1)), `asset ${n}: ${json}`);
  }
  assert.doesNotMatch(json, /"url\(https:/);
  assert.equal(styleText.data.texts[1].value, "prose about url(x)", "only style texts are stylesheets");
  assert.deepEqual(styleDiff.data.attributes[0].attributes.style.color, ["red", "important"]);
});

test("rewriteCss resolves what it can and copies what it cannot parse", () => {
  assert.equal(rewriteCss("i{background:url(data:image/png;base64,AA)} s{fill:url(#g)}", OWN), "i{background:url(data:image/png;base64,AA)} s{fill:url(#g)}");
  // An unquoted url() ends at the first ")" (CSS cannot put one inside it either).
  assert.equal(rewriteCss("x{background:url(javascript:alert(1))}", OWN), 'x{background:url("about:invalid"))}');
  assert.equal(rewriteCss("x{background:URL( 'https://shop.example/a b.png' )}", OWN), `x{background:url("${proxied("https://shop.example/a%20b.png")}")}`);
  for (const css of ["a{background:url(", "a{background:url('x.png", "@import 'x", 'a{b:url("x" c}', "no references"]) assert.equal(rewriteCss(css, OWN), css);
});

test("stylesheets cannot hide a URL of the console's API: unflagged style text, image-set() strings, escaped function names", () => {
  const state: SanitizeState = { styleTexts: new Set() };
  // A style element's text without rrweb's isStyle flag, in a snapshot and added later.
  const text = { type: 3, id: 21, textContent: "body{background:url(/api/me?plainstyle)}" };
  const snapshot = { type: 2, timestamp: 1, data: { node: { type: 0, childNodes: [el("style", {}, [text], 20)] } } };
  const added = { type: 3, id: 23, textContent: "p{background:url(/api/me?added)}" };
  const mutation = {
    type: 3,
    timestamp: 2,
    data: { source: 0, removes: [], attributes: [], texts: [{ id: 21, value: "i{background:url(/api/me?changed)}" }], adds: [{ parentId: 20, nextId: null, node: added }] },
  };
  const styled = el("div", { style: "background-image: image-set('/api/users?imageset' 1x, \"https://shop.example/2x.png\" 2x); x: -webkit-image-set(url(/api/users?webkit) 1x)" });
  const escaped = el("div", { style: "background:\\75rl(/api/conversations?escaped); b: \\000075 \\72\\6c(/api/x); c: u\\rl(/api/y)" });
  const tailwind = el("style", { _cssText: ".sm\\:flex{display:flex} .w-\\[calc\\(100\\%-2rem\\)\\]{width:calc(100% - 2rem)} i::before{content:\"\\f101\"}" });
  sanitizeEvents([snapshot, mutation, { type: 2, timestamp: 3, data: { node: { type: 0, childNodes: [styled, escaped, tailwind] } } }], OWN, state);
  const json = JSON.stringify([snapshot, mutation, styled, escaped]);
  // Left only inside invalid(…), which loads nothing.
  assert.doesNotMatch(json.replace(/invalid\([^)]*\)/g, ""), /\/api\/(me|users|conversations|x|y)/, json);
  assert.match(String(styled.attributes.style), new RegExp(encodeURIComponent("https://shop.example/2x.png").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  assert.match(String(escaped.attributes.style), /invalid\(/);
  // What no page hides anything behind is left alone.
  assert.equal(tailwind.attributes._cssText, ".sm\\:flex{display:flex} .w-\\[calc\\(100\\%-2rem\\)\\]{width:calc(100% - 2rem)} i::before{content:\"\\f101\"}");
});

test("a sheet of many references is rewritten in one pass (no search from every reference)", { timeout: 20000 }, () => {
  const css = "a{b:url(https://shop.example/x.png)}".repeat(100_000);
  const out = rewriteCss(css, OWN);
  assert.equal(out.split(ASSET_PROXY_PATH).length - 1, 100_000);
});

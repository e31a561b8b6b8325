import { test } from "node:test";
import assert from "node:assert/strict";
import { sanitizeEvents } from "../src/lib/mirror-sanitize";

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
  sanitizeEvents([snapshot]);
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
  sanitizeEvents([mutation, null, "junk", { type: 3, data: { source: 1 } }]);
  assert.deepEqual(mutation.data.adds[0].node.attributes, { content: "0" });
  assert.deepEqual(mutation.data.attributes[0].attributes, { class: "ok" });
});

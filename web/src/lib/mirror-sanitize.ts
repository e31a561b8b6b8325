// What the console's mirror accepts of a visitor's rrweb events. The mirror's
// sandbox (no scripts) and the console's CSP (no other origin) are the walls; this
// takes out what could still act inside them: a `<meta http-equiv>` (a refresh
// navigates the mirror's frame to any URL of the console's own origin, with the
// agent's cookies), event-handler attributes, `javascript:` URLs, `srcdoc` and
// `<base href>`. The visitor's browser may be anyone's: the events are treated as
// crafted, not as what rrweb's recorder would send. No DOM: tested under node.

const ELEMENT = 2;
const INCREMENTAL = 3;
const FULL_SNAPSHOT = 2;
const MUTATION = 0;

type Attributes = Record<string, unknown>;

interface SerializedNode {
  type?: unknown;
  tagName?: unknown;
  attributes?: Attributes;
  childNodes?: unknown;
}

const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "ping"]);

function dangerousUrl(value: unknown): boolean {
  if (typeof value !== "string") return false;
  // Browsers ignore ASCII whitespace and control characters inside the scheme.
  const scheme = value.replace(/[\u0000-\u0020]/g, "").toLowerCase();
  return scheme.startsWith("javascript:") || scheme.startsWith("vbscript:") || scheme.startsWith("data:text/html");
}

/** Removes what could act from one element's (or one mutation's) attributes. */
export function sanitizeAttributes(attributes: Attributes, tagName: string | null): void {
  for (const name of Object.keys(attributes)) {
    const lower = name.toLowerCase();
    if (lower.startsWith("on") || lower === "http-equiv" || lower === "srcdoc" || (URL_ATTRIBUTES.has(lower) && dangerousUrl(attributes[name]))) {
      delete attributes[name];
    } else if (tagName === "base" && lower === "href") {
      delete attributes[name];
    }
  }
}

function sanitizeNode(node: unknown, depth: number): void {
  if (!node || typeof node !== "object" || depth > 2000) return;
  const n = node as SerializedNode;
  if (n.type === ELEMENT && n.attributes && typeof n.attributes === "object") {
    sanitizeAttributes(n.attributes, typeof n.tagName === "string" ? n.tagName.toLowerCase() : null);
  }
  if (Array.isArray(n.childNodes)) for (const child of n.childNodes) sanitizeNode(child, depth + 1);
}

/** Sanitises rrweb events in place (full snapshots and DOM mutations). */
export function sanitizeEvents(items: unknown[]): void {
  for (const item of items) {
    const e = item as { type?: unknown; data?: Record<string, unknown> };
    if (!e || typeof e !== "object" || !e.data || typeof e.data !== "object") continue;
    if (e.type === FULL_SNAPSHOT) sanitizeNode(e.data.node, 0);
    else if (e.type === INCREMENTAL && e.data.source === MUTATION) {
      const adds = e.data.adds;
      if (Array.isArray(adds)) for (const add of adds) sanitizeNode((add as { node?: unknown })?.node, 0);
      const attributes = e.data.attributes;
      if (Array.isArray(attributes)) {
        for (const change of attributes) {
          const a = (change as { attributes?: unknown })?.attributes;
          if (a && typeof a === "object") sanitizeAttributes(a as Attributes, null);
        }
      }
    }
  }
}

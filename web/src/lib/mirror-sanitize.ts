// What the console's mirror accepts of a visitor's rrweb events. The mirror's
// sandbox (no scripts) and the console's CSP (no other origin) are the walls; this
// takes out what could still act inside them: a `<meta http-equiv>` (a refresh
// navigates the mirror's frame to any URL of the console's own origin, with the
// agent's cookies), event-handler attributes, `javascript:` URLs, `srcdoc` and
// `<base href>`. The visitor's browser may be anyone's: the events are treated as
// crafted, not as what rrweb's recorder would send. No DOM: tested under node.
//
// It also decides where the mirror loads things from. A stylesheet, font or image
// of another origin goes through the server's asset proxy (which fetches only
// from the configured site origins); a URL of the console's own origin is kept
// only for its static files, never for its API or sockets (so a crafted page
// cannot make the agent's browser call them with the agent's cookies); anything
// else that would load is dropped.

import { EventType, NodeType, Source } from "./rrweb-codes";

const { Element: ELEMENT, Text: TEXT } = NodeType;
const { IncrementalSnapshot: INCREMENTAL, FullSnapshot: FULL_SNAPSHOT } = EventType;
const { Mutation: MUTATION, CanvasMutation: CANVAS_MUTATION, Font: FONT, StyleSheetRule: STYLE_SHEET_RULE, StyleDeclaration: STYLE_DECLARATION, AdoptedStyleSheet: ADOPTED_STYLE_SHEET } = Source;

/** The server's asset proxy (crates/server/src/asset_proxy.rs). */
export const ASSET_PROXY_PATH = "/api/cobrowse/asset";

type Attributes = Record<string, unknown>;

interface SerializedNode {
  type?: unknown;
  tagName?: unknown;
  attributes?: Attributes;
  childNodes?: unknown;
}

/** Attributes that navigate when followed but load nothing by themselves. */
const NAVIGATION = new Set(["action", "formaction"]);
/** Elements whose `src`/`data` would load a document, a script or media: never through the proxy (it would refuse them anyway). */
const NO_LOAD = new Set(["script", "iframe", "frame", "object", "embed", "applet", "video", "audio", "track", "source", "portal"]);
/** Attributes whose URL the element loads. */
const LOADS = new Set(["src", "poster", "background", "data", "xlink:href", "rr_dataurl", "lowsrc", "longdesc", "manifest", "codebase", "archive", "cite", "icon", "profile"]);

function dangerousUrl(value: unknown): boolean {
  if (typeof value !== "string") return false;
  // Browsers ignore ASCII whitespace and control characters inside the scheme.
  const scheme = value.replace(/[\u0000-\u0020]/g, "").toLowerCase();
  return scheme.startsWith("javascript:") || scheme.startsWith("vbscript:") || scheme.startsWith("data:text/html");
}

/** A path of the console's own origin that a mirrored page may load: static files and the proxy, never the API or sockets. */
function ownPathAllowed(path: string): boolean {
  if (path === ASSET_PROXY_PATH) return true;
  return !/^\/(api|ws)(\/|$)/i.test(path) && path !== "/metrics" && path !== "/healthz";
}

/**
 * Where the mirror loads a resource URL of the visitor's page from: `null` drops
 * it. `own` is the console's origin (relative URLs resolve against it, as they
 * would in the mirror).
 */
export function mirrorUrl(value: string, own: string): string | null {
  const trimmed = value.trim();
  if (trimmed === "" || trimmed.startsWith("#")) return value;
  const scheme = trimmed.replace(/[\u0000-\u0020]/g, "").toLowerCase();
  if (scheme.startsWith("data:")) return scheme.startsWith("data:text/html") ? null : value;
  let url: URL;
  try {
    url = new URL(trimmed, own);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.origin === own) return ownPathAllowed(url.pathname) ? url.href : null;
  return `${ASSET_PROXY_PATH}?u=${encodeURIComponent(url.href)}`;
}

/** A navigation URL (a link, a form's action): kept unless it is dangerous or the console's API. */
function navigationUrl(value: unknown, own: string): boolean {
  if (typeof value !== "string" || dangerousUrl(value)) return false;
  try {
    const url = new URL(value.trim(), own);
    return !(url.origin === own && !ownPathAllowed(url.pathname));
  } catch {
    return true;
  }
}

function cssReference(raw: string, own: string): string | null {
  const value = raw.trim();
  if (value === "" || value.startsWith("#") || /^data:/i.test(value)) return null;
  if (value.includes("\\")) return "about:invalid";
  return mirrorUrl(value, own) ?? "about:invalid";
}

/** A CSS function whose name is written with escapes (`\75rl(` is `url(`): no page needs one. */
const ESCAPED_FUNCTION = /(?:[A-Za-z0-9_-]|\\[0-9a-fA-F]{1,6}[ \t\n]?|\\[^\n\r\f0-9a-fA-F])+(?<!\\)\(/g;
/** `image-set()` takes bare strings as URLs. */
const IMAGE_SET = /((?:-webkit-)?image-set\()((?:[^()]|\([^()]*\))*)\)/gi;

/**
 * Rewrites a stylesheet's `url(…)`, `image-set("…")` and `@import "…"` references
 * as {@link mirrorUrl} says (the server's rewrite_css, in TypeScript); a function
 * whose name hides behind escapes becomes `invalid(`, which loads nothing.
 */
export function rewriteCss(css: string, own: string): string {
  if (css.includes("\\")) css = css.replace(ESCAPED_FUNCTION, (m) => (m.includes("\\") ? "invalid(" : m));
  if (/image-set\(/i.test(css)) {
    css = css.replace(IMAGE_SET, (_m, open: string, inner: string) => {
      const strings = inner.replace(/(^|[\s,])(["'])([^"']*)\2/g, (_s, lead: string, quote: string, value: string) => {
        const next = cssReference(value, own);
        return `${lead}${quote}${next === null ? value : next}${quote}`;
      });
      return `${open}${strings})`;
    });
  }
  return rewriteUrls(css, own);
}

function rewriteUrls(css: string, own: string): string {
  const lower = css.toLowerCase();
  // Lowercasing must keep every offset; where it does not, work on the original.
  const find = lower.length === css.length ? lower : css;
  let out = "";
  let i = 0;
  const space = (c: string | undefined) => c !== undefined && /\s/.test(c);
  // Each search result is kept until passed: searching again from every
  // reference would make a sheet of many references quadratic.
  let u = find.indexOf("url(");
  let m = find.indexOf("@import");
  while (i < css.length) {
    if (u >= 0 && u < i) u = find.indexOf("url(", i);
    if (m >= 0 && m < i) m = find.indexOf("@import", i);
    if (u < 0 && m < 0) break;
    if (u >= 0 && (m < 0 || u < m)) {
      const start = u + 4;
      let j = start;
      while (space(css[j])) j++;
      let value: string;
      let end: number;
      if (css[j] === '"' || css[j] === "'") {
        const close = css.indexOf(css[j], j + 1);
        if (close < 0) break;
        value = css.slice(j + 1, close);
        let k = close + 1;
        while (space(css[k])) k++;
        if (css[k] !== ")") {
          out += css.slice(i, start);
          i = start;
          continue;
        }
        end = k + 1;
      } else {
        const close = css.indexOf(")", start);
        if (close < 0) break;
        value = css.slice(start, close);
        end = close + 1;
      }
      out += css.slice(i, u);
      const next = cssReference(value, own);
      out += next === null ? css.slice(u, end) : `url("${next}")`;
      i = end;
    } else {
      let j = m + "@import".length;
      while (space(css[j])) j++;
      if (css[j] === '"' || css[j] === "'") {
        const close = css.indexOf(css[j], j + 1);
        if (close >= 0) {
          out += css.slice(i, j);
          const next = cssReference(css.slice(j + 1, close), own);
          out += next === null ? css.slice(j, close + 1) : `"${next}"`;
          i = close + 1;
          continue;
        }
      }
      out += css.slice(i, j);
      i = j;
    }
  }
  return out + css.slice(i);
}

function rewriteSrcset(value: string, own: string): string {
  return value
    .split(",")
    .map((candidate) => {
      const parts = candidate.trim().split(/\s+/);
      const next = parts[0] ? mirrorUrl(parts[0], own) : null;
      return next === null ? "" : [next, ...parts.slice(1)].join(" ");
    })
    .filter((c) => c !== "")
    .join(", ");
}

/**
 * Removes what could act from one element's (or one mutation's) attributes, and
 * points what loads at where the mirror may load it from. `tagName` is null for
 * a mutation (its element is not named): every `href` is then treated as loading.
 */
export function sanitizeAttributes(attributes: Attributes, tagName: string | null, own: string): void {
  for (const name of Object.keys(attributes)) {
    const lower = name.toLowerCase();
    const value = attributes[name];
    if (lower.startsWith("on") || lower === "http-equiv" || lower === "srcdoc" || lower === "ping") {
      delete attributes[name];
    } else if (tagName === "base" && lower === "href") {
      delete attributes[name];
    } else if (NAVIGATION.has(lower) || (lower === "href" && (tagName === "a" || tagName === "area"))) {
      if (value !== null && !navigationUrl(value, own)) delete attributes[name];
    } else if ((lower === "src" || lower === "data") && tagName !== null && NO_LOAD.has(tagName)) {
      delete attributes[name];
    } else if (LOADS.has(lower) || lower === "href") {
      if (typeof value !== "string") {
        if (value !== null) delete attributes[name];
        continue;
      }
      const next = mirrorUrl(value, own);
      if (next === null) delete attributes[name];
      else attributes[name] = next;
    } else if (lower === "srcset" || lower === "imagesrcset") {
      if (typeof value === "string") attributes[name] = rewriteSrcset(value, own);
      else if (value !== null) delete attributes[name];
    } else if (lower === "style" || lower === "_csstext") {
      if (typeof value === "string") attributes[name] = rewriteCss(value, own);
      else if (value && typeof value === "object") {
        // A mutation's style diff: property → value, or [value, priority].
        const diff = value as Record<string, unknown>;
        for (const [property, v] of Object.entries(diff)) {
          if (typeof v === "string") diff[property] = rewriteCss(v, own);
          else if (Array.isArray(v) && typeof v[0] === "string") v[0] = rewriteCss(v[0], own);
        }
      }
    }
  }
}

/** The mirror's memory between events: which elements are style elements and which text nodes are stylesheets. */
export interface SanitizeState {
  styleTexts: Set<number>;
  styleElements?: Set<number>;
}

const MAX_STYLE_TEXTS = 100_000;

function sanitizeNode(node: unknown, depth: number, own: string, state: SanitizeState, inStyle: boolean): void {
  if (!node || typeof node !== "object" || depth > 2000) return;
  const n = node as SerializedNode & { id?: unknown; textContent?: unknown; isStyle?: unknown };
  const tag = n.type === ELEMENT && typeof n.tagName === "string" ? n.tagName.toLowerCase() : null;
  if (n.type === ELEMENT && n.attributes && typeof n.attributes === "object") sanitizeAttributes(n.attributes, tag, own);
  const styleElements = (state.styleElements ??= new Set());
  // Text inside a style element (svg's too) is a stylesheet, whatever the event
  // says of it (`isStyle` is the sender's word); later changes to it are too.
  if (tag === "style" && typeof n.id === "number" && styleElements.size < MAX_STYLE_TEXTS) styleElements.add(n.id);
  if (n.type === TEXT && (n.isStyle === true || inStyle)) {
    if (typeof n.textContent === "string") n.textContent = rewriteCss(n.textContent, own);
    if (typeof n.id === "number" && state.styleTexts.size < MAX_STYLE_TEXTS) state.styleTexts.add(n.id);
  }
  if (Array.isArray(n.childNodes)) for (const child of n.childNodes) sanitizeNode(child, depth + 1, own, state, tag === "style");
}

function rewriteRules(list: unknown, own: string): void {
  if (!Array.isArray(list)) return;
  for (const entry of list) {
    const rule = entry as { rule?: unknown };
    if (rule && typeof rule === "object" && typeof rule.rule === "string") rule.rule = rewriteCss(rule.rule, own);
  }
}

/**
 * Sanitises rrweb events in place (full snapshots, DOM mutations, stylesheet
 * changes) for a mirror on the origin `own`. Returns the events to apply: those
 * that would load something from the console's own window (fonts, canvas
 * drawings) are left out.
 */
export function sanitizeEvents(items: unknown[], own: string, state: SanitizeState = { styleTexts: new Set() }): unknown[] {
  const kept: unknown[] = [];
  for (const item of items) {
    const e = item as { type?: unknown; data?: Record<string, unknown> };
    if (!e || typeof e !== "object" || !e.data || typeof e.data !== "object") {
      kept.push(item);
      continue;
    }
    const d = e.data;
    if (e.type === FULL_SNAPSHOT) {
      state.styleTexts.clear();
      state.styleElements?.clear();
      sanitizeNode(d.node, 0, own, state, false);
    }
    else if (e.type === INCREMENTAL) {
      if (d.source === FONT || d.source === CANVAS_MUTATION) continue;
      if (d.source === MUTATION) {
        const adds = d.adds;
        if (Array.isArray(adds)) {
          for (const add of adds) {
            const a = add as { node?: unknown; parentId?: unknown };
            sanitizeNode(a?.node, 0, own, state, typeof a?.parentId === "number" && !!state.styleElements?.has(a.parentId));
          }
        }
        const attributes = d.attributes;
        if (Array.isArray(attributes)) {
          for (const change of attributes) {
            const a = (change as { attributes?: unknown })?.attributes;
            if (a && typeof a === "object") sanitizeAttributes(a as Attributes, null, own);
          }
        }
        const texts = d.texts;
        // A changed style text is a new stylesheet.
        if (Array.isArray(texts)) {
          for (const t of texts) {
            const change = t as { id?: unknown; value?: unknown };
            if (change && typeof change.id === "number" && state.styleTexts.has(change.id) && typeof change.value === "string") change.value = rewriteCss(change.value, own);
          }
        }
      } else if (d.source === STYLE_SHEET_RULE) {
        rewriteRules(d.adds, own);
        if (typeof d.replace === "string") d.replace = rewriteCss(d.replace, own);
        if (typeof d.replaceSync === "string") d.replaceSync = rewriteCss(d.replaceSync, own);
      } else if (d.source === STYLE_DECLARATION) {
        const set = d.set as { value?: unknown } | undefined;
        if (set && typeof set === "object" && typeof set.value === "string") set.value = rewriteCss(set.value, own);
      } else if (d.source === ADOPTED_STYLE_SHEET) {
        const styles = d.styles;
        if (Array.isArray(styles)) for (const s of styles) rewriteRules((s as { rules?: unknown })?.rules, own);
      }
    }
    kept.push(item);
  }
  return kept;
}

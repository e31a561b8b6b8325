// Whether a checkbox or radio button is ticked is an input's value too. rrweb
// records it outside its value masking (the `checked` attribute of snapshots and
// added nodes, attribute changes, and input events with `isChecked`), so it is
// taken out here, before an event leaves the visitor's browser, unless the field
// is marked visible. Input events of such fields are dropped whole: rrweb sends
// the chosen radio button's event first, so even their order would tell.
// DOM-free: the widget says which node ids are hidden toggles.

interface SerializedNode {
  id?: number;
  type?: number;
  attributes?: Record<string, unknown>;
  childNodes?: SerializedNode[];
}

import { MAX_PAGE_URL_CHARS } from "../protocol.gen";
import { EventType, NodeType, Source } from "./rrweb-codes";

const { FullSnapshot: FULL_SNAPSHOT, IncrementalSnapshot: INCREMENTAL } = EventType;
const { Mutation: MUTATION, Input: INPUT } = Source;
const ELEMENT = NodeType.Element;

/**
 * The event with hidden toggles' state taken out, or null when the whole event
 * must not leave. `hidden(id)` is true for a checkbox or radio button whose
 * state must not show, and for a node the recorder does not know.
 */
export function maskToggles(event: unknown, hidden: (id: number) => boolean): unknown | null {
  const e = event as { type?: number; data?: Record<string, unknown> };
  if (!e || typeof e !== "object" || !e.data || typeof e.data !== "object") return event;
  const strip = (attributes: Record<string, unknown> | undefined, id: unknown) => {
    if (attributes && typeof attributes === "object" && "checked" in attributes && (typeof id !== "number" || hidden(id))) delete attributes.checked;
  };
  const walk = (n: SerializedNode | undefined, depth: number) => {
    if (!n || typeof n !== "object" || depth > 5000) return;
    // Only inputs have a ticked state.
    if (n.type === ELEMENT && n.attributes && "checked" in n.attributes) strip(n.attributes, n.id);
    if (Array.isArray(n.childNodes)) for (const c of n.childNodes) walk(c, depth + 1);
  };
  if (e.type === FULL_SNAPSHOT) walk(e.data.node as SerializedNode, 0);
  if (e.type === INCREMENTAL && e.data.source === INPUT && "isChecked" in e.data) {
    if (typeof e.data.id !== "number" || hidden(e.data.id)) return null;
  }
  if (e.type === INCREMENTAL && e.data.source === MUTATION) {
    const adds = e.data.adds;
    if (Array.isArray(adds)) for (const add of adds) walk((add as { node?: SerializedNode })?.node, 0);
    const changes = e.data.attributes;
    if (Array.isArray(changes)) for (const c of changes) strip((c as { attributes?: Record<string, unknown> })?.attributes, (c as { id?: unknown })?.id);
  }
  return event;
}

/**
 * The event within what the relay accepts of its shape (docs/protocol.md, "Stream
 * messages"): a meta event's page URL is cut at MAX_PAGE_URL_CHARS, so that a page
 * with an enormous address is still mirrored instead of refused.
 */
export function fitForRelay(event: unknown): unknown {
  const e = event as { type?: number; data?: { href?: unknown } };
  if (e && typeof e === "object" && e.type === EventType.Meta && e.data && typeof e.data.href === "string" && e.data.href.length > MAX_PAGE_URL_CHARS) {
    e.data.href = e.data.href.slice(0, MAX_PAGE_URL_CHARS);
  }
  return event;
}

/**
 * Whether the event is the style sheets adopted by a blocked element's shadow
 * root (the widget's own, or a private region's): rrweb sends them even though
 * the element itself is blocked, and they are of no use to the mirror (the
 * widget's were half of every full snapshot). `blocked(id)` says whether the
 * node with that id is blocked.
 */
export function isBlockedSheets(event: unknown, blocked: (id: number) => boolean): boolean {
  const e = event as { type?: number; data?: { source?: number; id?: unknown } };
  return !!e && e.type === EventType.IncrementalSnapshot && e.data?.source === Source.AdoptedStyleSheet && typeof e.data.id === "number" && blocked(e.data.id);
}

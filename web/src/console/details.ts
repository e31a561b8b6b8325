// The visitor's details beside a conversation: where they are now, their browser
// and what it can do, their local time, the address they left, and their earlier
// conversations. Everything the visitor controls is text, never markup or a link.

import type { ConversationPage, ConversationSummary } from "../protocol.gen";
import { formatAgo } from "../lib/format";
import { browserLine, capabilityLines, localTime } from "../lib/visitor-details";
import { h } from "../ui/dom";
import { api } from "./api";

function row(label: string, value: string, testid: string): HTMLElement {
  return h("div", { class: "detail-row" }, h("dt", { text: label }), h("dd", { "data-testid": testid, text: value }));
}

// Earlier conversations, fetched once per conversation shown (the panel is
// rebuilt whenever the visitor moves).
const earlierCache = new Map<string, Promise<ConversationPage>>();
function earlierOf(id: string): Promise<ConversationPage> {
  let found = earlierCache.get(id);
  if (!found) {
    found = api.conversations({ visitorOf: id, limit: 20 });
    found.catch(() => earlierCache.delete(id));
    earlierCache.set(id, found);
    if (earlierCache.size > 50) earlierCache.delete(earlierCache.keys().next().value as string);
  }
  return found;
}

/** The details of `sum`'s visitor; the earlier conversations fill in once fetched. */
export function detailsPanel(sum: ConversationSummary, now: number): HTMLElement {
  const ctx = sum.visitor;
  const page = ctx?.page ?? sum.page;
  const rows: HTMLElement[] = [
    row("Now on", page ? (page.title ? `${page.title} — ${page.url}` : page.url) : "unknown", "details-page"),
    row("Browser", browserLine(ctx), "details-browser"),
    ...capabilityLines(ctx).map(([label, value]) => row(label, value, label === "Screen share" ? "details-share" : "details-cobrowse")),
    row("Local time", ctx?.device ? localTime(ctx.device.utc_offset_minutes, now) + (ctx.device.time_zone ? ` · ${ctx.device.time_zone}` : "") : "unknown", "details-time"),
  ];
  if (sum.visitor_email) rows.push(row("E-mail", sum.visitor_email, "details-email"));
  // Who the host site says they are (its signature checked by the server).
  const who = sum.visitor_identity;
  if (who) {
    const known: HTMLElement[] = [];
    if (who.name) known.push(row("Name", who.name, "details-name"));
    if (who.email) known.push(row("Account e-mail", who.email, "details-identity-email"));
    known.push(row("User id", who.id, "details-user-id"));
    rows.unshift(...known);
  }
  const earlier = h("ul", { class: "details-earlier", "data-testid": "details-earlier" }, h("li", { class: "muted", text: "Loading…" }));
  const panel = h(
    "aside",
    { class: "details", id: "visitor-details", "aria-label": "Visitor details", "data-testid": "details" },
    h("h3", { text: "Visitor" }),
    h("dl", null, ...rows),
    h("h3", { text: "Earlier conversations" }),
    earlier,
  );
  earlierOf(sum.id).then((page) => {
      const others = page.conversations.filter((c) => c.id !== sum.id);
      earlier.replaceChildren(
        ...(others.length
          ? others.map((c) =>
              h(
                "li",
                null,
                h("a", { href: `#/history/${encodeURIComponent(c.id)}`, "data-testid": "details-earlier-item", text: `${formatAgo(c.last_activity_at, now)} · ${c.status}` }),
                c.preview ? h("span", { class: "muted", text: ` ${c.preview}` }) : null,
              ),
            )
          : [h("li", { class: "muted", text: "None" })]),
      );
    })
    .catch(() => earlier.replaceChildren(h("li", { class: "muted", text: "Could not load them." })));
  return panel;
}

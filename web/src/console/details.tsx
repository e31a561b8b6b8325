// The visitor's details beside a conversation: where they are now, their browser
// and what it can do, their local time, the address they left, and their earlier
// conversations. Everything the visitor controls is text, never markup or a link.

import { useEffect, useState } from "preact/hooks";
import type { ConversationPage, ConversationSummary } from "../protocol.gen";
import { formatAgo } from "../lib/format";
import { browserLine, capabilityLines, localTime } from "../lib/visitor-details";
import { api } from "./api";

function Row({ label, value, testid }: { label: string; value: string; testid: string }) {
  return (
    <div class="detail-row">
      <dt>{label}</dt>
      <dd data-testid={testid}>{value}</dd>
    </div>
  );
}

// Earlier conversations, fetched once per conversation shown and identity it
// carries (the panel is rebuilt whenever the visitor moves; an identify that
// comes later links the same user's conversations from other browsers).
const earlierCache = new Map<string, Promise<ConversationPage>>();
function earlierOf(id: string, identity: string): Promise<ConversationPage> {
  const key = `${id}\n${identity}`;
  let found = earlierCache.get(key);
  if (!found) {
    found = api.conversations({ visitorOf: id, limit: 20 });
    found.catch(() => earlierCache.delete(key));
    earlierCache.set(key, found);
    if (earlierCache.size > 50) earlierCache.delete(earlierCache.keys().next().value as string);
  }
  return found;
}

/** The visitor's earlier conversations, as links to History; they fill in once fetched. */
function Earlier({ id, identity, now }: { id: string; identity: string; now: number }) {
  const [page, setPage] = useState<ConversationPage | "failed" | null>(null);
  useEffect(() => {
    let live = true;
    earlierOf(id, identity).then(
      (p) => live && setPage(p),
      () => live && setPage("failed"),
    );
    return () => void (live = false);
  }, [id, identity]);
  const others = page && page !== "failed" ? page.conversations.filter((c) => c.id !== id) : [];
  return (
    <ul class="details-earlier" data-testid="details-earlier">
      {page === null ? (
        <li class="muted">Loading…</li>
      ) : page === "failed" ? (
        <li class="muted">Could not load them.</li>
      ) : others.length === 0 ? (
        <li class="muted">None</li>
      ) : (
        others.map((c) => (
          <li key={c.id}>
            <a href={`#/history/${encodeURIComponent(c.id)}`} data-testid="details-earlier-item">{`${formatAgo(c.last_activity_at, now)} · ${c.status}`}</a>
            {c.preview ? <span class="muted">{` ${c.preview}`}</span> : null}
          </li>
        ))
      )}
    </ul>
  );
}

/** The details of `sum`'s visitor. */
export function VisitorDetails({ sum, now }: { sum: ConversationSummary; now: number }) {
  const ctx = sum.visitor;
  const page = ctx?.page ?? sum.page;
  // Who the host site says they are (its signature checked by the server) comes first.
  const who = sum.visitor_identity;
  return (
    <aside class="details" id="visitor-details" aria-label="Visitor details" data-testid="details">
      <h3>Visitor</h3>
      <dl>
        {who?.name ? <Row label="Name" value={who.name} testid="details-name" /> : null}
        {who?.email ? <Row label="Account e-mail" value={who.email} testid="details-identity-email" /> : null}
        {who ? <Row label="User id" value={who.id} testid="details-user-id" /> : null}
        <Row label="Now on" value={page ? (page.title ? `${page.title} — ${page.url}` : page.url) : "unknown"} testid="details-page" />
        <Row label="Browser" value={browserLine(ctx)} testid="details-browser" />
        {capabilityLines(ctx).map(([label, value]) => (
          <Row label={label} value={value} testid={label === "Screen share" ? "details-share" : "details-cobrowse"} />
        ))}
        <Row label="Local time" value={ctx?.device ? localTime(ctx.device.utc_offset_minutes, now) + (ctx.device.time_zone ? ` · ${ctx.device.time_zone}` : "") : "unknown"} testid="details-time" />
        {sum.visitor_email ? <Row label="E-mail" value={sum.visitor_email} testid="details-email" /> : null}
      </dl>
      <h3>Earlier conversations</h3>
      <Earlier id={sum.id} identity={sum.visitor_identity?.id ?? ""} now={now} />
    </aside>
  );
}

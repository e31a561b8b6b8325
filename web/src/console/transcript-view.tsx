// Renders a conversation's events (and our unsent messages) for the console, as
// Preact rows. Everything a visitor or agent wrote is a text child (Preact sets
// it as text), never markup.

import { Component, type VNode } from "preact";
import type { AgentRef, Capability, ControlRefusal, Event, ImageRef, MessageBody } from "../protocol.gen";
import { displayHost, formatTime, safeHttpUrl } from "../lib/format";
import { stars } from "../lib/rating";
import type { TranscriptItem } from "../lib/transcript";
import { CONSOLE_ICONS } from "./icons";
import { Hosted, Icon } from "./components";

export interface TranscriptContext {
  me: AgentRef | null;
  visitor: string;
  retry?: (clientId: string) => void;
  discard?: (clientId: string) => void;
  /** Renders a picture (thumbnail, "Show", "Edit"); without it a picture is named in words. */
  image?: (ref: ImageRef, from: "visitor" | "agent") => HTMLElement;
  /** Changes when what `image` draws changes (e.g. "Edit" offered or not): picture rows are rebuilt. */
  imageSig?: string;
}

/**
 * One row of a transcript: `view` draws it, and is asked again only when `sig`
 * (anything that changes what the row looks like) changes.
 */
export interface TranscriptRow {
  key: string;
  sig: string;
  view: () => VNode;
}

function Body({ body, ctx, from }: { body: MessageBody; ctx: TranscriptContext; from: "visitor" | "agent" }) {
  if (body.kind === "image") {
    const image = ctx.image;
    if (image) return <Hosted make={() => image(body.image, from)} sig={`${body.image.id}|${from}|${ctx.imageSig ?? ""}`} />;
    return (
      <div class="bubble" data-testid="message-text">
        {`Picture (${body.image.width}×${body.image.height})`}
      </div>
    );
  }
  if (body.kind === "link") {
    const safe = safeHttpUrl(body.url);
    if (safe) {
      return (
        <a class="card-link" href={safe} target="_blank" rel="noopener noreferrer" data-testid="link-card">
          <span class="card-link-icon">
            <Icon paths={CONSOLE_ICONS.external} size={16} />
          </span>
          <span class="card-link-text">
            <span class="card-link-title">{body.title || displayHost(safe)}</span>
            <span class="card-link-url">{safe}</span>
          </span>
        </a>
      );
    }
    return (
      <div class="bubble" data-testid="message-text">
        {body.url}
      </div>
    );
  }
  return (
    <div class="bubble" data-testid="message-text">
      {body.text}
    </div>
  );
}

function system(key: string, text: string, at: number, shareState?: string, grantState?: string, kind?: string): TranscriptRow {
  return {
    key,
    sig: text + at,
    view: () => (
      <div class="sys" data-testid="system" data-share-state={shareState} data-grant-state={grantState} data-kind={kind}>
        <span>{text}</span>
        <time>{formatTime(at)}</time>
      </div>
    ),
  };
}

/** A line of the transcript with a note only agents see under it (a hand-over's, an invitation's). */
function withNote(key: string, kind: string, text: string, at: number, tag: string, by: string, note: string): TranscriptRow {
  return {
    key,
    sig: text + at + note,
    view: () => (
      <div class="handover" data-testid="system" data-kind={kind}>
        <div class="sys">
          <span>{text}</span>
          <time>{formatTime(at)}</time>
        </div>
        <div class="note" data-testid="note" role="note" aria-label={`${tag} by ${by}`}>
          <div class="msg-head">
            <span class="note-tag">{tag}</span>
            <span class="note-private">Only agents see this</span>
          </div>
          <div class="note-text" data-testid="note-text">
            {note}
          </div>
        </div>
      </div>
    ),
  };
}

/** A page the visitor opened while co-browsing, for the agent: its title and path (never its query). */
export function pageViewedText(page: { url: string; title: string }, visitor: string): string {
  let path = "";
  try {
    const u = new URL(page.url);
    path = u.pathname;
  } catch {
    path = "";
  }
  const title = page.title.trim();
  if (title && path) return `${visitor} opened “${title}” (${path})`;
  return `${visitor} opened ${title ? `“${title}”` : path || "a page"}`;
}

/** A screenshot request's step in words, for the agent. */
export function screenshotText(e: Event & { kind: "screenshot" }, visitor: string): string {
  const agent = e.agent?.display_name || "The agent";
  switch (e.state) {
    case "asked":
      return `${agent} asked ${visitor} for a screenshot${e.message ? `: “${e.message}”` : ""}`;
    case "sent":
      return `${visitor} sent a screenshot`;
    case "declined":
      return `${visitor} declined to send a screenshot`;
    case "withdrawn":
      return `${agent} withdrew the request for a screenshot`;
    case "ended":
      return "The request for a screenshot ended with the conversation";
  }
}

/** A share event in words, for the agent. */
export function shareText(e: Event & { kind: "share" }, visitor: string): string {
  const agent = e.agent?.display_name || "The agent";
  const why = e.detail ? ` (${e.detail})` : "";
  switch (e.state) {
    case "invited":
      return `${agent} asked to see the screen${e.message ? `: “${e.message}”` : ""}`;
    case "accepted":
      return `${visitor} agreed to share their screen`;
    case "choosing":
      return `${visitor} is choosing what to share`;
    case "sharing":
      return `${visitor} is sharing their screen`;
    case "declined":
      return `${visitor} declined to share their screen${why}`;
    case "cancelled":
      return e.by === "agent" ? `${agent} withdrew the screen-sharing invitation${why}` : `${visitor} closed the picker or chose Block, without sharing`;
    case "failed":
      return `Screen sharing failed${e.detail ? `: ${e.detail}` : ""}`;
    case "ended":
      return e.by === "agent" ? `${agent} ended the screen share${e.detail && e.detail !== "the agent ended it" ? why : ""}` : `${visitor} stopped sharing their screen`;
  }
}

const CAPABILITY_NAME: Record<Capability, string> = {
  screen_share: "screen sharing",
  cobrowse: "co-browsing",
  remote_control: "remote control",
  recording: "recording",
};

/** A step of a capability the visitor grants (co-browsing, control, recording), in words. */
export function grantText(e: Event & { kind: "grant" }, visitor: string): string {
  const agent = e.agent?.display_name || "The agent";
  const what = CAPABILITY_NAME[e.capability];
  const why = e.detail ? ` (${e.detail})` : "";
  switch (e.state) {
    case "asked":
      return `${agent} asked for ${what}${e.message ? `: “${e.message}”` : ""}`;
    case "allowed":
      return `${visitor} allowed ${what}`;
    case "choosing":
      return `${visitor} is setting up ${what}`;
    case "active":
      return `${what[0].toUpperCase()}${what.slice(1)} started`;
    case "declined":
      return `${visitor} declined ${what}`;
    case "cancelled":
      return e.by === "agent" ? `${agent} withdrew the request for ${what}${why}` : `${visitor} cancelled ${what}${why}`;
    case "failed":
      return `${what[0].toUpperCase()}${what.slice(1)} failed${e.detail ? `: ${e.detail}` : ""}`;
    case "ended":
      // The visitor's stop carries "the visitor stopped it": the line says so already.
      return e.by === "agent" ? `${agent} ended ${what}${why}` : `${visitor} stopped ${what}`;
  }
}

const REFUSED_TEXT: Record<ControlRefusal, string> = {
  private: "a private field",
  file_picker: "a file picker",
  outside_page: "it would leave the page",
  not_found: "it was not on the page",
  no_field: "no field was chosen",
  disabled: "it was disabled",
  visitor_active: "the visitor was using the page",
};

/** A remote action in words ("Anna clicked “Continue”"); never what was typed. */
export function controlText(e: Event & { kind: "control" }): string {
  const agent = e.agent?.display_name || "The agent";
  const target = `“${e.action.target}”`;
  if (e.action.refused) {
    const verb = { click: "click", type: "type into", choose: "choose in", submit: "submit" }[e.action.verb];
    if (e.action.refused === "private") return `The visitor's page refused to let ${agent} ${verb} a private field`;
    return `The visitor's page refused to let ${agent} ${verb} ${target} (${REFUSED_TEXT[e.action.refused]})`;
  }
  switch (e.action.verb) {
    case "click":
      return `${agent} clicked ${target}`;
    case "type":
      return `${agent} typed into ${target}`;
    case "choose":
      return `${agent} chose an option in ${target}`;
    case "submit":
      return `${agent} submitted the form with ${target}`;
  }
}

const GROUP_MS = 5 * 60 * 1000;

function eventRow(e: Event, ctx: TranscriptContext, key: string, cont: boolean): TranscriptRow | null {
  switch (e.kind) {
    case "started": {
      const page = e.page;
      const text = page && (page.title || page.url) ? `${ctx.visitor} started the conversation on “${page.title || page.url}”` : `${ctx.visitor} started the conversation`;
      return system(key, text, e.at);
    }
    case "agent_joined":
      return system(key, `${e.agent.display_name} joined`, e.at);
    case "share":
      return system(key, shareText(e, ctx.visitor), e.at, e.state);
    case "grant":
      return system(key, grantText(e, ctx.visitor), e.at, undefined, e.state, "grant");
    case "screenshot":
      return system(key, screenshotText(e, ctx.visitor), e.at, undefined, undefined, `screenshot-${e.state}`);
    case "joined_with_key":
      return system(key, `${ctx.visitor} joined ${e.agent.display_name} with a session key`, e.at);
    case "page_viewed":
      return system(key, pageViewedText(e.page, ctx.visitor), e.at, undefined, undefined, "page_viewed");
    case "control":
      return system(key, controlText(e), e.at, undefined, undefined, "control");
    case "identified": {
      const who = e.identity;
      const also = [who.name, who.email].filter(Boolean).join(", ");
      return system(key, `The site identified the visitor as ${also ? `${also} (user ${who.id})` : `user ${who.id}`}`, e.at, undefined, undefined, "identified");
    }
    case "email_left":
      return system(key, `${ctx.visitor} left an e-mail address to be answered at: ${e.email}`, e.at, undefined, undefined, "email_left");
    case "page_pushed":
      return system(key, `${e.agent.display_name} sent ${ctx.visitor} to ${e.url}`, e.at, undefined, undefined, "page_pushed");
    case "note": {
      const writer = e.agent.display_name;
      return {
        key: `n:${e.client_id}`,
        sig: `note|${e.seq}|${writer}`,
        view: () => (
          <div class="note" data-testid="note" data-seq={e.seq} role="note" aria-label={`Internal note by ${writer}`}>
            <div class="msg-head">
              <span class="note-tag">Note</span>
              <span class="who">{writer}</span>
              <span class="note-private">Only agents see this</span>
              <time>{formatTime(e.at)}</time>
            </div>
            <div class="note-text" data-testid="note-text">
              {e.text}
            </div>
          </div>
        ),
      };
    }
    case "transferred": {
      const text = e.agent ? `${e.by.display_name} handed the conversation to ${e.agent.display_name}` : `${e.by.display_name} put the conversation back in the queue`;
      if (!e.note) return system(key, text, e.at, undefined, undefined, "transferred");
      return withNote(key, "transferred", text, e.at, "Handover note", e.by.display_name, e.note);
    }
    case "rated": {
      // The comment is the visitor's text: a text child, like a message.
      const text = `${ctx.visitor} rated the conversation ${e.score} of 5`;
      const comment = e.comment;
      return {
        key,
        sig: `rated|${e.seq}|${ctx.visitor}`,
        view: () => (
          <div class="rating" data-testid="rating" data-score={e.score} role="note" aria-label={`${text}${comment ? `: ${comment}` : ""}`}>
            <div class="sys">
              <span class="rating-stars" aria-hidden="true">
                {stars(e.score)}
              </span>
              <span>{text}</span>
              <time>{formatTime(e.at)}</time>
            </div>
            {comment ? (
              <div class="rating-comment" data-testid="rating-comment">
                {comment}
              </div>
            ) : null}
          </div>
        ),
      };
    }
    case "agent_invited": {
      const how = e.role === "observer" ? "to observe (read-only)" : "to take part";
      const text = `${e.by.display_name} invited ${e.agent.display_name} ${how}`;
      if (!e.note) return system(key, text, e.at, undefined, undefined, "agent_invited");
      return withNote(key, "agent_invited", text, e.at, "Invitation note", e.by.display_name, e.note);
    }
    case "agent_left": {
      const text = e.by.id === e.agent.id ? `${e.agent.display_name} left the conversation` : `${e.by.display_name} took ${e.agent.display_name} out of the conversation`;
      return system(key, text, e.at, undefined, undefined, "agent_left");
    }
    case "closed":
      return system(key, e.by === "visitor" ? `${ctx.visitor} ended the conversation` : `${e.agent?.display_name || "An agent"} ended the conversation`, e.at);
    case "message": {
      const mine = e.from === "agent";
      const sender = e.from === "visitor" ? ctx.visitor : e.agent?.display_name || "Agent";
      return {
        key: `m:${e.from}:${e.client_id}`,
        sig: `sent|${e.seq}|${sender}|${cont}${e.body.kind === "image" ? "|" + (ctx.imageSig ?? "") : ""}`,
        view: () => (
          <div class={`msg ${mine ? "out" : "in"}${cont ? " cont" : ""}`} data-testid="message" data-seq={e.seq} data-from={e.from}>
            <div class="msg-head">
              <span class="who">{sender}</span>
              <time>{formatTime(e.at)}</time>
            </div>
            <Body body={e.body} ctx={ctx} from={e.from} />
          </div>
        ),
      };
    }
    default:
      return null;
  }
}

/** Rows for a transcript: events in seq order, then our unsent messages. */
export function transcriptRows(items: TranscriptItem[], ctx: TranscriptContext): TranscriptRow[] {
  const rows: TranscriptRow[] = [];
  let prevWho = "";
  let prevAt = 0;
  for (const it of items) {
    if (it.type === "event") {
      const e = it.event;
      let cont = false;
      if (e.kind === "message") {
        const who = e.from === "visitor" ? "v" : "a" + (e.agent?.id ?? "");
        cont = who === prevWho && e.at - prevAt < GROUP_MS;
        prevWho = who;
        prevAt = e.at;
      } else prevWho = "";
      const r = eventRow(e, ctx, `e:${it.seq}`, cont);
      if (r) rows.push(r);
      continue;
    }
    prevWho = "";
    const o = it.item;
    const sender = ctx.me?.display_name || "You";
    rows.push({
      key: `m:agent:${o.clientId}`,
      sig: `${o.state}|${o.seq ?? ""}|${o.error ?? ""}`,
      view: () => (
        <div class={`msg out ${o.state}`} data-testid="message" data-from="agent" data-state={o.state} data-seq={o.seq ?? undefined}>
          <div class="msg-head">
            <span class="who">{sender}</span>
            {o.state === "failed" ? (
              <span class="failed">
                <span>{`Not sent${o.error ? ": " + o.error : ""}`}</span>
                {ctx.retry ? (
                  <button type="button" class="linkish" data-testid="retry" onClick={() => ctx.retry?.(o.clientId)}>
                    Retry
                  </button>
                ) : null}
                {ctx.discard ? (
                  <button type="button" class="linkish" data-testid="discard" onClick={() => ctx.discard?.(o.clientId)}>
                    Discard
                  </button>
                ) : null}
              </span>
            ) : (
              <span class="sending">{o.state === "pending" ? "Sending…" : "Sent"}</span>
            )}
          </div>
          <Body body={o.body} ctx={ctx} from="agent" />
        </div>
      ),
    });
  }
  return rows;
}

/** Rows for a stored transcript (history): no outbox. */
export function storedRows(events: Event[], ctx: TranscriptContext): TranscriptRow[] {
  return transcriptRows(
    [...events].sort((a, b) => a.seq - b.seq).map((event) => ({ type: "event" as const, seq: event.seq, event })),
    ctx,
  );
}

/** A row drawn again only when its signature changed: an unchanged row keeps its elements (focus, selection, a shown picture). */
class SteadyRow extends Component<{ sig: string; view: () => VNode }> {
  override shouldComponentUpdate(next: { sig: string }): boolean {
    return next.sig !== this.props.sig;
  }
  override render() {
    return this.props.view();
  }
}

/** The rows, keyed: a row that did not change is not drawn again. */
export function TranscriptRows({ rows }: { rows: TranscriptRow[] }) {
  return (
    <>
      {rows.map((r) => (
        <SteadyRow key={r.key} sig={r.sig} view={r.view} />
      ))}
    </>
  );
}

// The inbox: the queue (Waiting, Mine) on the left, the selected conversation on
// the right. Preact views of the session's signals (state.ts); the InboxView class
// is what the shell (shell.tsx) and the tools that live in the inbox (screen sharing,
// co-browsing, pictures, saved replies) hold: its `el`, the slots they put their
// own elements in (`tools`, `headSlot`, the notice above the composer) and a few
// methods. Those slots are elements Preact renders without children and never
// moves, so what the tools append to them stays where they put it.

import { render, type RefObject } from "preact";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { batch, effect, signal } from "@preact/signals";
import { MAX_TEXT_CHARS, type ConversationSummary } from "../protocol.gen";
import type { AgentSession, ConversationEntry } from "../lib/agent-session";
import { charCount, formatAgo, visitorName } from "../lib/format";
import { ICONS } from "../ui/dom";
import { TranscriptRows, transcriptRows } from "./transcript-view";
import { imageElement, type ImagesUi } from "./images";
import { CONSOLE_ICONS } from "./icons";
import { VisitorDetails } from "./details";
import { openTransferDialog } from "./transfer";
import { ROLE_BADGE, openInviteDialog } from "./invite";
import { Icon, TranscriptDownload, VisitorAvatar, detached } from "./components";
import { sessionState, type SessionState } from "./state";

const REPLY_PLACEHOLDER = "Write a reply… (Enter to send, Shift+Enter for a new line)";
const NOTE_PLACEHOLDER = "Write an internal note… only agents see it (Enter to save)";

/** The inbox's own state (what the session does not know), and what its views do. */
class InboxModel {
  readonly state: SessionState;
  /** The half-minute of `InboxView.render`'s last call: when it moves on, the "5 min ago" times are read again. */
  readonly tick = signal(0);
  /** The queue folded out: the drawer below 1024 px, the rail beside a viewer. */
  readonly queueOpen = signal(false);
  readonly detailsOpen = signal(false);
  /** "Reply" (to the visitor) or "Note" (agents only): the composer's two modes. */
  readonly noteMode = signal(false);
  readonly linkOpen = signal(false);
  readonly text = signal("");
  readonly error = signal<string | null>(null);
  readonly images = signal<ImagesUi | null>(null);
  readonly dropping = signal(false);
  /** The conversation the pane shows (null while the selected one is unknown). */
  shownId: string | null = null;
  readonly drafts = new Map<string, string>();
  /** The transcript follows new messages while the agent is at its bottom. */
  stick = true;
  /** Visitor pictures the agent chose to see (kept when rows are drawn again). */
  readonly revealed = new Set<string>();
  readonly input: RefObject<HTMLTextAreaElement | null> = { current: null };
  /** Stops following the selection. */
  readonly dispose: () => void;

  constructor(readonly session: AgentSession) {
    this.state = sessionState(session);
    // Another conversation chosen: its draft, a reply (not a note), no error.
    this.dispose = effect(() => {
      void this.state.revision.value;
      const id = session.selected;
      if (id === this.shownId) return;
      const shown = id && session.get(id) ? id : null;
      batch(() => {
        this.shownId = shown;
        this.text.value = (id && this.drafts.get(id)) || "";
        this.linkOpen.value = false;
        this.noteMode.value = false;
        this.error.value = null;
        this.stick = true;
      });
    });
  }

  /** Switches the composer between replying to the visitor and writing a note for agents. */
  setNoteMode(on: boolean): void {
    batch(() => {
      this.noteMode.value = on;
      if (on) this.linkOpen.value = false;
    });
    this.input.current?.focus();
  }

  edit(value: string): void {
    this.text.value = value;
    const id = this.shownId;
    if (!id) return;
    this.drafts.set(id, value);
    // A note being written is no business of the visitor's.
    if (!this.noteMode.value) this.session.typing(id, value.trim() === "");
  }

  sendText(): void {
    const id = this.shownId;
    if (!id) return;
    const value = this.text.value;
    const r = this.noteMode.value ? this.session.sendNote(id, value) : this.session.sendText(id, value);
    if (!r.ok) {
      if (value.trim() !== "") this.error.value = r.reason;
      return;
    }
    batch(() => {
      this.error.value = null;
      this.text.value = "";
    });
    this.drafts.delete(id);
    this.stick = true;
  }

  /** Sends a link card; true when it went (the form is then emptied). */
  sendLink(url: string, title: string): boolean {
    const id = this.shownId;
    if (!id) return false;
    const r = this.session.sendLink(id, url, title);
    if (!r.ok) {
      this.error.value = r.reason;
      return false;
    }
    batch(() => {
      this.linkOpen.value = false;
      this.error.value = null;
    });
    this.stick = true;
    this.input.current?.focus();
    return true;
  }
}

// ---------------------------------------------------------------- queue

/**
 * The session, for a component that looks into it: reading the revision makes the
 * component draw again on each change of the session. (A component that reads a
 * signal is otherwise drawn again only when that signal or its props change, and
 * the session changes its entries in place.)
 */
function watched(model: InboxModel): AgentSession {
  void model.state.revision.value;
  return model.session;
}

function QueueItem({ model, entry }: { model: InboxModel; entry: ConversationEntry }) {
  const s = entry.summary;
  const label = visitorName(s);
  const selected = model.session.selected === s.id;
  const where = s.page ? s.page.title || s.page.url : "";
  const preview = s.preview || (s.status === "waiting" ? "Waiting…" : "");
  return (
    <li>
      <button
        type="button"
        class={`conv${selected ? " selected" : ""}${entry.unread ? " has-unread" : ""}`}
        data-testid="queue-item"
        data-id={s.id}
        data-status={s.status}
        aria-current={selected ? "true" : undefined}
        // The tooltip is what the folded rail (initials only) leaves out.
        title={[label, preview, where].filter(Boolean).join(" · ")}
        onClick={() => {
          model.session.select(s.id);
          model.queueOpen.value = false;
        }}
      >
        <span class="avatar-wrap">
          <VisitorAvatar id={s.id} label={label} />
          <span class={`presence ${s.visitor_online ? "on" : "off"}`} title={s.visitor_online ? "Online" : "Offline"} />
        </span>
        <span class="conv-main">
          <span class="conv-top">
            <span class="conv-name" data-testid="queue-name">
              {label}
            </span>
            <time class="conv-time">{formatAgo(s.last_activity_at || s.created_at)}</time>
          </span>
          <span class="conv-preview" data-testid="queue-preview">
            {preview}
          </span>
          {where ? <span class="conv-page">{where}</span> : null}
          {/* In a colleague's conversation: how. */}
          {entry.invitedAs && s.status === "active" ? (
            <span class={`tag invite-badge ${entry.invitedAs}`} data-testid="invite-badge">
              {ROLE_BADGE[entry.invitedAs]}
            </span>
          ) : null}
        </span>
        {entry.unread ? (
          <span class="unread" data-testid="unread" aria-label={`${entry.unread} unread`}>
            {String(entry.unread)}
          </span>
        ) : null}
        {s.status === "closed" ? <span class="tag closed">Closed</span> : null}
      </button>
    </li>
  );
}

function QueueSection({ model, testid, title, entries, empty, hot }: { model: InboxModel; testid: string; title: string; entries: ConversationEntry[]; empty: string; hot?: boolean }) {
  const list = testid === "queue-waiting" ? "waiting" : "mine";
  return (
    <section data-testid={testid}>
      <h2 class="queue-title">
        <span>{title}</span>
        <span class={`chip${hot && entries.length > 0 ? " hot" : ""}`} data-testid={`${list}-count`}>
          {String(entries.length)}
        </span>
      </h2>
      {/* Keyed: a row keeps its button (keyboard focus, hover) while others change. */}
      <ul class="conv-list" data-testid={`${list}-list`}>
        {entries.map((e) => (
          <QueueItem key={e.summary.id} model={model} entry={e} />
        ))}
      </ul>
      <p class="empty-note" hidden={entries.length > 0}>
        {empty}
      </p>
    </section>
  );
}

function Queue({ model }: { model: InboxModel }) {
  const s = watched(model);
  void model.tick.value;
  const open = model.queueOpen.value;
  const label = open ? "Hide the queue" : "Show the queue";
  return (
    <aside class="queue" id="queue" aria-label="Queue" data-testid="queue">
      <button
        class="btn ghost icon-btn queue-toggle"
        type="button"
        data-testid="queue-rail-toggle"
        aria-expanded={open}
        aria-controls="queue"
        title={label}
        aria-label={label}
        onClick={() => (model.queueOpen.value = !open)}
      >
        <Icon paths={open ? CONSOLE_ICONS.chevronsLeft : CONSOLE_ICONS.chevronsRight} size={16} />
      </button>
      <QueueSection model={model} testid="queue-waiting" title="Waiting" entries={s.waiting()} empty="No one is waiting. Nice!" hot />
      <QueueSection model={model} testid="queue-mine" title="Mine" entries={s.mine()} empty="Accept a conversation to start chatting." />
    </aside>
  );
}

/** The top bar's button for the queue drawer (main.ts places it). */
function DrawerButton({ model }: { model: InboxModel }) {
  const open = model.queueOpen.value;
  return (
    <button
      class="btn ghost icon-btn drawer-btn"
      type="button"
      data-testid="queue-drawer-toggle"
      aria-expanded={open}
      title="Queue"
      aria-label="Queue"
      onClick={() => (model.queueOpen.value = !open)}
    >
      <Icon paths={CONSOLE_ICONS.menu} size={18} />
    </button>
  );
}

// ---------------------------------------------------------------- the conversation

/** A link that downloads the conversation's transcript as text. */
function ChatActions({ model, entry }: { model: InboxModel; entry: ConversationEntry }) {
  const s = watched(model);
  const sum = entry.summary;
  const label = visitorName(sum);
  const mine = s.isMine(sum);
  const active = sum.status === "active" && mine;
  const invited = sum.status === "active" ? s.invitedRole(sum) : null;
  const detailsOpen = model.detailsOpen.value;
  return (
    <div class="chat-actions">
      <button
        class="btn ghost icon-btn"
        type="button"
        data-testid="details-toggle"
        aria-expanded={detailsOpen}
        aria-controls="visitor-details"
        title="Visitor details"
        aria-label="Visitor details"
        onClick={() => (model.detailsOpen.value = !detailsOpen)}
      >
        <Icon paths={CONSOLE_ICONS.info} size={16} />
      </button>
      <TranscriptDownload id={sum.id} />
      {sum.status === "waiting" ? (
        <button class="btn primary" type="button" data-testid="accept" disabled={entry.accepting} onClick={() => s.accept(sum.id)}>
          {entry.accepting ? "Accepting…" : "Accept"}
        </button>
      ) : null}
      {active ? (
        <button class="btn ghost" type="button" data-testid="transfer" aria-label="Transfer" title="Hand this conversation to a colleague or back to the queue" onClick={() => openTransferDialog(s, sum.id, label)}>
          <Icon paths={CONSOLE_ICONS.transfer} size={14} />
          <span class="act-label">Transfer</span>
        </button>
      ) : null}
      {sum.status === "active" && (mine || s.isAdmin) && !invited ? (
        <button class="btn ghost" type="button" data-testid="invite" aria-label="Invite a colleague" title="Invite a colleague into this conversation, read-only or taking part" onClick={() => openInviteDialog(s, sum.id, label)}>
          <Icon paths={CONSOLE_ICONS.userPlus} size={14} />
          <span class="act-label">Invite</span>
        </button>
      ) : null}
      {invited ? (
        <button class="btn ghost" type="button" data-testid="leave-conversation" title="Leave this conversation (it stays with its owner)" onClick={() => s.leave(sum.id)}>
          Leave
        </button>
      ) : null}
      {active ? (
        <button class="btn danger-ghost close-conv" type="button" data-testid="close-conversation" title="Close conversation" onClick={() => s.close(sum.id)}>
          <span>Close</span>
          <span class="wide-only"> conversation</span>
        </button>
      ) : null}
      {sum.status === "closed" ? (
        <button class="btn" type="button" data-testid="dismiss" onClick={() => s.dismiss(sum.id)}>
          Dismiss
        </button>
      ) : null}
    </div>
  );
}

/**
 * The header: who, how they are, where, who else is in it, what the agent can do.
 * Always there (hidden without a conversation), so that the status slot the
 * tools fill stays the same element.
 */
function ChatHead({ model, entry, headSlot }: { model: InboxModel; entry: ConversationEntry | undefined; headSlot: RefObject<HTMLDivElement | null> }) {
  const s = watched(model);
  const sum = entry?.summary;
  const label = sum ? visitorName(sum) : "";
  // Invited in by a colleague: how (observers only read; participants write too).
  const invited = sum?.status === "active" ? s.invitedRole(sum) : null;
  const owner = sum?.agent?.display_name ?? "the agent handling it";
  const invitees = sum?.invitees ?? [];
  // The page the visitor is on now (as they move), else where they started.
  const page = sum?.visitor?.page ?? sum?.page;
  return (
    <header class="chat-head" hidden={!entry}>
      {sum && entry ? (
        <>
          <VisitorAvatar id={sum.id} label={label} />
          <div class="chat-head-text">
            <h2 data-testid="chat-title">{label}</h2>
            <p class="muted">
              <span class={`status-pill ${sum.status}`} data-testid="chat-status">
                {sum.status}
              </span>
              <span class={`presence-text ${sum.visitor_online ? "on" : ""}`} data-testid="presence">
                {sum.visitor_online ? "Online" : "Offline"}
              </span>
              {/* Plain text (never a mailto: link built from what a visitor typed). */}
              {sum.visitor_email ? (
                <span class="page-info" data-testid="chat-email" title="Left by the visitor to be answered at">
                  {`✉ ${sum.visitor_email}`}
                </span>
              ) : null}
              {page ? (
                <span class="page-info" title={page.url} data-testid="chat-page">
                  {page.title ? `${page.title} — ${page.url}` : page.url}
                </span>
              ) : null}
            </p>
            {/* Who else is in it: the owner (for invitees) and the invitees, with their roles. */}
            {invited || invitees.length ? (
              <p class="muted chat-people" data-testid="chat-people">
                {invited ? <span>{`${owner}'s conversation`}</span> : null}
                {invitees.map((i) => (
                  <span key={i.agent.id} class={`tag invite-badge ${i.role}`} data-testid="chat-invitee" title={ROLE_BADGE[i.role]}>
                    {`${i.agent.display_name} · ${ROLE_BADGE[i.role]}`}
                  </span>
                ))}
              </p>
            ) : null}
          </div>
          <ChatActions model={model} entry={entry} />
        </>
      ) : null}
      {/* The header's second line: a pending invitation ("Invitation sent · Withdraw"); the tools fill it. */}
      <div class="chat-head-status" data-testid="chat-head-status" ref={headSlot} />
    </header>
  );
}

/** What the agent can do here, above the transcript. */
function Banner({ model, sum }: { model: InboxModel; sum: ConversationSummary | undefined }) {
  const s = watched(model);
  const invited = sum?.status === "active" ? s.invitedRole(sum) : null;
  const owner = sum?.agent?.display_name ?? "the agent handling it";
  let text = "";
  if (sum?.status === "waiting") text = "This visitor is waiting for an answer. Accept the conversation to reply.";
  else if (sum?.status === "closed") text = "This conversation is closed.";
  else if (invited === "observer") text = `You are observing. Ask ${owner} to let you take part.`;
  const entry = sum ? s.get(sum.id) : undefined;
  return (
    <div class={`chat-banner${invited === "observer" ? " observing" : ""}`} hidden={!text} data-testid={invited === "observer" ? "observer-notice" : undefined}>
      {text}
      {sum?.status === "waiting" && sum.preview && entry && entry.transcript.size === 0 ? (
        <blockquote class="preview-quote" data-testid="waiting-preview">
          {sum.preview}
        </blockquote>
      ) : null}
    </div>
  );
}

/** The messages, following the newest while the agent is at the bottom. */
function Transcript({ model, entry, log }: { model: InboxModel; entry: ConversationEntry | undefined; log: RefObject<HTMLDivElement | null> }) {
  const s = watched(model);
  const images = model.images.value;
  let rows = null;
  if (entry) {
    const sum = entry.summary;
    const active = sum.status === "active" && s.isMine(sum);
    rows = transcriptRows(entry.transcript.items(), {
      me: s.me,
      visitor: visitorName(sum),
      retry: (cid) => s.retry(sum.id, cid),
      discard: (cid) => s.discard(sum.id, cid),
      // A careful default: what visitors send stays hidden until the agent asks to see
      // it (it may be unwanted or private); the agent's own snapshots show at once.
      image: (ref, from) => imageElement(ref, { hidden: from === "visitor", revealed: model.revealed, edit: active && images ? (r) => void images.fromImage(r) : undefined }),
      imageSig: `${active}|${images !== null}`,
    });
  }
  // After every drawing. (A log taken out of the page forgets its scroll: `InboxView.render` puts it back.)
  useLayoutEffect(() => {
    const el = log.current;
    if (el && model.stick) el.scrollTop = el.scrollHeight;
  });
  return (
    <div
      ref={log}
      class="transcript"
      role="log"
      aria-live="polite"
      aria-label="Messages"
      data-testid="transcript"
      tabindex={0}
      hidden={!entry}
      onScroll={(ev) => {
        const el = ev.currentTarget;
        model.stick = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
      }}
    >
      {entry && rows ? <TranscriptRows key={entry.summary.id} rows={rows} /> : null}
    </div>
  );
}

function LinkForm({ model }: { model: InboxModel }) {
  const url = useRef<HTMLInputElement>(null);
  const title = useRef<HTMLInputElement>(null);
  const open = model.linkOpen.value;
  useLayoutEffect(() => {
    if (open) url.current?.focus();
    else if (url.current && title.current) url.current.value = title.current.value = "";
  }, [open]);
  const send = () => {
    if (url.current && title.current) model.sendLink(url.current.value, title.current.value);
  };
  const onKey = (ev: KeyboardEvent) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      send();
    }
  };
  return (
    <div class="link-form" hidden={!open}>
      <input ref={url} type="url" placeholder="https://…" aria-label="Link URL" data-testid="link-url" onKeyDown={onKey} />
      <input ref={title} type="text" placeholder="Title (optional)" aria-label="Link title" maxLength={200} data-testid="link-title" onKeyDown={onKey} />
      <button class="btn" type="button" data-testid="link-send" onClick={send}>
        Send link
      </button>
    </div>
  );
}

/**
 * Replies and notes. Always there (hidden where the agent may not write), so that
 * the tools' slot and the form the saved replies listen on stay the same elements.
 */
function Composer({ model, entry, form, tools }: { model: InboxModel; entry: ConversationEntry | undefined; form: RefObject<HTMLFormElement | null>; tools: RefObject<HTMLSpanElement | null> }) {
  const s = watched(model);
  const sum = entry?.summary;
  // Participants write (messages, pictures, notes); what asks the visitor for
  // something (a share, co-browsing, a screenshot, a page) stays with the owner.
  const writes = !!sum && s.mayWrite(sum);
  const mine = !!sum && s.isMine(sum);
  const note = model.noteMode.value;
  const text = model.text.value;
  const images = model.images.value;
  const n = charCount(text);
  const error = model.error.value;
  return (
    <form
      ref={form}
      class={`composer${note ? " note-mode" : ""}${writes && !mine ? " as-invitee" : ""}`}
      data-testid="composer"
      hidden={!writes}
      onSubmit={(ev) => {
        ev.preventDefault();
        model.sendText();
      }}
    >
      <div class="mode-tabs" role="tablist" aria-label="Write a reply or an internal note">
        <button class="mode-tab" type="button" role="tab" aria-selected={!note} data-testid="mode-reply" onClick={() => model.setNoteMode(false)}>
          Reply
        </button>
        <button class="mode-tab mode-note" type="button" role="tab" aria-selected={note} data-testid="mode-note" title="An internal note: only agents see it, never the visitor" onClick={() => model.setNoteMode(true)}>
          Note
        </button>
      </div>
      <LinkForm model={model} />
      <textarea
        ref={model.input}
        class="composer-input"
        rows={2}
        placeholder={note ? NOTE_PLACEHOLDER : REPLY_PLACEHOLDER}
        aria-label={note ? "Internal note" : "Reply"}
        data-testid="composer-input"
        value={text}
        onInput={(ev) => model.edit(ev.currentTarget.value)}
        onKeyDown={(ev) => {
          if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
            ev.preventDefault();
            model.sendText();
          }
        }}
        onPaste={(ev) => {
          if (images?.fromTransfer(ev.clipboardData)) ev.preventDefault();
        }}
      />
      <div class="composer-bar">
        <button
          class="btn ghost icon-btn"
          type="button"
          aria-expanded={model.linkOpen.value}
          data-testid="link-toggle"
          aria-label="Send link"
          title="Send link"
          hidden={note}
          onClick={() => (model.linkOpen.value = !model.linkOpen.value)}
        >
          <Icon paths={CONSOLE_ICONS.link} size={16} />
        </button>
        {/* The tools (pictures, screen sharing, co-browsing, saved replies) put their buttons here, after the picture's. */}
        <span class="composer-tools" ref={tools} hidden={note}>
          <button
            class="btn ghost icon-btn"
            type="button"
            data-testid="image-attach"
            title="Picture: annotate a picture and send it (you can also paste or drop one here)"
            aria-label="Picture: annotate a picture and send it (you can also paste or drop one here)"
            hidden={!images}
            onClick={() => images?.pick()}
          >
            <Icon paths={CONSOLE_ICONS.camera} size={16} />
          </button>
        </span>
        <span class={`counter${n > MAX_TEXT_CHARS ? " over" : ""}`} data-testid="counter" hidden={n < MAX_TEXT_CHARS - 400}>
          {`${n} / ${MAX_TEXT_CHARS}`}
        </span>
        <span class="grow" />
        <button class="btn primary" type="submit" data-testid="send" aria-label={note ? "Add internal note" : "Send reply"}>
          <Icon paths={ICONS.send} size={16} />
          <span>{note ? "Add note" : "Send"}</span>
        </button>
      </div>
      <p class="composer-error" role="alert" data-testid="composer-error" hidden={!error}>
        {error ?? ""}
      </p>
    </form>
  );
}

interface Slots {
  pane: RefObject<HTMLElement | null>;
  headSlot: RefObject<HTMLDivElement | null>;
  log: RefObject<HTMLDivElement | null>;
  form: RefObject<HTMLFormElement | null>;
  tools: RefObject<HTMLSpanElement | null>;
}

function Pane({ model, slots }: { model: InboxModel; slots: Slots }) {
  const s = watched(model);
  void model.tick.value;
  const id = s.selected;
  const entry = id ? s.get(id) : undefined;
  const sum = entry?.summary;
  const invited = sum?.status === "active" ? s.invitedRole(sum) : null;
  const typing = !!entry && entry.visitorTyping.active && ((sum!.status === "active" && s.isMine(sum!)) || !!invited);
  const droppable = (ev: DragEvent) => !slots.form.current?.hidden && !!ev.dataTransfer && Array.from(ev.dataTransfer.types).includes("Files");
  return (
    <section
      ref={slots.pane}
      class={`chat${entry ? "" : " none"}${model.dropping.value ? " dropping" : ""}`}
      data-testid="chat-pane"
      aria-label="Conversation"
      onDragOver={(ev) => {
        if (model.images.value && droppable(ev)) {
          ev.preventDefault();
          model.dropping.value = true;
        }
      }}
      onDragLeave={() => (model.dropping.value = false)}
      onDrop={(ev) => {
        model.dropping.value = false;
        const images = model.images.value;
        if (!images || slots.form.current?.hidden) return;
        if (images.fromTransfer(ev.dataTransfer)) ev.preventDefault();
      }}
    >
      <ChatHead model={model} entry={entry} headSlot={slots.headSlot} />
      <Banner model={model} sum={sum} />
      {/* The visitor's details, shown on demand under the header. */}
      <div class="details-slot" data-testid="details-slot" hidden={!entry || !model.detailsOpen.value}>
        {sum && model.detailsOpen.value ? <VisitorDetails sum={sum} now={Date.now()} /> : null}
      </div>
      <Transcript model={model} entry={entry} log={slots.log} />
      <div class="typing-line" data-testid="typing" hidden={!typing}>
        {typing ? (
          <>
            <span class="dots">
              <i />
              <i />
              <i />
            </span>
            <span>{`${visitorName(sum!)} is typing…`}</span>
          </>
        ) : null}
      </div>
      <Composer model={model} entry={entry} form={slots.form} tools={slots.tools} />
      <div class="chat-empty" data-testid="chat-empty" hidden={!!entry}>
        <Icon paths={ICONS.chat} size={40} />
        <h2>No conversation selected</h2>
        <p>Pick a waiting visitor from the queue to accept it, or one of yours to continue.</p>
      </div>
    </section>
  );
}

function Inbox({ model, slots, host, drawer }: { model: InboxModel; slots: Slots; host: HTMLElement; drawer: HTMLElement }) {
  // The open drawer (or expanded rail) closes with Escape or a click outside it.
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key === "Escape" && model.queueOpen.value && host.isConnected) {
        model.queueOpen.value = false;
        drawer.focus();
      }
    };
    const onPointer = (ev: PointerEvent) => {
      const t = ev.target as Node | null;
      const queue = host.querySelector("#queue");
      if (!model.queueOpen.value || !t || queue?.contains(t) || drawer.contains(t)) return;
      model.queueOpen.value = false;
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, []);
  return (
    <>
      <Queue model={model} />
      <Pane model={model} slots={slots} />
    </>
  );
}

export class InboxView {
  /** The inbox (queue and conversation); share.tsx and cobrowse.tsx add their viewers and classes to it. */
  readonly el: HTMLElement;
  /** The chat header's second line: a pending invitation ("Invitation sent · Withdraw"). */
  readonly headSlot: HTMLElement;
  /** Opens the queue as a drawer (below 1024 px wide); the shell puts it in the top bar. */
  readonly drawerButton: HTMLButtonElement;
  /** Extra composer tools (screen sharing puts its button here). */
  readonly tools: HTMLElement;
  private readonly model: InboxModel;
  private readonly stopDrawer: () => void;
  private readonly slots: Slots = { pane: { current: null }, headSlot: { current: null }, log: { current: null }, form: { current: null }, tools: { current: null } };

  constructor(session: AgentSession) {
    const model = new InboxModel(session);
    this.model = model;
    this.el = document.createElement("div");
    this.el.className = "inbox";
    this.drawerButton = detached<HTMLButtonElement>(<DrawerButton model={model} />);
    // The first drawing is synchronous: the slots exist once the constructor returns.
    render(<Inbox model={model} slots={this.slots} host={this.el} drawer={this.drawerButton} />, this.el);
    this.headSlot = this.slots.headSlot.current as HTMLElement;
    this.tools = this.slots.tools.current as HTMLElement;
    // The inbox element is not Preact's (the tools toggle classes on it): the drawer's state goes on by hand.
    this.stopDrawer = effect(() => void this.el.classList.toggle("queue-open", model.queueOpen.value));
  }

  /** Unmounts the inbox (its document listeners go with it) and stops its effects (the agent logged out). */
  dispose(): void {
    render(null, this.el);
    this.stopDrawer();
    this.model.dispose();
  }

  /** Notices go just above the composer, in the flow: they never cover it. */
  placeNotice(el: HTMLElement): void {
    const pane = this.slots.pane.current as HTMLElement;
    const composer = this.slots.form.current as HTMLFormElement;
    if (el.parentElement !== pane || el.nextSibling !== composer) pane.insertBefore(el, composer);
  }

  /** The composer's form and text, for tools that work on its text (saved replies). */
  composerParts(): { form: HTMLFormElement; input: HTMLTextAreaElement } {
    return { form: this.slots.form.current as HTMLFormElement, input: this.model.input.current as HTMLTextAreaElement };
  }

  /** Pictures: the "Picture" button, paste and drop into the composer, thumbnails and "Edit". */
  attachImages(images: ImagesUi): void {
    this.model.images.value = images;
  }

  /**
   * Draws the inbox again now. The views follow the session by themselves; this
   * refreshes the times ("5 min ago") and, on coming back to the inbox, the
   * transcript's place at the bottom.
   */
  render(): void {
    const log = this.slots.log.current;
    if (log && this.model.stick) log.scrollTop = log.scrollHeight;
    this.model.tick.value = Math.floor(Date.now() / 30_000);
  }
}

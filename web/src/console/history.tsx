// History: search past conversations and read their transcripts.

import { render } from "preact";
import { signal } from "@preact/signals";
import type { AgentRef, ConversationStatus, ConversationSummary, Transcript } from "../protocol.gen";
import { formatTime, visitorName } from "../lib/format";
import { api } from "./api";
import { TranscriptRows, storedRows } from "./transcript-view";
import { imageElement } from "./images";
import { TranscriptDownload, VisitorAvatar } from "./components";

const PAGE = 25;

type Detail = { state: "loading" } | { state: "failed"; message: string } | { state: "shown"; transcript: Transcript };

/** The page's state: the filters, the rows listed so far, the transcript shown. */
class HistoryState {
  readonly q = signal("");
  readonly status = signal<ConversationStatus | "">("");
  readonly rows = signal<ConversationSummary[]>([]);
  /** Where the next page starts; null when there is none. */
  readonly next = signal<number | null>(null);
  readonly loading = signal(false);
  readonly error = signal<string | null>(null);
  /** "No conversations match", once a search has come back empty. */
  readonly empty = signal(false);
  /** The transcript asked for, or null for the list. */
  readonly open = signal<string | null>(null);
  readonly detail = signal<Detail>({ state: "loading" });
  private generation = 0;
  private detailGeneration = 0;
  private loadedOnce = false;

  constructor(readonly me: () => AgentRef | null) {}

  /** Show the list (loading it the first time) or one transcript. */
  show(id: string | null): void {
    this.open.value = id;
    if (id) void this.openDetail(id);
    else {
      this.detailGeneration++; // a transcript still loading is no longer wanted
      if (!this.loadedOnce) this.reload();
    }
  }

  reload(): void {
    this.loadedOnce = true;
    this.next.value = null;
    this.rows.value = [];
    void this.load(true);
  }

  async load(first: boolean): Promise<void> {
    if (this.loading.value && !first) return;
    const gen = ++this.generation;
    this.loading.value = true;
    this.error.value = null;
    try {
      const page = await api.conversations({ q: this.q.value.trim(), status: this.status.value, before: first ? null : this.next.value, limit: PAGE });
      if (gen !== this.generation) return;
      this.rows.value = [...this.rows.value, ...page.conversations];
      this.next.value = page.next_before ?? null;
      this.empty.value = this.rows.value.length === 0;
    } catch (e) {
      if (gen !== this.generation) return;
      this.error.value = (e as Error).message;
    } finally {
      if (gen === this.generation) this.loading.value = false;
    }
  }

  private async openDetail(id: string): Promise<void> {
    // Only the transcript asked for last may fill the view: an earlier, slower answer is dropped.
    const gen = ++this.detailGeneration;
    this.detail.value = { state: "loading" };
    try {
      const transcript = await api.transcript(id);
      if (gen === this.detailGeneration) this.detail.value = { state: "shown", transcript };
    } catch (e) {
      if (gen === this.detailGeneration) this.detail.value = { state: "failed", message: (e as Error).message };
    }
  }
}

/** The visitor's score of a closed conversation, as stars with its number in words. */
function RatingBadge({ score }: { score: number }) {
  return (
    <span class="rating-badge" role="img" data-score={score} title={`Rated ${score} of 5`} aria-label={`Rated ${score} of 5`}>
      <span aria-hidden="true">{`★ ${score}`}</span>
    </span>
  );
}

function Row({ c }: { c: ConversationSummary }) {
  const label = visitorName(c);
  const open = () => {
    location.hash = `#/history/${encodeURIComponent(c.id)}`;
  };
  return (
    <tr class="clickable" data-testid="history-item" data-id={c.id} data-status={c.status} tabIndex={0} onClick={open} onKeyDown={(ev) => ev.key === "Enter" && open()}>
      <td>
        <span class="cell-visitor">
          <VisitorAvatar id={c.id} label={label} />
          <span>{label}</span>
        </span>
      </td>
      <td class="cell-preview" data-testid="history-preview">
        {c.preview || "—"}
      </td>
      <td>
        <span class={`status-pill ${c.status}`}>{c.status}</span>
      </td>
      <td>{c.agent?.display_name || "—"}</td>
      <td class="nowrap" data-testid="history-rating">
        {c.rating ? <RatingBadge score={c.rating} /> : "—"}
      </td>
      <td class="nowrap">{formatTime(c.created_at)}</td>
    </tr>
  );
}

function List({ state }: { state: HistoryState }) {
  const submit = (ev: Event) => {
    ev.preventDefault();
    state.reload();
  };
  return (
    <div class="page" hidden={state.open.value !== null}>
      <div class="page-head">
        <h1>History</h1>
        <p class="muted">Every conversation, newest first. Search looks through message text.</p>
      </div>
      <form class="filters" role="search" onSubmit={submit}>
        <input type="search" placeholder="Search messages…" aria-label="Search" data-testid="history-search" value={state.q.value} onInput={(ev) => (state.q.value = ev.currentTarget.value)} />
        <select
          aria-label="Status"
          data-testid="history-status"
          value={state.status.value}
          onChange={(ev) => {
            state.status.value = ev.currentTarget.value as ConversationStatus | "";
            state.reload();
          }}
        >
          <option value="">All statuses</option>
          <option value="closed">Closed</option>
          <option value="active">Active</option>
          <option value="waiting">Waiting</option>
        </select>
        <button class="btn primary" type="submit" data-testid="history-submit">
          Search
        </button>
      </form>
      <p class="form-error" role="alert" data-testid="history-error" hidden={state.error.value === null}>
        {state.error.value ?? ""}
      </p>
      <div class="table-card">
        <table class="table" data-testid="history-table">
          <thead>
            <tr>
              <th>Visitor</th>
              <th>Last message</th>
              <th>Status</th>
              <th>Agent</th>
              <th>Rating</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {state.rows.value.map((c) => (
              <Row key={c.id} c={c} />
            ))}
          </tbody>
        </table>
        <p class="empty-note" data-testid="history-empty" hidden={!state.empty.value}>
          No conversations match.
        </p>
      </div>
      <div class="more-row">
        <button class="btn" type="button" data-testid="history-more" hidden={state.next.value === null} disabled={state.loading.value} onClick={() => void state.load(false)}>
          Load more
        </button>
      </div>
    </div>
  );
}

/** A stored transcript's rows, drawn by transcript-view (shared with the inbox). */
function TranscriptLog({ transcript, me }: { transcript: Transcript; me: AgentRef | null }) {
  const visitor = visitorName(transcript.conversation);
  const rows = storedRows(transcript.events, { me, visitor, image: (ref) => imageElement(ref, { hidden: true }) });
  return (
    <div class="transcript static" data-testid="history-transcript">
      <TranscriptRows rows={rows} />
    </div>
  );
}

function Detail({ state }: { state: HistoryState }) {
  const detail = state.detail.value;
  const back = (
    <a class="back" href="#/history" data-testid="history-back">
      ← Back to history
    </a>
  );
  if (detail.state === "loading") {
    return (
      <div class="page">
        {back}
        <p class="muted">Loading…</p>
      </div>
    );
  }
  if (detail.state === "failed") {
    return (
      <div class="page">
        {back}
        <p class="form-error" role="alert">
          {detail.message}
        </p>
      </div>
    );
  }
  const c = detail.transcript.conversation;
  const label = visitorName(c);
  return (
    <div class="page">
      {back}
      <div class="detail-card">
        <header class="chat-head">
          <VisitorAvatar id={c.id} label={label} />
          <div class="chat-head-text">
            <h2 data-testid="history-title">{label}</h2>
            <p class="muted">
              <span class={`status-pill ${c.status}`}>{c.status}</span>
              <span>{`Started ${formatTime(c.created_at)}`}</span>
              {c.agent ? <span>{`Agent: ${c.agent.display_name}`}</span> : null}
              {c.rating ? <RatingBadge score={c.rating} /> : null}
              {c.page ? (
                <span class="page-info" title={c.page.url}>
                  {c.page.title || c.page.url}
                </span>
              ) : null}
            </p>
          </div>
          <TranscriptDownload id={c.id} />
        </header>
        <TranscriptLog transcript={detail.transcript} me={state.me()} />
      </div>
    </div>
  );
}

function HistoryPage({ state }: { state: HistoryState }) {
  return (
    <>
      <List state={state} />
      <div class="history-detail" data-testid="history-detail" hidden={state.open.value === null}>
        {state.open.value !== null ? <Detail state={state} /> : null}
      </div>
    </>
  );
}

/** The History page, for the console's shell: `el` to show, `show(id)` on each visit. */
export class HistoryView {
  readonly el: HTMLElement = document.createElement("div");
  private readonly state: HistoryState;

  constructor(me: () => AgentRef | null) {
    this.state = new HistoryState(me);
    this.el.className = "history";
    render(<HistoryPage state={this.state} />, this.el);
  }

  /** The list (loaded the first time it is shown), or the transcript of conversation `id`. */
  show(id: string | null): void {
    this.state.show(id);
  }
}

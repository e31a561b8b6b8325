// History: search past conversations and read their transcripts.

import type { ConversationStatus, ConversationSummary } from "../protocol.gen";
import { formatTime, visitorName } from "../lib/format";
import { h, replaceChildren } from "../ui/dom";
import { KeyedList } from "../ui/keyed";
import { api } from "./api";
import { avatarFor } from "./inbox";
import { eventRows } from "./transcript-view";
import { imageElement } from "./images";
import { transcriptLink } from "./icons";
import type { AgentRef } from "../protocol.gen";

const PAGE = 25;

export class HistoryView {
  readonly el: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly status: HTMLSelectElement;
  private readonly body = h("tbody");
  private readonly more: HTMLButtonElement;
  private readonly empty = h("p", { class: "empty-note", "data-testid": "history-empty", hidden: true, text: "No conversations match." });
  private readonly error = h("p", { class: "form-error", role: "alert", "data-testid": "history-error", hidden: true });
  private readonly listPage: HTMLElement;
  private readonly detail = h("div", { class: "history-detail", "data-testid": "history-detail", hidden: true });
  private next: number | null = null;
  private loading = false;
  private generation = 0;
  private detailGeneration = 0;
  private loadedOnce = false;

  constructor(private readonly me: () => AgentRef | null) {
    this.search = h("input", { type: "search", placeholder: "Search messages…", "aria-label": "Search", "data-testid": "history-search" });
    this.status = h(
      "select",
      { "aria-label": "Status", "data-testid": "history-status" },
      h("option", { value: "", text: "All statuses" }),
      h("option", { value: "closed", text: "Closed" }),
      h("option", { value: "active", text: "Active" }),
      h("option", { value: "waiting", text: "Waiting" }),
    );
    const submit = h("button", { class: "btn primary", type: "submit", "data-testid": "history-submit", text: "Search" });
    const form = h("form", { class: "filters", role: "search" }, this.search, this.status, submit);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.reload();
    });
    this.status.addEventListener("change", () => this.reload());
    this.more = h("button", { class: "btn", type: "button", "data-testid": "history-more", hidden: true, text: "Load more" });
    this.more.addEventListener("click", () => this.load(false));
    this.listPage = h(
      "div",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", { text: "History" }), h("p", { class: "muted", text: "Every conversation, newest first. Search looks through message text." })),
      form,
      this.error,
      h(
        "div",
        { class: "table-card" },
        h(
          "table",
          { class: "table", "data-testid": "history-table" },
          h("thead", null, h("tr", null, h("th", { text: "Visitor" }), h("th", { text: "Last message" }), h("th", { text: "Status" }), h("th", { text: "Agent" }), h("th", { text: "Rating" }), h("th", { text: "Started" }))),
          this.body,
        ),
        this.empty,
      ),
      h("div", { class: "more-row" }, this.more),
    );
    this.el = h("div", { class: "history" }, this.listPage, this.detail);
  }

  /** Show the list (loading it the first time) or one transcript. */
  show(id: string | null): void {
    if (id) {
      this.listPage.hidden = true;
      this.detail.hidden = false;
      void this.openDetail(id);
    } else {
      this.listPage.hidden = false;
      this.detail.hidden = true;
      this.detailGeneration++; // a transcript still loading is no longer wanted
      if (!this.loadedOnce) this.reload();
    }
  }

  reload(): void {
    this.loadedOnce = true;
    this.next = null;
    replaceChildren(this.body);
    void this.load(true);
  }

  private async load(first: boolean): Promise<void> {
    if (this.loading && !first) return;
    const gen = ++this.generation;
    this.loading = true;
    this.more.disabled = true;
    this.error.hidden = true;
    try {
      const page = await api.conversations({
        q: this.search.value.trim(),
        status: this.status.value as ConversationStatus | "",
        before: first ? null : this.next,
        limit: PAGE,
      });
      if (gen !== this.generation) return;
      for (const c of page.conversations) this.body.appendChild(this.row(c));
      this.next = page.next_before ?? null;
      this.more.hidden = this.next === null;
      this.empty.hidden = this.body.children.length > 0;
    } catch (e) {
      if (gen !== this.generation) return;
      this.error.textContent = (e as Error).message;
      this.error.hidden = false;
    } finally {
      if (gen === this.generation) {
        this.loading = false;
        this.more.disabled = false;
      }
    }
  }

  private row(c: ConversationSummary): HTMLElement {
    const label = visitorName(c);
    const open = () => {
      location.hash = `#/history/${encodeURIComponent(c.id)}`;
    };
    const tr = h(
      "tr",
      { class: "clickable", "data-testid": "history-item", "data-id": c.id, "data-status": c.status, tabindex: "0", onclick: open },
      h("td", null, h("span", { class: "cell-visitor" }, avatarFor(c.id, label), h("span", { text: label }))),
      h("td", { class: "cell-preview", "data-testid": "history-preview", text: c.preview || "—" }),
      h("td", null, h("span", { class: `status-pill ${c.status}`, text: c.status })),
      h("td", { text: c.agent?.display_name || "—" }),
      h("td", { class: "nowrap", "data-testid": "history-rating" }, ratingBadge(c.rating)),
      h("td", { class: "nowrap", text: formatTime(c.created_at) }),
    );
    tr.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") open();
    });
    return tr;
  }

  private async openDetail(id: string): Promise<void> {
    // Only the transcript asked for last may fill the view: an earlier, slower answer is dropped.
    const gen = ++this.detailGeneration;
    const back = h("a", { class: "back", href: "#/history", "data-testid": "history-back", text: "← Back to history" });
    replaceChildren(this.detail, h("div", { class: "page" }, back, h("p", { class: "muted", text: "Loading…" })));
    try {
      const t = await api.transcript(id);
      if (gen !== this.detailGeneration) return;
      const c = t.conversation;
      const label = visitorName(c);
      const log = h("div", { class: "transcript static", "data-testid": "history-transcript" });
      new KeyedList().update(log, eventRows(t.events, { me: this.me(), visitor: label, image: (ref) => imageElement(ref, { hidden: true }) }));
      replaceChildren(
        this.detail,
        h(
          "div",
          { class: "page" },
          back,
          h(
            "div",
            { class: "detail-card" },
            h(
              "header",
              { class: "chat-head" },
              avatarFor(c.id, label),
              h(
                "div",
                { class: "chat-head-text" },
                h("h2", { "data-testid": "history-title", text: label }),
                h(
                  "p",
                  { class: "muted" },
                  h("span", { class: `status-pill ${c.status}`, text: c.status }),
                  h("span", { text: `Started ${formatTime(c.created_at)}` }),
                  c.agent ? h("span", { text: `Agent: ${c.agent.display_name}` }) : null,
                  c.rating ? ratingBadge(c.rating) : null,
                  c.page ? h("span", { class: "page-info", title: c.page.url, text: c.page.title || c.page.url }) : null,
                ),
              ),
              transcriptLink(c.id),
            ),
            log,
          ),
        ),
      );
    } catch (e) {
      if (gen !== this.detailGeneration) return;
      replaceChildren(this.detail, h("div", { class: "page" }, back, h("p", { class: "form-error", role: "alert", text: (e as Error).message })));
    }
  }
}

/** The visitor's score of a closed conversation, as stars with its number in words. */
function ratingBadge(score: number | undefined): HTMLElement | string {
  if (!score) return "—";
  return h("span", { class: "rating-badge", role: "img", "data-score": score, title: `Rated ${score} of 5`, "aria-label": `Rated ${score} of 5` }, h("span", { "aria-hidden": "true", text: `★ ${score}` }));
}

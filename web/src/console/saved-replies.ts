// Saved replies in the console: "/" and a few letters in the composer list the
// team's texts (arrows to choose, Enter or Tab to take one, Esc to close); the
// composer's "Saved replies" button opens the list to search, add, change and
// delete them. Taking a reply puts its text in the composer: nothing is sent
// until the agent sends it.

import type { SavedReply } from "../protocol.gen";
import { matchReplies, replyPreview, slashQuery } from "../lib/saved-replies";
import { h, replaceChildren } from "../ui/dom";
import { api } from "./api";
import { iconButton } from "./icons";
import { openSavedRepliesManager } from "./saved-replies-manager";

/** A list older than this is fetched again when the picker opens. */
const FRESH_MS = 60_000;

export class SavedRepliesUi {
  private replies: SavedReply[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | null = null;
  private readonly popup = h("div", { class: "saved-popup", id: "saved-replies-popup", role: "listbox", "aria-label": "Saved replies", "data-testid": "saved-popup", hidden: true });
  private shown: SavedReply[] = [];
  private active = 0;

  constructor(
    form: HTMLFormElement,
    private readonly input: HTMLTextAreaElement,
    tools: HTMLElement,
    private readonly me: () => { id: number; is_admin: boolean },
    private readonly toast: (text: string) => void,
  ) {
    form.classList.add("has-saved-popup");
    form.prepend(this.popup);
    this.input.setAttribute("aria-controls", this.popup.id);
    this.input.setAttribute("aria-autocomplete", "list");
    const button = iconButton("bookmark", "Saved replies (or type / in the reply)", { class: "btn ghost icon-btn", "data-testid": "saved-open", onclick: () => this.openManager() });
    tools.append(button);
    this.input.addEventListener("input", () => this.update());
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    // Capture: runs before the composer's own Enter-to-send.
    form.addEventListener(
      "keydown",
      (ev) => {
        if (this.popup.hidden || ev.target !== this.input) return;
        if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
          if (this.shown.length === 0) return;
          ev.preventDefault();
          this.active = (this.active + (ev.key === "ArrowDown" ? 1 : this.shown.length - 1)) % this.shown.length;
          this.render();
        } else if ((ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) || ev.key === "Tab") {
          const chosen = this.shown[this.active];
          if (!chosen) return;
          ev.preventDefault();
          ev.stopPropagation();
          this.take(chosen);
        } else if (ev.key === "Escape") {
          ev.preventDefault();
          ev.stopPropagation();
          this.close();
        }
      },
      true,
    );
  }

  private async load(force = false): Promise<void> {
    if (!force && Date.now() - this.loadedAt < FRESH_MS) return;
    if (!this.loading) {
      this.loading = api
        .savedReplies()
        .then((list) => {
          this.replies = list;
          this.loadedAt = Date.now();
        })
        .catch((e) => this.toast(e instanceof Error ? e.message : String(e)))
        .finally(() => (this.loading = null));
    }
    await this.loading;
  }

  private update(): void {
    const query = slashQuery(this.input.value, this.input.selectionEnd ?? this.input.value.length);
    if (query === null) return this.close();
    const wasHidden = this.popup.hidden;
    this.shown = matchReplies(this.replies, query);
    if (wasHidden || this.active >= this.shown.length) this.active = 0;
    this.popup.hidden = false;
    this.render(query);
    // Fetched on the first "/" (and again when old); shown again once here.
    if (Date.now() - this.loadedAt >= FRESH_MS) {
      void this.load().then(() => {
        if (!this.popup.hidden) this.update();
      });
    }
  }

  private render(query = slashQuery(this.input.value, this.input.value.length) ?? ""): void {
    if (this.shown.length === 0) {
      this.input.removeAttribute("aria-activedescendant");
      const text = this.loadedAt === 0 ? "Loading saved replies…" : this.replies.length === 0 ? "No saved replies yet: add them with the bookmark button below." : `No saved reply matches /${query}.`;
      replaceChildren(this.popup, h("div", { class: "saved-empty", "data-testid": "saved-empty", text }));
      return;
    }
    replaceChildren(
      this.popup,
      ...this.shown.map((r, i) =>
        h(
          "div",
          {
            class: "saved-option",
            id: `saved-option-${r.id}`,
            role: "option",
            "aria-selected": String(i === this.active),
            "data-testid": "saved-option",
            "data-shortcut": r.shortcut,
            onmousedown: (ev: MouseEvent) => {
              ev.preventDefault();
              this.take(r);
            },
          },
          h("span", { class: "saved-shortcut", text: `/${r.shortcut}` }),
          r.title ? h("span", { class: "saved-title", text: r.title }) : null,
          h("span", { class: "saved-body", text: replyPreview(r.body) }),
        ),
      ),
    );
    const active = this.shown[this.active];
    if (active) this.input.setAttribute("aria-activedescendant", `saved-option-${active.id}`);
  }

  private close(): void {
    if (this.popup.hidden) return;
    this.popup.hidden = true;
    this.input.removeAttribute("aria-activedescendant");
  }

  /** Puts `reply`'s text in the composer, caret at its end, for the agent to send (or change). */
  private take(reply: SavedReply): void {
    this.close();
    this.input.value = reply.body;
    this.input.focus();
    this.input.setSelectionRange(reply.body.length, reply.body.length);
    // The composer keeps drafts, typing and the counter from its input event.
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /** The list of saved replies: search, take one, add, change, delete. */
  private openManager(): void {
    openSavedRepliesManager({ replies: () => this.replies, reload: () => this.load(true), take: (r) => this.take(r), me: this.me });
  }
}

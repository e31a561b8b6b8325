// Saved replies in the console: "/" and a few letters in the composer list the
// team's texts (arrows to choose, Enter or Tab to take one, Esc to close); the
// composer's "Saved replies" button opens the list to search, add, change and
// delete them. Taking a reply puts its text in the composer: nothing is sent
// until the agent sends it.

import { MAX_SAVED_REPLY_TITLE_CHARS, MAX_SHORTCUT_CHARS, MAX_TEXT_CHARS, type SavedReply } from "../protocol.gen";
import { matchReplies, mayChange, replyPreview, slashQuery } from "../lib/saved-replies";
import { h, replaceChildren } from "../ui/dom";
import { api, HttpError } from "./api";
import { iconButton } from "./icons";

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
    const previous = document.activeElement as HTMLElement | null;
    const search = h("input", { type: "search", placeholder: "Search saved replies", "aria-label": "Search saved replies", "data-testid": "saved-search" });
    const list = h("ul", { class: "saved-list", "data-testid": "saved-list", "aria-label": "Saved replies" });
    const error = h("p", { class: "form-error", role: "alert", "data-testid": "saved-error", hidden: true });
    const shortcut = h("input", { id: "saved-shortcut", required: true, maxlength: String(MAX_SHORTCUT_CHARS + 1), pattern: "/?[A-Za-z0-9_\\-]+", autocomplete: "off", placeholder: "refund-policy", "data-testid": "saved-shortcut" });
    const title = h("input", { id: "saved-title", maxlength: String(MAX_SAVED_REPLY_TITLE_CHARS), autocomplete: "off", "data-testid": "saved-title" });
    const body = h("textarea", { id: "saved-body", required: true, rows: "4", maxlength: String(MAX_TEXT_CHARS), "data-testid": "saved-body" });
    const save = h("button", { class: "btn primary", type: "submit", "data-testid": "saved-save", text: "Save" });
    const cancelEdit = h("button", { class: "btn", type: "button", "data-testid": "saved-cancel-edit", text: "Cancel" });
    const editor = h(
      "form",
      { class: "saved-editor", "data-testid": "saved-editor", hidden: true },
      h("label", { class: "field", for: "saved-shortcut" }, h("span", { text: "Shortcut (type / and this in a reply)" }), shortcut),
      h("label", { class: "field", for: "saved-title" }, h("span", { text: "Title (optional)" }), title),
      h("label", { class: "field", for: "saved-body" }, h("span", { text: "Text" }), body),
      h("div", { class: "modal-actions" }, cancelEdit, save),
    );
    const add = h("button", { class: "btn", type: "button", "data-testid": "saved-new", text: "New saved reply" });
    const close = h("button", { class: "btn", type: "button", "data-testid": "saved-close", text: "Close" });
    const modal = h(
      "div",
      { class: "modal saved-modal", role: "dialog", "aria-modal": "true", "aria-labelledby": "saved-heading", "data-testid": "saved-dialog" },
      h("h2", { id: "saved-heading", text: "Saved replies" }),
      h("p", { class: "muted", text: "Type / and a shortcut in a reply to use one. Anyone on the team can add them; their author or an admin can change them." }),
      search,
      list,
      editor,
      error,
      h("div", { class: "modal-actions" }, add, close),
    );
    const backdrop = h("div", { class: "backdrop" }, modal);
    let editing: SavedReply | null = null;

    const showError = (e: unknown) => {
      error.textContent = e instanceof HttpError || e instanceof Error ? e.message : String(e);
      error.hidden = false;
    };
    const draw = () => {
      const me = this.me();
      const shown = search.value.trim() ? matchReplies(this.replies, search.value.trim(), 500) : this.replies;
      if (shown.length === 0) {
        replaceChildren(list, h("li", { class: "muted", text: this.replies.length === 0 ? "No saved replies yet." : "None matches." }));
        return;
      }
      replaceChildren(
        list,
        ...shown.map((r) =>
          h(
            "li",
            { class: "saved-row", "data-testid": "saved-row", "data-shortcut": r.shortcut },
            h("div", { class: "saved-row-text" }, h("span", { class: "saved-shortcut", text: `/${r.shortcut}` }), r.title ? h("span", { class: "saved-title", text: r.title }) : null, h("span", { class: "saved-body", text: replyPreview(r.body, 140) })),
            h(
              "div",
              { class: "saved-row-actions" },
              h("button", { class: "btn small", type: "button", "data-testid": "saved-use", text: "Use", onclick: () => (done(), this.take(r)) }),
              mayChange(r, me) ? h("button", { class: "btn small", type: "button", "data-testid": "saved-edit", text: "Edit", onclick: () => edit(r) }) : null,
              mayChange(r, me)
                ? h("button", {
                    class: "btn small danger-ghost",
                    type: "button",
                    "data-testid": "saved-delete",
                    text: "Delete",
                    "aria-label": `Delete /${r.shortcut}`,
                    onclick: async (ev: MouseEvent) => {
                      // A second click confirms (no browser dialog).
                      const btn = ev.currentTarget as HTMLButtonElement;
                      if (btn.dataset.armed !== "1") {
                        btn.dataset.armed = "1";
                        btn.textContent = "Delete it?";
                        return;
                      }
                      try {
                        await api.deleteSavedReply(r.id);
                        await this.load(true);
                        draw();
                      } catch (e) {
                        showError(e);
                      }
                    },
                  })
                : null,
            ),
          ),
        ),
      );
    };
    const edit = (r: SavedReply | null) => {
      editing = r;
      shortcut.value = r ? r.shortcut : "";
      title.value = r ? r.title : "";
      body.value = r ? r.body : "";
      editor.hidden = false;
      add.hidden = true;
      error.hidden = true;
      shortcut.focus();
    };
    const done = () => {
      backdrop.remove();
      document.removeEventListener("keydown", onKey, true);
      previous?.focus?.();
    };
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key !== "Escape") return;
      ev.stopPropagation();
      if (!editor.hidden) {
        editor.hidden = true;
        add.hidden = false;
      } else done();
    };
    document.addEventListener("keydown", onKey, true);
    search.addEventListener("input", draw);
    add.addEventListener("click", () => edit(null));
    cancelEdit.addEventListener("click", () => {
      editor.hidden = true;
      add.hidden = false;
    });
    close.addEventListener("click", done);
    backdrop.addEventListener("mousedown", (ev) => {
      if (ev.target === backdrop) done();
    });
    editor.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const request = { shortcut: shortcut.value, title: title.value, body: body.value };
      save.disabled = true;
      error.hidden = true;
      try {
        if (editing) await api.updateSavedReply(editing.id, request);
        else await api.createSavedReply(request);
        await this.load(true);
        editor.hidden = true;
        add.hidden = false;
        draw();
      } catch (e) {
        showError(e);
      } finally {
        save.disabled = false;
      }
    });
    document.body.append(backdrop);
    draw();
    search.focus();
    void this.load(true).then(draw);
  }
}

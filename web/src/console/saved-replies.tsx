// Saved replies in the console: "/" and a few letters in the composer list the
// team's texts (arrows to choose, Enter or Tab to take one, Esc to close); the
// composer's "Saved replies" button opens the list to search, add, change and
// delete them. Taking a reply puts its text in the composer: nothing is sent
// until the agent sends it.

import { useLayoutEffect } from "preact/hooks";
import { batch, signal } from "@preact/signals";
import type { SavedReply } from "../protocol.gen";
import { matchReplies, replyPreview, slashQuery } from "../lib/saved-replies";
import { api } from "./api";
import { Icon, detached } from "./components";
import { CONSOLE_ICONS } from "./icons";
import { openSavedRepliesManager } from "./saved-replies-manager";

/** A list older than this is fetched again when the picker opens. */
const FRESH_MS = 60_000;

const OPEN_LABEL = "Saved replies (or type / in the reply)";

/** The picker above the composer: the replies matching "/…", the chosen one marked. */
function Popup({ ui }: { ui: SavedRepliesUi }) {
  const open = ui.open.value;
  const shown = ui.shown.value;
  const active = ui.active.value;
  const chosen = open ? shown[active] : undefined;
  // The composer names the chosen option for screen readers, once it is drawn.
  useLayoutEffect(() => {
    if (chosen) ui.input.setAttribute("aria-activedescendant", `saved-option-${chosen.id}`);
    else ui.input.removeAttribute("aria-activedescendant");
  }, [chosen]);
  let empty = "";
  if (shown.length === 0) {
    empty = !ui.loaded.value ? "Loading saved replies…" : ui.count.value === 0 ? "No saved replies yet: add them with the bookmark button below." : `No saved reply matches /${ui.query.value}.`;
  }
  return (
    <div class="saved-popup" id="saved-replies-popup" role="listbox" aria-label="Saved replies" data-testid="saved-popup" hidden={!open}>
      {!open ? null : shown.length === 0 ? (
        <div class="saved-empty" data-testid="saved-empty">
          {empty}
        </div>
      ) : (
        shown.map((r, i) => (
          <div
            key={r.id}
            class="saved-option"
            id={`saved-option-${r.id}`}
            role="option"
            aria-selected={i === active}
            data-testid="saved-option"
            data-shortcut={r.shortcut}
            onMouseDown={(ev) => {
              ev.preventDefault();
              ui.take(r);
            }}
          >
            <span class="saved-shortcut">{`/${r.shortcut}`}</span>
            {r.title ? <span class="saved-title">{r.title}</span> : null}
            <span class="saved-body">{replyPreview(r.body)}</span>
          </div>
        ))
      )}
    </div>
  );
}

export class SavedRepliesUi {
  private replies: SavedReply[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | null = null;
  /** What the picker shows. */
  readonly open = signal(false);
  readonly shown = signal<SavedReply[]>([]);
  readonly active = signal(0);
  readonly query = signal("");
  readonly loaded = signal(false);
  /** How many saved replies there are in all. */
  readonly count = signal(0);

  constructor(
    form: HTMLFormElement,
    readonly input: HTMLTextAreaElement,
    tools: HTMLElement,
    private readonly me: () => { id: number; is_admin: boolean },
    private readonly toast: (text: string) => void,
  ) {
    // The picker is the form's first child: the composer's own parts stay Preact's, after it.
    form.prepend(detached(<Popup ui={this} />));
    this.input.setAttribute("aria-controls", "saved-replies-popup");
    this.input.setAttribute("aria-autocomplete", "list");
    tools.append(
      detached(
        <button class="btn ghost icon-btn" type="button" title={OPEN_LABEL} aria-label={OPEN_LABEL} data-testid="saved-open" onClick={() => this.openManager()}>
          <Icon paths={CONSOLE_ICONS.bookmark} size={16} />
        </button>,
      ),
    );
    this.input.addEventListener("input", () => this.update());
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    // Capture: runs before the composer's own Enter-to-send.
    form.addEventListener(
      "keydown",
      (ev) => {
        if (!this.open.value || ev.target !== this.input) return;
        const shown = this.shown.value;
        if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
          if (shown.length === 0) return;
          ev.preventDefault();
          this.active.value = (this.active.value + (ev.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
        } else if ((ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) || ev.key === "Tab") {
          const chosen = shown[this.active.value];
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
          batch(() => {
            this.loaded.value = true;
            this.count.value = list.length;
          });
        })
        .catch((e) => this.toast(e instanceof Error ? e.message : String(e)))
        .finally(() => (this.loading = null));
    }
    await this.loading;
  }

  private update(): void {
    const query = slashQuery(this.input.value, this.input.selectionEnd ?? this.input.value.length);
    if (query === null) return this.close();
    const shown = matchReplies(this.replies, query);
    batch(() => {
      if (!this.open.value || this.active.value >= shown.length) this.active.value = 0;
      this.shown.value = shown;
      this.query.value = query;
      this.open.value = true;
    });
    // Fetched on the first "/" (and again when old); shown again once here.
    if (Date.now() - this.loadedAt >= FRESH_MS) {
      void this.load().then(() => {
        if (this.open.value) this.update();
      });
    }
  }

  private close(): void {
    this.open.value = false;
  }

  /** Puts `reply`'s text in the composer, caret at its end, for the agent to send (or change). */
  take(reply: SavedReply): void {
    this.close();
    this.input.value = reply.body;
    this.input.focus();
    this.input.setSelectionRange(reply.body.length, reply.body.length);
    // The composer keeps drafts, typing and the counter from its input event.
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /** The list of saved replies: search, take one, add, change, delete. */
  private openManager(): void {
    openSavedRepliesManager({
      replies: () => this.replies,
      reload: async () => {
        await this.load(true);
      },
      take: (r) => this.take(r),
      me: this.me,
    });
  }
}

// The list of saved replies (the composer's bookmark button): search, take one,
// add, change, delete. The author of a reply or an admin may change it; the
// server checks that again.

import { useSignal } from "@preact/signals";
import { useLayoutEffect, useRef } from "preact/hooks";
import { MAX_SAVED_REPLY_TITLE_CHARS, MAX_SHORTCUT_CHARS, MAX_TEXT_CHARS, type SavedReply } from "../protocol.gen";
import { matchReplies, mayChange, replyPreview } from "../lib/saved-replies";
import { api } from "./api";
import { Modal, openModal } from "./modal";

export interface ManagerOptions {
  /** The replies known now. */
  replies: () => SavedReply[];
  /** Fetches them again (errors are the caller's to show). */
  reload: () => Promise<void>;
  /** Puts a reply's text in the composer. */
  take: (reply: SavedReply) => void;
  me: () => { id: number; is_admin: boolean };
}

/** The editor's state: hidden, a new reply, or one being changed. */
type Editing = { open: false } | { open: true; reply: SavedReply | null };

function Manager({ opts, close }: { opts: ManagerOptions; close: () => void }) {
  const replies = useSignal(opts.replies());
  const query = useSignal("");
  const editing = useSignal<Editing>({ open: false });
  const fields = useSignal({ shortcut: "", title: "", body: "" });
  const error = useSignal<string | null>(null);
  const saving = useSignal(false);
  // A Delete clicked once asks "Delete it?"; the second click deletes (no browser dialog).
  const armed = useSignal<number | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const shortcutRef = useRef<HTMLInputElement>(null);

  const refresh = async () => {
    await opts.reload();
    replies.value = opts.replies();
    armed.value = null;
  };
  useLayoutEffect(() => {
    void refresh();
  }, []);
  // The shortcut field takes the focus when the editor opens.
  useLayoutEffect(() => {
    if (editing.value.open) shortcutRef.current?.focus();
  }, [editing.value]);

  const showError = (e: unknown) => (error.value = e instanceof Error ? e.message : String(e));
  const edit = (r: SavedReply | null) => {
    fields.value = { shortcut: r ? r.shortcut : "", title: r ? r.title : "", body: r ? r.body : "" };
    editing.value = { open: true, reply: r };
    error.value = null;
  };
  const stopEditing = () => (editing.value = { open: false });
  const save = async (ev: Event) => {
    ev.preventDefault();
    const e = editing.value;
    if (!e.open) return;
    saving.value = true;
    error.value = null;
    try {
      if (e.reply) await api.updateSavedReply(e.reply.id, fields.value);
      else await api.createSavedReply(fields.value);
      await refresh();
      stopEditing();
    } catch (err) {
      showError(err);
    } finally {
      saving.value = false;
    }
  };
  const remove = async (r: SavedReply) => {
    if (armed.value !== r.id) {
      armed.value = r.id;
      return;
    }
    try {
      await api.deleteSavedReply(r.id);
      await refresh();
    } catch (e) {
      showError(e);
    }
  };
  const setField = (name: "shortcut" | "title" | "body", value: string) => (fields.value = { ...fields.value, [name]: value });

  const me = opts.me();
  const q = query.value.trim();
  const shown = q ? matchReplies(replies.value, q, 500) : replies.value;
  const isEditing = editing.value.open;
  return (
    <Modal
      labelledBy="saved-heading"
      testid="saved-dialog"
      class="saved-modal"
      onClose={close}
      initialFocus={searchRef}
      onEscape={() => {
        if (!editing.value.open) return false;
        stopEditing();
        return true;
      }}
    >
      <h2 id="saved-heading">Saved replies</h2>
      <p class="muted">Type / and a shortcut in a reply to use one. Anyone on the team can add them; their author or an admin can change them.</p>
      <input ref={searchRef} type="search" placeholder="Search saved replies" aria-label="Search saved replies" data-testid="saved-search" value={query.value} onInput={(ev) => (query.value = ev.currentTarget.value)} />
      <ul class="saved-list" data-testid="saved-list" aria-label="Saved replies">
        {shown.length === 0 ? (
          <li class="muted">{replies.value.length === 0 ? "No saved replies yet." : "None matches."}</li>
        ) : (
          shown.map((r) => (
            <li key={r.id} class="saved-row" data-testid="saved-row" data-shortcut={r.shortcut}>
              <div class="saved-row-text">
                <span class="saved-shortcut">{`/${r.shortcut}`}</span>
                {r.title ? <span class="saved-title">{r.title}</span> : null}
                <span class="saved-body">{replyPreview(r.body, 140)}</span>
              </div>
              <div class="saved-row-actions">
                <button
                  class="btn small"
                  type="button"
                  data-testid="saved-use"
                  onClick={() => {
                    close();
                    opts.take(r);
                  }}
                >
                  Use
                </button>
                {mayChange(r, me) ? (
                  <button class="btn small" type="button" data-testid="saved-edit" onClick={() => edit(r)}>
                    Edit
                  </button>
                ) : null}
                {mayChange(r, me) ? (
                  <button class="btn small danger-ghost" type="button" data-testid="saved-delete" data-armed={armed.value === r.id ? "1" : undefined} aria-label={`Delete /${r.shortcut}`} onClick={() => void remove(r)}>
                    {armed.value === r.id ? "Delete it?" : "Delete"}
                  </button>
                ) : null}
              </div>
            </li>
          ))
        )}
      </ul>
      <form class="saved-editor" data-testid="saved-editor" hidden={!isEditing} onSubmit={save}>
        <label class="field" for="saved-shortcut">
          <span>Shortcut (type / and this in a reply)</span>
          <input
            ref={shortcutRef}
            id="saved-shortcut"
            required
            maxLength={MAX_SHORTCUT_CHARS + 1}
            pattern="/?[A-Za-z0-9_\-]+"
            autocomplete="off"
            placeholder="refund-policy"
            data-testid="saved-shortcut"
            value={fields.value.shortcut}
            onInput={(ev) => setField("shortcut", ev.currentTarget.value)}
          />
        </label>
        <label class="field" for="saved-title">
          <span>Title (optional)</span>
          <input id="saved-title" maxLength={MAX_SAVED_REPLY_TITLE_CHARS} autocomplete="off" data-testid="saved-title" value={fields.value.title} onInput={(ev) => setField("title", ev.currentTarget.value)} />
        </label>
        <label class="field" for="saved-body">
          <span>Text</span>
          <textarea id="saved-body" required rows={4} maxLength={MAX_TEXT_CHARS} data-testid="saved-body" value={fields.value.body} onInput={(ev) => setField("body", ev.currentTarget.value)} />
        </label>
        <div class="modal-actions">
          <button class="btn" type="button" data-testid="saved-cancel-edit" onClick={stopEditing}>
            Cancel
          </button>
          <button class="btn primary" type="submit" data-testid="saved-save" disabled={saving.value}>
            Save
          </button>
        </div>
      </form>
      <p class="form-error" role="alert" data-testid="saved-error" hidden={error.value === null}>
        {error.value}
      </p>
      <div class="modal-actions">
        <button class="btn" type="button" data-testid="saved-new" hidden={isEditing} onClick={() => edit(null)}>
          New saved reply
        </button>
        <button class="btn" type="button" data-testid="saved-close" onClick={close}>
          Close
        </button>
      </div>
    </Modal>
  );
}

export function openSavedRepliesManager(opts: ManagerOptions): void {
  openModal((close) => <Manager opts={opts} close={close} />);
}

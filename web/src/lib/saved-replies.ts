// Saved replies in the composer: "/" and a few letters of a shortcut offer the
// team's texts; choosing one puts its text in the composer (it is not sent).
// DOM-free: the console's composer (console/saved-replies.tsx) uses these.

import type { SavedReply } from "../protocol.gen";

/**
 * What the agent is looking for when the composer holds a slash and a shortcut's
 * beginning ("/ref", caret at its end): the letters after the slash, lowercased;
 * `null` when the composer holds anything else (text, a space, a second line).
 */
export function slashQuery(text: string, caret: number): string | null {
  if (!text.startsWith("/") || caret !== text.length) return null;
  const typed = text.slice(1);
  if (/\s/.test(typed) || typed.length > 40) return null;
  return typed.toLowerCase();
}

/**
 * The replies for `query`, best first: the shortcut itself, then shortcuts that
 * begin with it, then those containing it, then titles and texts containing it;
 * by shortcut within each. At most `limit`.
 */
export function matchReplies(replies: readonly SavedReply[], query: string, limit = 8): SavedReply[] {
  const q = query.toLowerCase();
  const rank = (r: SavedReply): number => {
    if (r.shortcut === q) return 0;
    if (r.shortcut.startsWith(q)) return 1;
    if (r.shortcut.includes(q)) return 2;
    if (r.title.toLowerCase().includes(q)) return 3;
    if (r.body.toLowerCase().includes(q)) return 4;
    return 5;
  };
  return replies
    .map((r) => ({ r, rank: rank(r) }))
    .filter((x) => x.rank < 5)
    .sort((a, b) => a.rank - b.rank || (a.r.shortcut < b.r.shortcut ? -1 : a.r.shortcut > b.r.shortcut ? 1 : 0))
    .slice(0, limit)
    .map((x) => x.r);
}

/** One line of a reply's text, for a list: whitespace folded, cut at `max` characters. */
export function replyPreview(body: string, max = 90): string {
  const line = body.replace(/\s+/g, " ").trim();
  const chars = [...line];
  return chars.length > max ? chars.slice(0, max - 1).join("") + "…" : line;
}

/** Whether this agent may change or delete `reply`: its author or an admin (the server checks too). */
export function mayChange(reply: SavedReply, me: { id: number; is_admin: boolean }): boolean {
  return me.is_admin || reply.created_by === me.id;
}

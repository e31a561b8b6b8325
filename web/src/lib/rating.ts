// The visitor's rating of a closed conversation, without the DOM: what the
// server stored (a `rated` event, one per conversation) and the frame that asks
// for one. The server checks the same bounds and who may rate; this only gives
// a friendly answer before sending.

import { MAX_RATING_COMMENT_CHARS, MAX_RATING_SCORE, type ClientFrame, type Event } from "../protocol.gen";
import { charCount } from "./format";

/** The `ref` of a `rate` frame, which the server's refusal echoes. */
export const RATE_REF = "rate";

export interface Rating {
  score: number;
  comment: string | null;
}

/** The rating among a conversation's events, if it has one (the server keeps the first). */
export function ratingOf(events: readonly Event[]): Rating | null {
  for (const e of events) if (e.kind === "rated") return { score: e.score, comment: e.comment };
  return null;
}

export type RateCheck = { ok: true; frame: ClientFrame } | { ok: false; reason: "score" | "too_long"; count: number };

/**
 * The frame that rates the visitor's conversation with `score` (1 to
 * MAX_RATING_SCORE) and an optional comment (trimmed; blank is none), or why not.
 */
export function rateFrame(score: number, comment: string): RateCheck {
  const text = comment.trim();
  const count = charCount(text);
  if (!Number.isInteger(score) || score < 1 || score > MAX_RATING_SCORE) return { ok: false, reason: "score", count };
  if (count > MAX_RATING_COMMENT_CHARS) return { ok: false, reason: "too_long", count };
  return { ok: true, frame: { type: "rate", conversation: null, score, comment: text || null, ref: RATE_REF } };
}

/** A score as stars, filled then empty: "★★★★☆". */
export function stars(score: number): string {
  const n = Math.max(0, Math.min(MAX_RATING_SCORE, Math.round(score)));
  return "★".repeat(n) + "☆".repeat(MAX_RATING_SCORE - n);
}

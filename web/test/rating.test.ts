import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_RATING_COMMENT_CHARS, type Event } from "../src/protocol.gen";
import { RATE_REF, rateFrame, ratingOf, stars } from "../src/lib/rating";

test("a rating is the frame of a score from 1 to 5 and a trimmed comment, with its ref", () => {
  assert.deepEqual(rateFrame(4, "  Quick and kind \n"), {
    ok: true,
    frame: { type: "rate", conversation: null, score: 4, comment: "Quick and kind", ref: RATE_REF },
  });
  const blank = rateFrame(1, " \n\t ");
  assert.ok(blank.ok && blank.frame.type === "rate" && blank.frame.comment === null, "blank is no comment");
  for (const score of [0, 6, -1, 2.5, Number.NaN]) assert.deepEqual(rateFrame(score, ""), { ok: false, reason: "score", count: 0 });
});

test("a comment is counted in characters as the server counts them, after trimming", () => {
  const longest = "🙂".repeat(MAX_RATING_COMMENT_CHARS);
  assert.equal(rateFrame(5, ` ${longest} `).ok, true);
  assert.deepEqual(rateFrame(5, longest + "x"), { ok: false, reason: "too_long", count: MAX_RATING_COMMENT_CHARS + 1 });
});

test("the stored rating is the conversation's rated event", () => {
  const events: Event[] = [
    { seq: 1, at: 1, kind: "started", page: null },
    { seq: 2, at: 2, kind: "closed", by: "agent", agent: null },
  ];
  assert.equal(ratingOf(events), null);
  events.push({ seq: 3, at: 3, kind: "rated", score: 2, comment: "slow" });
  assert.deepEqual(ratingOf(events), { score: 2, comment: "slow" });
});

test("stars show the score filled, the rest empty, within 0 to 5", () => {
  assert.equal(stars(4), "★★★★☆");
  assert.equal(stars(1), "★☆☆☆☆");
  assert.equal(stars(9), "★★★★★");
  assert.equal(stars(-2), "☆☆☆☆☆");
});

// The end card (widget-end.js, loaded when the visitor's conversation has
// closed): "How was this conversation?" with five score buttons, an optional
// comment and Send; once rated, thanks and the score given. And the transcript
// as a download, fetched with the visitor's Bearer token. What the card shows
// of the rating is what the server stored (the `rated` event), so a reload or
// another tab shows the same.

import { MAX_RATING_COMMENT_CHARS, MAX_RATING_SCORE, type ErrorCode } from "../protocol.gen";
import { charCount, fill } from "../lib/format";
import { RATE_REF, rateFrame, ratingOf, stars } from "../lib/rating";
import type { VisitorSession } from "../lib/visitor-session";
import { adoptStyles, h, replaceChildren } from "../ui/dom";
import css from "./end.css";
import type { Lang } from "./i18n";
import { END_STRINGS } from "./end-i18n";

export interface EndHost {
  session: VisitorSession;
  origin: string;
  styleRoot: ShadowRoot;
  lang: Lang;
}

export interface EndApi {
  /** Fills `slot` (a row of the chat log, one per closed conversation) with the card. */
  fill(slot: HTMLElement): void;
}

let ids = 0;

export function mountEnd(host: EndHost): EndApi {
  const t = END_STRINGS[host.lang] || END_STRINGS.en;
  const { session } = host;
  adoptStyles(host.styleRoot, css);
  // The card on screen hears the server's refusal of its rating.
  let refused: ((code: ErrorCode) => void) | null = null;
  session.intercept((m) => {
    if (m.type === "error" && m.ref === RATE_REF) {
      refused?.(m.code);
      return true;
    }
  });

  return {
    fill(slot) {
      const n = ++ids;
      let chosen = 0;
      let sending = false;
      let problem = "";
      const question = h("p", { class: "end-q", id: `sl-end-q${n}`, text: t.question });
      const buttons = Array.from({ length: MAX_RATING_SCORE }, (_, i) => {
        const label = fill(t.scoreButton, { n: i + 1, label: t.scores[i] });
        return h("button", {
          type: "button",
          class: "star",
          "aria-label": label,
          title: label,
          "aria-pressed": "false",
          "data-testid": "rate-score",
          "data-score": i + 1,
          onclick: () => {
            chosen = i + 1;
            problem = "";
            update();
          },
        }, h("span", { "aria-hidden": "true", text: "★" }));
      });
      const scores = h("div", { class: "stars", role: "group", "aria-labelledby": question.id }, ...buttons);
      const comment = h("textarea", { class: "end-comment", id: `sl-end-c${n}`, rows: "3", "data-testid": "rate-comment" });
      const counter = h("span", { class: "end-count", "aria-live": "polite" });
      const send = h("button", { type: "submit", class: "end-send", "data-testid": "rate-send", text: t.send });
      const form = h(
        "form",
        { class: "end-form", hidden: true },
        h("label", { for: comment.id, text: t.commentLabel }),
        comment,
        h("div", { class: "end-row" }, counter, send),
      );
      const thanks = h("div", { class: "end-thanks", "data-testid": "rate-thanks", hidden: true });
      const error = h("p", { class: "end-error", role: "alert", "data-testid": "rate-error" });
      const downloadError = h("p", { class: "end-error", role: "alert" });
      const download = h("button", { type: "button", class: "end-download", "data-testid": "transcript-download", text: t.download });
      const card = h(
        "section",
        { class: "end", "aria-labelledby": question.id, "data-testid": "end-card" },
        question,
        scores,
        form,
        thanks,
        error,
        h("div", { class: "end-foot" }, download),
        downloadError,
      );
      slot.replaceChildren(card);

      function update(): void {
        const rating = ratingOf(session.transcript.getEvents());
        if (rating) sending = false;
        scores.hidden = form.hidden = !!rating;
        thanks.hidden = !rating;
        if (rating) {
          replaceChildren(
            thanks,
            h("strong", { text: t.thanks }),
            h("span", { class: "given", role: "img", "aria-label": fill(t.yourRating, { n: rating.score }), "data-testid": "rate-given", "data-score": rating.score, text: stars(rating.score) }),
            rating.comment ? h("q", { class: "end-quote", text: rating.comment }) : null,
          );
          question.hidden = true;
        } else {
          form.hidden = chosen === 0;
          buttons.forEach((b, i) => {
            b.setAttribute("aria-pressed", String(i + 1 === chosen));
            b.classList.toggle("on", i < chosen);
          });
        }
        const count = charCount(comment.value.trim());
        counter.textContent = count > MAX_RATING_COMMENT_CHARS - 200 ? `${count} / ${MAX_RATING_COMMENT_CHARS}` : "";
        counter.classList.toggle("over", count > MAX_RATING_COMMENT_CHARS);
        send.disabled = sending || count > MAX_RATING_COMMENT_CHARS;
        send.textContent = sending ? t.sending : t.send;
        error.textContent = problem;
      }

      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const check = rateFrame(chosen, comment.value);
        if (!check.ok) problem = check.reason === "too_long" ? fill(t.tooLong, { max: MAX_RATING_COMMENT_CHARS }) : "";
        else if (session.send(check.frame)) {
          sending = true;
          problem = "";
          refused = (code) => {
            sending = false;
            problem = code === "invalid_state" ? t.alreadyRated : t.failed;
            update();
          };
        } else problem = t.failed;
        update();
      });
      comment.addEventListener("input", update);

      download.addEventListener("click", async () => {
        download.disabled = true;
        downloadError.textContent = "";
        try {
          await downloadTranscript(host.origin, session.token, host.lang, card);
        } catch {
          downloadError.textContent = t.downloadFailed;
        }
        download.disabled = false;
      });

      // The server's word (the `rated` event) changes the card; a card no longer
      // on screen stops listening.
      const stop = session.subscribe(() => {
        if (!slot.isConnected) {
          stop();
          return;
        }
        update();
      });
      update();
    },
  };
}

/**
 * Fetches the visitor's transcript (their newest conversation, as text in their
 * time zone and language) with the Bearer token and hands it to the browser as a download.
 */
async function downloadTranscript(origin: string, token: string | null, lang: Lang, parent: HTMLElement): Promise<void> {
  if (!token) throw new Error("no visitor token");
  let tz = "";
  try {
    tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    /* UTC then */
  }
  const query = new URLSearchParams({ lang });
  if (tz) query.set("tz", tz);
  const res = await fetch(`${origin}/api/visitor/transcript?${query}`, {
    headers: { authorization: "Bearer " + token },
    credentials: "omit",
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const name = /filename="([\w.-]+)"/.exec(res.headers.get("content-disposition") || "")?.[1] || "conversation.txt";
  const url = URL.createObjectURL(await res.blob());
  const a = h("a", { href: url, download: name, hidden: true });
  parent.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// The away form (widget-away.js, loaded when the widget first finds nobody
// available): while no agent is available, the visitor may leave an e-mail
// address to be answered at. The server checks the address; the widget's
// `type=email` only helps the visitor type one.

import type { VisitorSession } from "../lib/visitor-session";
import { adoptStyles, h } from "../ui/dom";
import css from "./away.css";
import type { Lang } from "./i18n";
import { AWAY_STRINGS } from "./away-i18n";

export interface AwayHost {
  session: VisitorSession;
  styleRoot: ShadowRoot;
  lang: Lang;
}

export interface AwayApi {
  /** Fills `slot` (a row of the chat log) with the form. */
  fill(slot: HTMLElement): void;
}

export function mountAway(host: AwayHost): AwayApi {
  const t = AWAY_STRINGS[host.lang] || AWAY_STRINGS.en;
  adoptStyles(host.styleRoot, css);
  return {
    fill(slot) {
      const email = h("input", { class: "input", type: "email", required: true, autocomplete: "email", "aria-label": t.emailLabel, "data-testid": "email" });
      const form = h(
        "form",
        { class: "away", "data-testid": "away" },
        h("div", { text: t.note }),
        h("div", null, email, h("button", { type: "submit", text: t.save, "data-testid": "email-save" })),
      );
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        host.session.leaveEmail(email.value);
      });
      slot.replaceChildren(form);
    },
  };
}

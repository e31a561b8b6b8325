// Link cards (widget-links.js, loaded for the first link an agent sends): the
// page's title and host beside an icon, opening in a new tab without access to
// this page. The widget checks the URL (http and https only) before it asks for
// a card; the title is text. Also the line with a page of this site the agent
// sent the visitor to while they were not co-browsing (the widget checks that it
// is this site's).

import { displayHost, fill } from "../lib/format";
import { EXTERNAL_ICON, adoptStyles, h, icon } from "../ui/dom";
import css from "./links.css";
import type { Event } from "../protocol.gen";
import type { Lang } from "./i18n";
import { LINKS_STRINGS } from "./links-i18n";

export interface LinksHost {
  styleRoot: ShadowRoot;
  lang: Lang;
}

export type PagePushed = Extract<Event, { kind: "page_pushed" }>;

export interface LinksApi {
  /** Puts the card of `url` (already checked) in the place of `slot`. */
  card(slot: HTMLElement, url: string, title: string | null): void;
  /** Makes `row` (a row of the chat log) the line with the page the agent sent. */
  pushed(row: HTMLElement, e: PagePushed): void;
}

export function mountLinks(host: LinksHost): LinksApi {
  const t = LINKS_STRINGS[host.lang] || LINKS_STRINGS.en;
  adoptStyles(host.styleRoot, css);
  return {
    pushed(row, e) {
      row.className = "system";
      row.setAttribute("data-testid", "pushed-page");
      row.replaceChildren(fill(t.pushed, { name: e.agent.display_name }) + " ", h("a", { href: e.url, text: e.url }));
    },
    card(slot, url, title) {
      slot.replaceWith(
        h(
          "a",
          { class: "card", href: url, target: "_blank", rel: "noopener noreferrer", "data-testid": "link-card" },
          h("span", { class: "card-icon" }, icon(EXTERNAL_ICON, 18)),
          h("span", { class: "card-text" }, h("span", { class: "card-title", text: title || displayHost(url) }), h("span", { class: "card-url", text: displayHost(url) })),
        ),
      );
    },
  };
}

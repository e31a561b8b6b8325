// Link cards (widget-links.js, loaded for the first link an agent sends): the
// page's title and host beside an icon, opening in a new tab without access to
// this page. The widget checks the URL (http and https only) before it asks for
// a card; the title is text.

import { displayHost } from "../lib/format";
import { EXTERNAL_ICON, adoptStyles, h, icon } from "../ui/dom";
import css from "./links.css";

export interface LinksHost {
  styleRoot: ShadowRoot;
}

export interface LinksApi {
  /** Puts the card of `url` (already checked) in the place of `slot`. */
  card(slot: HTMLElement, url: string, title: string | null): void;
}

export function mountLinks(host: LinksHost): LinksApi {
  adoptStyles(host.styleRoot, css);
  return {
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

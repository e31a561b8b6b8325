// The link bundle's visitor-facing strings (widget-links.js), in every language
// the widget speaks (see i18n.ts).

import type { Lang } from "./i18n";

export interface LinksStrings {
  /** Before the link to a page of this site an agent sent (while not co-browsing). */
  pushed: string;
}

export const LINKS_STRINGS: Record<Lang, LinksStrings> = {
  en: { pushed: "{name} suggests:" },
  de: { pushed: "{name} empfiehlt:" },
  fr: { pushed: "{name} vous propose :" },
};

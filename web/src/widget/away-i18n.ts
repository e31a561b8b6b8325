// The away form's visitor-facing strings (widget-away.js), in every language the
// widget speaks (see i18n.ts).

import type { Lang } from "./i18n";

export interface AwayStrings {
  note: string;
  emailLabel: string;
  save: string;
}

export const AWAY_STRINGS: Record<Lang, AwayStrings> = {
  en: {
    note: "Leave your e-mail address and we will reply there.",
    emailLabel: "Your e-mail address",
    save: "Save",
  },
  de: {
    note: "Hinterlassen Sie Ihre E-Mail-Adresse, dann antworten wir Ihnen dort.",
    emailLabel: "Ihre E-Mail-Adresse",
    save: "Speichern",
  },
  fr: {
    note: "Laissez votre adresse e-mail et nous vous répondrons par ce biais.",
    emailLabel: "Votre adresse e-mail",
    save: "Enregistrer",
  },
};

// The /join page's own strings, in every language the widget speaks. The page
// also uses the widget's tables (its chat lines and the server's refusals, and
// the screen share's in share-i18n.ts).

import type { Lang } from "../widget/i18n";

export interface JoinStrings {
  /** The window's title; `{brand}` is the company's name, or Sightline. */
  docTitle: string;
  titlePopup: string;
  titleCode: string;
  leadPopup: string;
  /** `{n}`: how many digits a session key has. */
  leadCode: string;
  /** The logo's alternative text; `{name}` is the company's name. */
  logoAlt: string;
  logoAltPlain: string;
  sendButton: string;
  done: string;
  agent: string;
  picture: string;
  connectedWith: string;
  /** The status line's accessible name. */
  status: string;
}

export const JOIN_STRINGS: Record<Lang, JoinStrings> = {
  en: {
    docTitle: "{brand} · Screen sharing",
    titlePopup: "Share your screen",
    titleCode: "Join with a code",
    leadPopup: "Your support agent asked to see your screen. Nothing is shared until you choose what to show.",
    leadCode: "Your support agent gave you a {n}-digit code. Enter it to connect; you decide what, if anything, to share.",
    logoAlt: "{name} logo",
    logoAltPlain: "Logo",
    sendButton: "Send",
    done: "Screen sharing has ended. You can close this window.",
    agent: "Agent",
    picture: "(a picture)",
    connectedWith: "You are connected with {name}",
    status: "Status",
  },
  de: {
    docTitle: "{brand} · Bildschirmfreigabe",
    titlePopup: "Bildschirm freigeben",
    titleCode: "Mit einem Code beitreten",
    leadPopup: "Ihr Support-Mitarbeiter möchte Ihren Bildschirm sehen. Es wird nichts freigegeben, bevor Sie auswählen, was Sie zeigen möchten.",
    leadCode: "Ihr Support-Mitarbeiter hat Ihnen einen {n}-stelligen Code genannt. Geben Sie ihn ein, um sich zu verbinden; Sie entscheiden, ob und was Sie freigeben.",
    logoAlt: "Logo von {name}",
    logoAltPlain: "Logo",
    sendButton: "Senden",
    done: "Die Bildschirmfreigabe ist beendet. Sie können dieses Fenster schließen.",
    agent: "Mitarbeiter",
    picture: "(ein Bild)",
    connectedWith: "Sie sind mit {name} verbunden",
    status: "Status",
  },
  fr: {
    docTitle: "{brand} · Partage d’écran",
    titlePopup: "Partager votre écran",
    titleCode: "Rejoindre avec un code",
    leadPopup: "Votre conseiller souhaite voir votre écran. Rien n’est partagé tant que vous n’avez pas choisi quoi montrer.",
    leadCode: "Votre conseiller vous a donné un code à {n} chiffres. Saisissez-le pour vous connecter ; c’est vous qui décidez si vous partagez quelque chose, et quoi.",
    logoAlt: "Logo de {name}",
    logoAltPlain: "Logo",
    sendButton: "Envoyer",
    done: "Le partage d’écran est terminé. Vous pouvez fermer cette fenêtre.",
    agent: "Conseiller",
    picture: "(une image)",
    connectedWith: "Vous êtes en relation avec {name}",
    status: "État",
  },
};

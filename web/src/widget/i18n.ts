// The widget's strings. Pick with `data-lang` (en, de, fr), else the browser's language.

export interface Strings {
  openChat: string;
  closeChat: string;
  minimize: string;
  endConversation: string;
  defaultTitle: string;
  subtitleNone: string;
  subtitleWaiting: string;
  subtitleActive: string;
  subtitleClosed: string;
  greeting: string;
  placeholder: string;
  messageLabel: string;
  send: string;
  typing: string;
  someone: string;
  joined: string;
  closedByAgent: string;
  closedByVisitor: string;
  closed: string;
  startNew: string;
  waitingNote: string;
  connecting: string;
  reconnecting: string;
  refused: string;
  sending: string;
  notSent: string;
  retry: string;
  tooLong: string;
  you: string;
  log: string;
  unread: string;
  powered: string;
  haveCode: string;
  shareAsked: string;
  shareStarted: string;
  shareDeclined: string;
  shareFailed: string;
  shareEnded: string;
  cobrowseStarted: string;
  cobrowseDeclined: string;
  cobrowseEnded: string;
  joinedKey: string;
  pushed: string;
  attach: string;
}

const en: Strings = {
  openChat: "Open chat",
  closeChat: "Close chat",
  minimize: "Minimize chat",
  endConversation: "End conversation",
  defaultTitle: "Support",
  subtitleNone: "We typically reply in a few minutes",
  subtitleWaiting: "Waiting for an agent…",
  subtitleActive: "You are chatting with {name}",
  subtitleClosed: "Conversation ended",
  greeting: "Hi there! How can we help you today?",
  placeholder: "Write a message…",
  messageLabel: "Message",
  send: "Send message",
  typing: "{name} is typing…",
  someone: "An agent",
  joined: "{name} joined the conversation",
  closedByAgent: "{name} ended the conversation",
  closedByVisitor: "You ended the conversation",
  closed: "The conversation was closed",
  startNew: "Write a message to start a new conversation.",
  waitingNote: "Thanks! An agent will be with you shortly.",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  refused: "Chat is not available on this site",
  sending: "Sending…",
  notSent: "Not sent",
  retry: "Retry",
  tooLong: "Too long",
  you: "You",
  log: "Conversation",
  unread: "{n} new messages",
  powered: "Powered by Sightline",
  haveCode: "I have a code",
  shareAsked: "{name} asked to see your screen",
  shareStarted: "You shared your screen",
  shareDeclined: "You declined to share your screen",
  shareFailed: "Screen sharing did not start",
  shareEnded: "Screen sharing ended",
  cobrowseStarted: "{name} is viewing your page",
  cobrowseDeclined: "You declined co-browsing",
  cobrowseEnded: "Co-browsing ended",
  joinedKey: "You joined {name} with a code",
  pushed: "{name} suggests:",
  attach: "Send a picture",
};

const de: Strings = {
  openChat: "Chat öffnen",
  closeChat: "Chat schließen",
  minimize: "Chat minimieren",
  endConversation: "Unterhaltung beenden",
  defaultTitle: "Support",
  subtitleNone: "Wir antworten meist innerhalb weniger Minuten",
  subtitleWaiting: "Warte auf einen Mitarbeiter…",
  subtitleActive: "Sie chatten mit {name}",
  subtitleClosed: "Unterhaltung beendet",
  greeting: "Hallo! Wie können wir Ihnen helfen?",
  placeholder: "Nachricht schreiben…",
  messageLabel: "Nachricht",
  send: "Nachricht senden",
  typing: "{name} schreibt…",
  someone: "Ein Mitarbeiter",
  joined: "{name} ist der Unterhaltung beigetreten",
  closedByAgent: "{name} hat die Unterhaltung beendet",
  closedByVisitor: "Sie haben die Unterhaltung beendet",
  closed: "Die Unterhaltung wurde beendet",
  startNew: "Schreiben Sie eine Nachricht, um eine neue Unterhaltung zu beginnen.",
  waitingNote: "Danke! Gleich ist jemand für Sie da.",
  connecting: "Verbinde…",
  reconnecting: "Verbindung wird wiederhergestellt…",
  refused: "Der Chat ist auf dieser Website nicht verfügbar",
  sending: "Wird gesendet…",
  notSent: "Nicht gesendet",
  retry: "Erneut senden",
  tooLong: "Zu lang",
  you: "Sie",
  log: "Unterhaltung",
  unread: "{n} neue Nachrichten",
  powered: "Bereitgestellt von Sightline",
  haveCode: "Ich habe einen Code",
  shareAsked: "{name} möchte Ihren Bildschirm sehen",
  shareStarted: "Sie haben Ihren Bildschirm geteilt",
  shareDeclined: "Sie haben das Teilen abgelehnt",
  shareFailed: "Die Bildschirmfreigabe hat nicht begonnen",
  shareEnded: "Bildschirmfreigabe beendet",
  cobrowseStarted: "{name} sieht Ihre Seite",
  cobrowseDeclined: "Sie haben das gemeinsame Browsen abgelehnt",
  cobrowseEnded: "Gemeinsames Browsen beendet",
  joinedKey: "Sie sind {name} mit einem Code beigetreten",
  pushed: "{name} empfiehlt:",
  attach: "Bild senden",
};

const fr: Strings = {
  openChat: "Ouvrir le chat",
  closeChat: "Fermer le chat",
  minimize: "Réduire le chat",
  endConversation: "Terminer la conversation",
  defaultTitle: "Assistance",
  subtitleNone: "Nous répondons généralement en quelques minutes",
  subtitleWaiting: "En attente d’un conseiller…",
  subtitleActive: "Vous discutez avec {name}",
  subtitleClosed: "Conversation terminée",
  greeting: "Bonjour ! Comment pouvons-nous vous aider ?",
  placeholder: "Écrivez un message…",
  messageLabel: "Message",
  send: "Envoyer le message",
  typing: "{name} est en train d’écrire…",
  someone: "Un conseiller",
  joined: "{name} a rejoint la conversation",
  closedByAgent: "{name} a terminé la conversation",
  closedByVisitor: "Vous avez terminé la conversation",
  closed: "La conversation a été fermée",
  startNew: "Écrivez un message pour démarrer une nouvelle conversation.",
  waitingNote: "Merci ! Un conseiller va vous répondre.",
  connecting: "Connexion…",
  reconnecting: "Reconnexion…",
  refused: "Le chat n’est pas disponible sur ce site",
  sending: "Envoi…",
  notSent: "Non envoyé",
  retry: "Réessayer",
  tooLong: "Trop long",
  you: "Vous",
  log: "Conversation",
  unread: "{n} nouveaux messages",
  powered: "Propulsé par Sightline",
  haveCode: "J’ai un code",
  shareAsked: "{name} souhaite voir votre écran",
  shareStarted: "Vous avez partagé votre écran",
  shareDeclined: "Vous avez refusé de partager votre écran",
  shareFailed: "Le partage d’écran n’a pas démarré",
  shareEnded: "Partage d’écran terminé",
  cobrowseStarted: "{name} voit votre page",
  cobrowseDeclined: "Vous avez refusé la co-navigation",
  cobrowseEnded: "Co-navigation terminée",
  joinedKey: "Vous avez rejoint {name} avec un code",
  pushed: "{name} propose :",
  attach: "Envoyer une image",
};

export const STRINGS: Record<string, Strings> = { en, de, fr };

/**
 * What the visitor reads when their browser blocks screen sharing for the site
 * (it refused without showing its picker), with where to lift the block. Only the
 * share bundle imports these, so widget.js does not carry them.
 */
export interface ShareBlockedStrings {
  shareBlocked: string;
  shareUnblockFirefox: string;
  shareUnblockOther: string;
}

export const SHARE_BLOCKED: Record<string, ShareBlockedStrings> = {
  en: {
    shareBlocked: "Your browser is blocking screen sharing for this site, so it did not ask you.",
    shareUnblockFirefox: "To allow it, click the crossed-out screen icon at the start of the address bar and remove the block, then ask the agent to invite you again.",
    shareUnblockOther:
      "To allow it, click the site settings icon at the start of the address bar and allow screen sharing (or check your browser's settings), then ask the agent to invite you again.",
  },
  de: {
    shareBlocked: "Ihr Browser blockiert die Bildschirmfreigabe für diese Website und hat Sie daher nicht gefragt.",
    shareUnblockFirefox:
      "Um sie zu erlauben, klicken Sie auf das durchgestrichene Bildschirm-Symbol am Anfang der Adressleiste und heben Sie die Blockierung auf. Bitten Sie dann den Mitarbeiter, Sie erneut einzuladen.",
    shareUnblockOther:
      "Um sie zu erlauben, klicken Sie auf das Symbol für die Website-Einstellungen am Anfang der Adressleiste und erlauben Sie die Bildschirmfreigabe (oder prüfen Sie die Einstellungen Ihres Browsers). Bitten Sie dann den Mitarbeiter, Sie erneut einzuladen.",
  },
  fr: {
    shareBlocked: "Votre navigateur bloque le partage d’écran pour ce site, il ne vous a donc rien demandé.",
    shareUnblockFirefox:
      "Pour l’autoriser, cliquez sur l’icône d’écran barrée au début de la barre d’adresse et retirez le blocage, puis demandez au conseiller de vous inviter à nouveau.",
    shareUnblockOther:
      "Pour l’autoriser, cliquez sur l’icône des paramètres du site au début de la barre d’adresse et autorisez le partage d’écran (ou vérifiez les paramètres de votre navigateur), puis demandez au conseiller de vous inviter à nouveau.",
  },
};

/** The language to use: `data-lang` if supported, else the first supported browser language, else en. */
export function pickLang(requested: string | null | undefined, browser: readonly string[] = []): string {
  for (const cand of [requested, ...browser]) {
    if (!cand) continue;
    const base = cand.toLowerCase().split(/[-_]/)[0];
    if (base in STRINGS) return base;
  }
  return "en";
}

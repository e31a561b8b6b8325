// The end card's visitor-facing strings (widget-end.js), in every language the
// widget speaks (see i18n.ts).

import type { Lang } from "./i18n";

export interface EndStrings {
  question: string;
  /** The five scores' names, worst first. */
  scores: [string, string, string, string, string];
  /** A score's button: `{n}` of 5, `{label}` its name. */
  scoreButton: string;
  commentLabel: string;
  send: string;
  sending: string;
  thanks: string;
  /** The rating as sent: `{n}` of 5. */
  yourRating: string;
  /** `{max}` characters. */
  tooLong: string;
  failed: string;
  alreadyRated: string;
  download: string;
  downloadFailed: string;
}

export const END_STRINGS: Record<Lang, EndStrings> = {
  en: {
    question: "How was this conversation?",
    scores: ["Very bad", "Bad", "Okay", "Good", "Very good"],
    scoreButton: "{n} of 5: {label}",
    commentLabel: "Anything you would like to add? (optional)",
    send: "Send",
    sending: "Sending…",
    thanks: "Thanks for your feedback",
    yourRating: "You rated {n} of 5",
    tooLong: "At most {max} characters, please.",
    failed: "Your rating could not be sent. Please try again.",
    alreadyRated: "This conversation has already been rated.",
    download: "Download transcript",
    downloadFailed: "The transcript could not be downloaded. Please try again.",
  },
  de: {
    question: "Wie war dieses Gespräch?",
    scores: ["Sehr schlecht", "Schlecht", "Geht so", "Gut", "Sehr gut"],
    scoreButton: "{n} von 5: {label}",
    commentLabel: "Möchten Sie noch etwas ergänzen? (optional)",
    send: "Senden",
    sending: "Wird gesendet…",
    thanks: "Danke für Ihr Feedback",
    yourRating: "Ihre Bewertung: {n} von 5",
    tooLong: "Bitte höchstens {max} Zeichen.",
    failed: "Ihre Bewertung konnte nicht gesendet werden. Bitte versuchen Sie es noch einmal.",
    alreadyRated: "Dieses Gespräch wurde bereits bewertet.",
    download: "Verlauf herunterladen",
    downloadFailed: "Der Verlauf konnte nicht heruntergeladen werden. Bitte versuchen Sie es noch einmal.",
  },
  fr: {
    question: "Comment s’est passée cette conversation ?",
    scores: ["Très mauvaise", "Mauvaise", "Correcte", "Bonne", "Très bonne"],
    scoreButton: "{n} sur 5 : {label}",
    commentLabel: "Souhaitez-vous ajouter quelque chose ? (facultatif)",
    send: "Envoyer",
    sending: "Envoi…",
    thanks: "Merci pour votre avis",
    yourRating: "Votre note : {n} sur 5",
    tooLong: "{max} caractères au maximum, s’il vous plaît.",
    failed: "Votre note n’a pas pu être envoyée. Veuillez réessayer.",
    alreadyRated: "Cette conversation a déjà été notée.",
    download: "Télécharger la transcription",
    downloadFailed: "La transcription n’a pas pu être téléchargée. Veuillez réessayer.",
  },
};

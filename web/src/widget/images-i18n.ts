// The pictures' visitor-facing strings (widget-images.js), in every language the
// widget speaks (see i18n.ts). English shows the server's own words for a
// refused upload (they carry its detail); other languages word the refusal by
// its HTTP status, with these.

import type { Lang } from "./i18n";

export interface ImageStrings {
  picture: string;
  open: string;
  close: string;
  sending: string;
  failed: string;
  retry: string;
  dismiss: string;
  unavailable: string;
  notConnected: string;
  /** Why an upload was refused, by HTTP status (0: the server was not reached). */
  upload: Record<0 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429, string>;
  /** Any other status; `{status}` is the number. */
  uploadOther: string;
  /** Why a picture could not be shown. */
  fetchForbidden: string;
  fetchGone: string;
  fetchOther: string;
  fetchNotPicture: string;
  /** An agent's request for a screenshot (for a device that cannot share its screen). `{name}`: the agent. */
  shotAsks: string;
  shotNote: string;
  shotChoose: string;
  shotDecline: string;
  theAgent: string;
}

export const IMAGE_STRINGS: Record<Lang, ImageStrings> = {
  en: {
    picture: "Picture",
    open: "Open the picture",
    close: "Close",
    sending: "Sending picture… {p}",
    failed: "Picture not sent: {why}",
    retry: "Retry",
    dismiss: "Dismiss",
    unavailable: "Picture unavailable",
    notConnected: "Not connected yet. Try again in a moment.",
    upload: {
      0: "Could not reach the server. Check your connection and try again.",
      401: "Your session has ended. Reload the page and try again.",
      403: "You are not allowed to send pictures here.",
      404: "There is no open conversation to send the picture to.",
      409: "The conversation is not open for pictures right now.",
      413: "The picture is too large.",
      415: "That file is not a picture (PNG, JPEG, WebP or GIF).",
      422: "The picture could not be read.",
      429: "Too many pictures at once. Please wait a moment and try again.",
    },
    uploadOther: "The picture was not sent (error {status}).",
    fetchForbidden: "You are not allowed to see this picture.",
    fetchGone: "This picture is no longer available.",
    fetchOther: "The picture could not be loaded (error {status}).",
    fetchNotPicture: "The server sent something that is not a picture.",
    shotAsks: "{name} asks for a screenshot",
    shotNote: "Take a screenshot on your device, then choose it here. Only the picture you choose is sent.",
    shotChoose: "Choose a picture",
    shotDecline: "No thanks",
    theAgent: "The agent",
  },
  de: {
    picture: "Bild",
    open: "Bild öffnen",
    close: "Schließen",
    sending: "Bild wird gesendet… {p}",
    failed: "Bild nicht gesendet: {why}",
    retry: "Erneut versuchen",
    dismiss: "Schließen",
    unavailable: "Bild nicht verfügbar",
    notConnected: "Noch nicht verbunden. Bitte versuchen Sie es gleich noch einmal.",
    upload: {
      0: "Der Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
      401: "Ihre Sitzung ist abgelaufen. Laden Sie die Seite neu und versuchen Sie es erneut.",
      403: "Sie dürfen hier keine Bilder senden.",
      404: "Es gibt keine offene Unterhaltung, an die das Bild gesendet werden kann.",
      409: "In dieser Unterhaltung können gerade keine Bilder gesendet werden.",
      413: "Das Bild ist zu groß.",
      415: "Diese Datei ist kein Bild (PNG, JPEG, WebP oder GIF).",
      422: "Das Bild konnte nicht gelesen werden.",
      429: "Zu viele Bilder auf einmal. Bitte warten Sie einen Moment und versuchen Sie es erneut.",
    },
    uploadOther: "Das Bild wurde nicht gesendet (Fehler {status}).",
    fetchForbidden: "Sie dürfen dieses Bild nicht ansehen.",
    fetchGone: "Dieses Bild ist nicht mehr verfügbar.",
    fetchOther: "Das Bild konnte nicht geladen werden (Fehler {status}).",
    fetchNotPicture: "Der Server hat etwas gesendet, das kein Bild ist.",
    shotAsks: "{name} bittet um einen Screenshot",
    shotNote: "Machen Sie auf Ihrem Gerät einen Screenshot und wählen Sie ihn hier aus. Nur das Bild, das Sie auswählen, wird gesendet.",
    shotChoose: "Bild auswählen",
    shotDecline: "Nein danke",
    theAgent: "Der Mitarbeiter",
  },
  fr: {
    picture: "Image",
    open: "Ouvrir l’image",
    close: "Fermer",
    sending: "Envoi de l’image… {p}",
    failed: "Image non envoyée : {why}",
    retry: "Réessayer",
    dismiss: "Fermer",
    unavailable: "Image indisponible",
    notConnected: "Pas encore connecté. Réessayez dans un instant.",
    upload: {
      0: "Impossible de joindre le serveur. Vérifiez votre connexion et réessayez.",
      401: "Votre session a expiré. Rechargez la page et réessayez.",
      403: "Vous n’êtes pas autorisé à envoyer des images ici.",
      404: "Aucune conversation ouverte ne peut recevoir l’image.",
      409: "La conversation n’accepte pas d’images pour le moment.",
      413: "L’image est trop grande.",
      415: "Ce fichier n’est pas une image (PNG, JPEG, WebP ou GIF).",
      422: "L’image n’a pas pu être lue.",
      429: "Trop d’images à la fois. Patientez un instant, puis réessayez.",
    },
    uploadOther: "L’image n’a pas été envoyée (erreur {status}).",
    fetchForbidden: "Vous n’êtes pas autorisé à voir cette image.",
    fetchGone: "Cette image n’est plus disponible.",
    fetchOther: "L’image n’a pas pu être chargée (erreur {status}).",
    fetchNotPicture: "Le serveur a envoyé quelque chose qui n’est pas une image.",
    shotAsks: "{name} vous demande une capture d’écran",
    shotNote: "Faites une capture d’écran sur votre appareil, puis choisissez-la ici. Seule l’image que vous choisissez est envoyée.",
    shotChoose: "Choisir une image",
    shotDecline: "Non merci",
    theAgent: "Le conseiller",
  },
};

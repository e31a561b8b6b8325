// The screen share's visitor-facing strings (widget-share.js and /join), in
// every language the widget speaks (see i18n.ts).

import type { PeerState } from "../lib/share-peer";
import type { Problem } from "../lib/share-visitor";
import type { Lang } from "./i18n";

export interface ShareStrings {
  /** How the connection to the agent is doing, under the preview. */
  conn: Record<PeerState, string>;
  /** Why the picker or the browser did not share, in plain words. */
  problems: Record<Problem, string>;
  keyWrong: string;
  keyRateLimited: string;
  /** `{n}`: how many digits a session key has. */
  keyDigits: string;
  keyFailed: string;
  keyLabel: string;
  keyPrompt: string;
  keyJoin: string;
  cancel: string;
  notConnected: string;
  dismiss: string;
  theAgent: string;
  asks: string;
  inviteNote: string;
  /** The invitation on a device that cannot share its screen (a phone): a screenshot instead. */
  noShareNote: string;
  choosePicture: string;
  accept: string;
  decline: string;
  picking: string;
  popup: string;
  elsewhere: string;
  sharing: string;
  previewLabel: string;
  masked: string;
  stop: string;
  choosing: string;
  change: string;
  floatSharing: string;
  /** The sharing bar's control that opens and closes the preview. */
  showPreview: string;
  hidePreview: string;
  floatStop: string;
  /** After `problems.denied`: how to lift a standing block, in Firefox and elsewhere. */
  unblockFirefox: string;
  unblockOther: string;
}

export const SHARE_STRINGS: Record<Lang, ShareStrings> = {
  en: {
    conn: {
      connecting: "Connecting to the agent…",
      direct: "Connected",
      relayed: "Connected (through a relay server)",
      reconnecting: "Connection interrupted — reconnecting…",
      lost: "Connection lost — still trying…",
      closed: "Not connected",
    },
    problems: {
      insecure: "Screen sharing needs a secure (https) page. Please ask the website to use https.",
      unsupported:
        "This browser cannot share its screen (most phones and tablets cannot). You can send the agent a picture instead: take a screenshot and send it with the paperclip button (“Send a picture”) in the chat.",
      frame: "This page does not allow screen sharing here. A small window will open to share from.",
      popup_blocked:
        "Your browser blocked the small sharing window. Allow pop-ups for this site (look for the blocked pop-up icon at the end of the address bar), then ask the agent to invite you again.",
      cancelled: "You closed the picker or chose Block, so nothing is shared.",
      denied: "Your browser is blocking screen sharing for this site, so it did not ask you.",
      system_denied:
        "Your computer does not allow this browser to record the screen. Allow screen recording for your browser in the system settings (on a Mac: System Settings → Privacy & Security → Screen Recording), then try again.",
      not_found: "There was nothing to share: no screen, window or tab could be found.",
      not_readable: "The screen could not be read. Another program may be blocking it; close it and try again.",
      aborted: "The browser stopped the screen share before it started.",
      activation: "The browser needs a direct click to share. Please ask the agent to invite you again and click the button.",
      change_cancelled: "You kept sharing the same thing as before.",
      other: "Screen sharing did not start because of a browser problem.",
    },
    keyWrong: "That code is wrong or has expired. Check the digits, or ask for a new code.",
    keyRateLimited: "Too many tries. Please wait a minute, then try again.",
    keyDigits: "A code has {n} digits.",
    keyFailed: "The code could not be checked. Please try again.",
    keyLabel: "{n}-digit code",
    keyPrompt: "Enter the code the agent gave you",
    keyJoin: "Join",
    cancel: "Cancel",
    notConnected: "Not connected. Try again in a moment.",
    dismiss: "Dismiss",
    theAgent: "The agent",
    asks: "{name} asks to see your screen",
    inviteNote: "Nothing is shared until you choose what to show. You can stop at any moment.",
    noShareNote: "This device cannot share its screen. You can send a screenshot instead: take one, then choose it here.",
    choosePicture: "Choose a picture",
    accept: "Share my screen",
    decline: "No thanks",
    picking: "Choose what to share in your browser's window. Choose a single tab or window to keep the rest private.",
    popup: "Continue in the small Sightline window that opened.",
    elsewhere: "Your screen is shared from another window.",
    sharing: "You are sharing your screen",
    previewLabel: "What the agent sees",
    masked: "Private fields on this page are hidden from the agent.",
    stop: "Stop sharing",
    choosing: "Choosing…",
    change: "Change what I share",
    floatSharing: "Sharing your screen",
    showPreview: "Show preview",
    hidePreview: "Hide preview",
    floatStop: "Stop",
    unblockFirefox: "To allow it, click the crossed-out screen icon at the start of the address bar and remove the block, then ask the agent to invite you again.",
    unblockOther:
      "To allow it, click the site settings icon at the start of the address bar and allow screen sharing (or check your browser's settings), then ask the agent to invite you again.",
  },
  de: {
    conn: {
      connecting: "Verbindung zum Mitarbeiter wird hergestellt…",
      direct: "Verbunden",
      relayed: "Verbunden (über einen Relay-Server)",
      reconnecting: "Verbindung unterbrochen – wird wiederhergestellt…",
      lost: "Verbindung verloren – neuer Versuch läuft…",
      closed: "Nicht verbunden",
    },
    problems: {
      insecure: "Die Bildschirmfreigabe braucht eine sichere Seite (https). Bitten Sie bitte den Betreiber der Website, https zu verwenden.",
      unsupported:
        "Dieser Browser kann den Bildschirm nicht freigeben (die meisten Smartphones und Tablets können das nicht). Sie können dem Mitarbeiter stattdessen ein Bild schicken: Machen Sie einen Screenshot und senden Sie ihn mit der Büroklammer („Bild senden“) im Chat.",
      frame: "Diese Seite erlaubt hier keine Bildschirmfreigabe. Ein kleines Fenster öffnet sich, aus dem Sie freigeben können.",
      popup_blocked:
        "Ihr Browser hat das kleine Freigabefenster blockiert. Erlauben Sie Pop-ups für diese Website (achten Sie auf das Symbol für blockierte Pop-ups am Ende der Adressleiste) und bitten Sie den Mitarbeiter dann, Sie erneut einzuladen.",
      cancelled: "Sie haben die Auswahl geschlossen oder „Blockieren“ gewählt. Es wird nichts freigegeben.",
      denied: "Ihr Browser blockiert die Bildschirmfreigabe für diese Website und hat Sie daher nicht gefragt.",
      system_denied:
        "Ihr Computer erlaubt diesem Browser keine Bildschirmaufnahme. Erlauben Sie die Bildschirmaufnahme für Ihren Browser in den Systemeinstellungen (auf einem Mac: Systemeinstellungen → Datenschutz & Sicherheit → Bildschirmaufnahme) und versuchen Sie es dann erneut.",
      not_found: "Es gab nichts freizugeben: Kein Bildschirm, Fenster oder Tab wurde gefunden.",
      not_readable: "Der Bildschirm konnte nicht gelesen werden. Möglicherweise blockiert ihn ein anderes Programm; schließen Sie es und versuchen Sie es erneut.",
      aborted: "Der Browser hat die Bildschirmfreigabe vor dem Start abgebrochen.",
      activation: "Der Browser braucht zum Freigeben einen direkten Klick. Bitte lassen Sie sich vom Mitarbeiter erneut einladen und klicken Sie auf die Schaltfläche.",
      change_cancelled: "Sie geben weiterhin dasselbe frei wie zuvor.",
      other: "Die Bildschirmfreigabe wurde wegen eines Browserproblems nicht gestartet.",
    },
    keyWrong: "Dieser Code ist falsch oder abgelaufen. Prüfen Sie die Ziffern oder fragen Sie nach einem neuen Code.",
    keyRateLimited: "Zu viele Versuche. Bitte warten Sie eine Minute und versuchen Sie es dann erneut.",
    keyDigits: "Ein Code hat {n} Ziffern.",
    keyFailed: "Der Code konnte nicht geprüft werden. Bitte versuchen Sie es erneut.",
    keyLabel: "{n}-stelliger Code",
    keyPrompt: "Geben Sie den Code ein, den Ihnen der Mitarbeiter genannt hat",
    keyJoin: "Beitreten",
    cancel: "Abbrechen",
    notConnected: "Nicht verbunden. Bitte versuchen Sie es gleich noch einmal.",
    dismiss: "Schließen",
    theAgent: "Der Mitarbeiter",
    asks: "{name} möchte Ihren Bildschirm sehen",
    inviteNote: "Es wird nichts freigegeben, bevor Sie auswählen, was Sie zeigen möchten. Sie können jederzeit beenden.",
    noShareNote: "Dieses Gerät kann seinen Bildschirm nicht teilen. Sie können stattdessen einen Screenshot senden: Machen Sie einen und wählen Sie ihn hier aus.",
    choosePicture: "Bild auswählen",
    accept: "Bildschirm freigeben",
    decline: "Nein danke",
    picking: "Wählen Sie im Fenster Ihres Browsers aus, was Sie freigeben möchten. Wählen Sie einen einzelnen Tab oder ein einzelnes Fenster, damit der Rest privat bleibt.",
    popup: "Fahren Sie in dem kleinen Sightline-Fenster fort, das sich geöffnet hat.",
    elsewhere: "Ihr Bildschirm wird aus einem anderen Fenster freigegeben.",
    sharing: "Sie geben Ihren Bildschirm frei",
    previewLabel: "Was der Mitarbeiter sieht",
    masked: "Private Felder auf dieser Seite sind für den Mitarbeiter verborgen.",
    stop: "Freigabe beenden",
    choosing: "Auswahl läuft…",
    change: "Andere Auswahl freigeben",
    floatSharing: "Bildschirm wird freigegeben",
    showPreview: "Vorschau anzeigen",
    hidePreview: "Vorschau ausblenden",
    floatStop: "Beenden",
    unblockFirefox:
      "Um sie zu erlauben, klicken Sie auf das durchgestrichene Bildschirm-Symbol am Anfang der Adressleiste und heben Sie die Blockierung auf. Bitten Sie dann den Mitarbeiter, Sie erneut einzuladen.",
    unblockOther:
      "Um sie zu erlauben, klicken Sie auf das Symbol für die Website-Einstellungen am Anfang der Adressleiste und erlauben Sie die Bildschirmfreigabe (oder prüfen Sie die Einstellungen Ihres Browsers). Bitten Sie dann den Mitarbeiter, Sie erneut einzuladen.",
  },
  fr: {
    conn: {
      connecting: "Connexion au conseiller…",
      direct: "Connecté",
      relayed: "Connecté (via un serveur relais)",
      reconnecting: "Connexion interrompue — reconnexion…",
      lost: "Connexion perdue — nouvelle tentative en cours…",
      closed: "Non connecté",
    },
    problems: {
      insecure: "Le partage d’écran nécessite une page sécurisée (https). Veuillez demander au site d’utiliser https.",
      unsupported:
        "Ce navigateur ne peut pas partager son écran (la plupart des téléphones et tablettes ne le peuvent pas). Vous pouvez envoyer une image au conseiller : faites une capture d’écran et envoyez-la avec le trombone (« Envoyer une image ») dans le chat.",
      frame: "Cette page n’autorise pas le partage d’écran ici. Une petite fenêtre va s’ouvrir pour partager.",
      popup_blocked:
        "Votre navigateur a bloqué la petite fenêtre de partage. Autorisez les fenêtres pop-up pour ce site (cherchez l’icône de pop-up bloquée au bout de la barre d’adresse), puis demandez au conseiller de vous inviter à nouveau.",
      cancelled: "Vous avez fermé le sélecteur ou choisi « Bloquer » : rien n’est partagé.",
      denied: "Votre navigateur bloque le partage d’écran pour ce site, il ne vous a donc rien demandé.",
      system_denied:
        "Votre ordinateur n’autorise pas ce navigateur à enregistrer l’écran. Autorisez l’enregistrement de l’écran pour votre navigateur dans les réglages du système (sur Mac : Réglages Système → Confidentialité et sécurité → Enregistrement de l’écran), puis réessayez.",
      not_found: "Il n’y avait rien à partager : aucun écran, aucune fenêtre ni aucun onglet n’a été trouvé.",
      not_readable: "L’écran n’a pas pu être lu. Un autre programme le bloque peut-être ; fermez-le et réessayez.",
      aborted: "Le navigateur a arrêté le partage d’écran avant qu’il ne commence.",
      activation: "Le navigateur a besoin d’un clic direct pour partager. Demandez au conseiller de vous inviter à nouveau, puis cliquez sur le bouton.",
      change_cancelled: "Vous continuez à partager la même chose qu’avant.",
      other: "Le partage d’écran n’a pas démarré à cause d’un problème du navigateur.",
    },
    keyWrong: "Ce code est erroné ou a expiré. Vérifiez les chiffres ou demandez un nouveau code.",
    keyRateLimited: "Trop de tentatives. Veuillez patienter une minute, puis réessayer.",
    keyDigits: "Un code comporte {n} chiffres.",
    keyFailed: "Le code n’a pas pu être vérifié. Veuillez réessayer.",
    keyLabel: "Code à {n} chiffres",
    keyPrompt: "Saisissez le code que le conseiller vous a donné",
    keyJoin: "Rejoindre",
    cancel: "Annuler",
    notConnected: "Non connecté. Réessayez dans un instant.",
    dismiss: "Fermer",
    theAgent: "Le conseiller",
    asks: "{name} souhaite voir votre écran",
    inviteNote: "Rien n’est partagé tant que vous n’avez pas choisi quoi montrer. Vous pouvez arrêter à tout moment.",
    noShareNote: "Cet appareil ne peut pas partager son écran. Vous pouvez envoyer une capture d’écran à la place : faites-en une, puis choisissez-la ici.",
    choosePicture: "Choisir une image",
    accept: "Partager mon écran",
    decline: "Non merci",
    picking: "Choisissez ce que vous partagez dans la fenêtre de votre navigateur. Choisissez un seul onglet ou une seule fenêtre pour garder le reste privé.",
    popup: "Continuez dans la petite fenêtre Sightline qui s’est ouverte.",
    elsewhere: "Votre écran est partagé depuis une autre fenêtre.",
    sharing: "Vous partagez votre écran",
    previewLabel: "Ce que voit le conseiller",
    masked: "Les champs privés de cette page sont masqués pour le conseiller.",
    stop: "Arrêter le partage",
    choosing: "Choix en cours…",
    change: "Changer ce que je partage",
    floatSharing: "Partage de votre écran",
    showPreview: "Afficher l’aperçu",
    hidePreview: "Masquer l’aperçu",
    floatStop: "Arrêter",
    unblockFirefox:
      "Pour l’autoriser, cliquez sur l’icône d’écran barrée au début de la barre d’adresse et retirez le blocage, puis demandez au conseiller de vous inviter à nouveau.",
    unblockOther:
      "Pour l’autoriser, cliquez sur l’icône des paramètres du site au début de la barre d’adresse et autorisez le partage d’écran (ou vérifiez les paramètres de votre navigateur), puis demandez au conseiller de vous inviter à nouveau.",
  },
};

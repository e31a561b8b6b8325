// Co-browsing's and remote control's visitor-facing strings (widget-cobrowse.js),
// in every language the widget speaks (see i18n.ts).

import type { Lang } from "./i18n";

export interface CobrowseStrings {
  asks: string;
  sees: string;
  never: string;
  allow: string;
  decline: string;
  viewing: string;
  stop: string;
  someone: string;
  controlAsks: string;
  controlNote: string;
  controlAllow: string;
  controlling: string;
  takeBack: string;
  clearDrawings: string;
}

export const COBROWSE_STRINGS: Record<Lang, CobrowseStrings> = {
  en: {
    asks: "{name} asks to see this page with you",
    sees: "{name} will see this page and the pages of this site you open while co-browsing is on, and where you point and click.",
    never: "Private fields and passwords are never shown. You can stop at any moment.",
    allow: "Allow",
    decline: "No thanks",
    viewing: "{name} is viewing this page",
    stop: "Stop",
    someone: "The agent",
    controlAsks: "{name} asks to control this page",
    controlNote: "{name} will be able to click, scroll, choose options and type into fields that are not private. Passwords and private fields stay yours. Press Esc or “Take back control” at any moment.",
    controlAllow: "Give control",
    controlling: "{name} is controlling this page",
    takeBack: "Take back control (Esc)",
    clearDrawings: "Clear drawings",
  },
  de: {
    asks: "{name} möchte diese Seite gemeinsam mit Ihnen ansehen",
    sees: "{name} sieht diese Seite und alle Seiten dieser Website, die Sie öffnen, solange das gemeinsame Browsen läuft, und auch, wohin Sie zeigen und klicken.",
    never: "Private Felder und Passwörter werden nie angezeigt. Sie können jederzeit beenden.",
    allow: "Erlauben",
    decline: "Nein danke",
    viewing: "{name} sieht diese Seite",
    stop: "Beenden",
    someone: "Der Mitarbeiter",
    controlAsks: "{name} möchte diese Seite steuern",
    controlNote: "{name} kann dann klicken, scrollen, Optionen wählen und in Felder tippen, die nicht privat sind. Passwörter und private Felder bleiben unzugänglich. Mit Esc oder „Steuerung zurücknehmen“ beenden Sie das jederzeit.",
    controlAllow: "Steuerung erlauben",
    controlling: "{name} steuert diese Seite",
    takeBack: "Steuerung zurücknehmen (Esc)",
    clearDrawings: "Zeichnungen entfernen",
  },
  fr: {
    asks: "{name} souhaite voir cette page avec vous",
    sees: "{name} verra cette page et les pages de ce site que vous ouvrez tant que la co-navigation est active, ainsi que l’endroit où vous pointez et cliquez.",
    never: "Les champs privés et les mots de passe ne sont jamais montrés. Vous pouvez arrêter à tout moment.",
    allow: "Autoriser",
    decline: "Non merci",
    viewing: "{name} voit cette page",
    stop: "Arrêter",
    someone: "Le conseiller",
    controlAsks: "{name} demande à contrôler cette page",
    controlNote: "{name} pourra cliquer, faire défiler, choisir des options et saisir du texte dans les champs qui ne sont pas privés. Les mots de passe et les champs privés restent inaccessibles. Appuyez sur Échap ou sur « Reprendre le contrôle » à tout moment.",
    controlAllow: "Donner le contrôle",
    controlling: "{name} contrôle cette page",
    takeBack: "Reprendre le contrôle (Échap)",
    clearDrawings: "Effacer les dessins",
  },
};

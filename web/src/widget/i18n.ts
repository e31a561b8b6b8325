// The widget's own strings (widget.js). English is built in; German and French
// are language packs (widget-de.js, widget-fr.js, built from i18n-de.ts and
// i18n-fr.ts) that main.ts loads before it mounts the widget, so that widget.js
// stays within its size budget. The lazily loaded parts carry their own tables
// (share-i18n.ts, cobrowse-i18n.ts, images-i18n.ts, …), in every language: each
// table is typed by an interface, so a missing key or language is a type error.

import type { ErrorCode } from "../protocol.gen";

/** The languages every visitor-facing text exists in. */
export const LANGS = ["en", "de", "fr"] as const;
export type Lang = (typeof LANGS)[number];

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
  /** An agent who took part (invited by the one handling it) left. */
  left: string;
  closedByAgent: string;
  closedByVisitor: string;
  closed: string;
  startNew: string;
  waitingNote: string;
  subtitleAway: string;
  emailSaved: string;
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
  /** The pill over the chat when a message arrives while the visitor reads further up. */
  newMessage: string;
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
  attach: string;
  /** The server's refusals, by their protocol code (its own words are English). */
  errors: Record<ErrorCode, string>;
}

export const en: Strings = {
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
  left: "{name} left the conversation",
  closedByAgent: "{name} ended the conversation",
  closedByVisitor: "You ended the conversation",
  closed: "The conversation was closed",
  startNew: "Write a message to start a new conversation.",
  waitingNote: "Thanks! An agent will be with you shortly.",
  subtitleAway: "No one is available right now",
  emailSaved: "We will reply to {email}.",
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
  newMessage: "New message",
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
  attach: "Send a picture",
  errors: {
    bad_request: "That could not be sent.",
    too_large: "That is too long to send.",
    not_authenticated: "Your chat session has ended. Please reload the page.",
    forbidden: "That is not allowed here.",
    not_found: "This conversation is no longer available.",
    invalid_state: "That is not possible right now.",
    rate_limited: "You are sending too quickly. Please wait a moment.",
    unsupported_version: "The chat has been updated. Please reload the page.",
    internal: "Something went wrong on our side. Please try again.",
  },
};

/** The language to use: `data-lang` if supported, else the first supported browser language, else en. */
export function pickLang(requested: string | null | undefined, browser: readonly string[] = []): Lang {
  for (const cand of [requested, ...browser]) {
    if (!cand) continue;
    const base = cand.toLowerCase().split(/[-_]/)[0];
    if ((LANGS as readonly string[]).includes(base)) return base as Lang;
  }
  return "en";
}

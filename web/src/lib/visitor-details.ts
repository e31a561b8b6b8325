// What the console shows of a visitor in the details panel (DOM-free): their
// local time, what their browser can do, and short labels.

import type { VisitorContext } from "../protocol.gen";

const pad2 = (n: number) => String(n).padStart(2, "0");

/** "14:05 (UTC+1)": the visitor's wall clock at `now`, from their UTC offset. */
export function localTime(offsetMinutes: number, now: number): string {
  const local = new Date(now + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? "−" : "+";
  const abs = Math.abs(offsetMinutes);
  const zone = abs === 0 ? "UTC" : `UTC${sign}${Math.floor(abs / 60)}${abs % 60 ? ":" + pad2(abs % 60) : ""}`;
  return `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())} (${zone})`;
}

/** What the agent can ask of this visitor, in words ("Screen share: no (a phone)"). */
export function capabilityLines(context: VisitorContext | null | undefined): [string, string][] {
  const device = context?.device;
  if (!device) return [["Screen share", "not known (an older widget)"], ["Co-browse", "not known"]];
  return [
    ["Screen share", device.can_share_screen ? "yes" : device.touch ? "no (a phone or tablet: ask for a screenshot)" : "no (this browser cannot)"],
    ["Co-browse", device.can_cobrowse ? "yes" : "no"],
  ];
}

/** "Firefox 153 on Linux", or what part of it is known. */
export function browserLine(context: VisitorContext | null | undefined): string {
  const browser = context?.browser ?? "";
  const os = context?.os ?? "";
  if (browser && os) return `${browser} on ${os}`;
  return browser || os || "unknown";
}

/**
 * How the agent can see this visitor's screen: a screen share, or (when their
 * browser cannot share, as on phones and tablets) a screenshot they pick and send.
 * `why` is the tooltip that says why; a visitor whose widget said nothing (an
 * older widget) is offered the share, which reports its own failure.
 */
export function screenOffer(context: VisitorContext | null | undefined): { ask: "share" | "screenshot"; why: string } {
  const device = context?.device;
  if (!device || device.can_share_screen) return { ask: "share", why: "Ask the visitor to share their screen" };
  return {
    ask: "screenshot",
    why: device.touch
      ? "The visitor is on a phone or tablet, which cannot share its screen: ask them for a screenshot instead"
      : "The visitor's browser cannot share its screen: ask them for a screenshot instead",
  };
}

/** Whether co-browsing (and with it remote control) can be asked of this visitor; `why` is the tooltip. */
export function cobrowseOffer(context: VisitorContext | null | undefined): { offered: boolean; why: string } {
  const device = context?.device;
  if (device && !device.can_cobrowse) return { offered: false, why: "The visitor's page cannot be co-browsed (a session-key call has no page of theirs to see)" };
  return { offered: true, why: "Ask the visitor to let you see their page" };
}

// What the agent may use, reflected in the console: the buttons for a capability
// an admin has not allowed them (or the site policy turned off) are hidden by
// console.css from attributes on <html>, so that the views that own those
// buttons need not know. The server refuses the capability whatever is shown.

import type { Permissions } from "../protocol.gen";

/** One `data-deny-*` attribute on <html> for each capability not allowed. */
export function reflectPermissions(p: Permissions): void {
  const root = document.documentElement;
  root.toggleAttribute("data-deny-screen-share", !p.screen_share);
  root.toggleAttribute("data-deny-cobrowse", !p.cobrowse);
  root.toggleAttribute("data-deny-remote-control", !p.remote_control);
  // A session key asks for a screen share or co-browsing: without both, or
  // without keys, there is nothing to hand out.
  root.toggleAttribute("data-deny-session-keys", !p.session_keys || (!p.screen_share && !p.cobrowse));
}

// What this browser can do, told to the server in the visitor's hello, so that
// agents are offered what is possible: a phone cannot share its screen (it can
// send a picture). Shared by the widget and the /join page.

import type { VisitorDevice } from "../protocol.gen";

export function browserDevice(): VisitorDevice {
  return {
    can_share_screen: !!navigator.mediaDevices?.getDisplayMedia,
    // Every browser that runs this widget can be recorded for co-browsing.
    can_cobrowse: true,
    touch: matchMedia("(pointer:coarse)").matches,
    // The server drops a name it does not take (never the hello).
    time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    utc_offset_minutes: -new Date().getTimezoneOffset(),
  };
}

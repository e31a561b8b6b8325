// Entry point of widget-links.js, loaded by widget.js for the first link card an
// agent sends. It hands its API to the widget through a global.

import { mountLinks } from "./links-ui";

(window as unknown as { __sightlineLinksModule?: unknown }).__sightlineLinksModule = { mountLinks };

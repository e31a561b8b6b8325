// Entry point of widget-share.js, loaded by widget.js on the first invitation (or
// "I have a code"). It hands its API to the widget through a global.

import { mountShare } from "./share-ui";

(window as unknown as { __sightlineShareModule?: unknown }).__sightlineShareModule = { mountShare };

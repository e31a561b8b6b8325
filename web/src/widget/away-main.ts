// Entry point of widget-away.js, loaded by widget.js the first time nobody is
// available to a visitor who writes. It hands its API to the widget through a global.

import { mountAway } from "./away-ui";

(window as unknown as { __sightlineAwayModule?: unknown }).__sightlineAwayModule = { mountAway };

// Entry point of widget-end.js, loaded by widget.js when a conversation has
// closed. It hands its API to the widget through a global.

import { mountEnd } from "./end-ui";

(window as unknown as { __sightlineEndModule?: unknown }).__sightlineEndModule = { mountEnd };

// Entry point of widget-cobrowse.js, loaded by widget.js when an agent asks to
// co-browse (and on every page while co-browsing is on). It carries rrweb's
// recorder, so widget.js stays small. It hands its API to the widget through a global.

import { mountCobrowse } from "./cobrowse-ui";

(window as unknown as { __sightlineCobrowseModule?: unknown }).__sightlineCobrowseModule = { mountCobrowse };

// Entry point of widget-images.js, loaded by widget.js for the first picture shown
// or sent. It hands its API to the widget through a global.

import { mountImages } from "./images-ui";

(window as unknown as { __sightlineImagesModule?: unknown }).__sightlineImagesModule = { mountImages };

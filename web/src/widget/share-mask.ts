// Privacy processing of a capture before it leaves the browser. When the visitor
// shares this very tab, every element marked `data-sightline-private` and every
// password field is painted over with an opaque box burned into the frames
// (canvas pipeline), and a site can restrict the share to one element
// (`data-sightline-share-only`): Region Capture's cropTo where available, else a
// canvas crop. Other surfaces (another tab, a window, the screen) pass through:
// the page cannot see into them.

import { usableSelectors, withExtra } from "../lib/private-selectors";
import { domParses } from "./selector-check";
import { cropInVideo, maskBoxes, type Rect } from "../lib/share-geometry";
import type { Prepared } from "../lib/share-visitor";

export const PRIVATE_SELECTOR = "[data-sightline-private], input[type=password]";
/** The site policy's private selectors, usable ones only (see `setSitePrivate`). */
let sitePrivate = "";

/** Masks what the site policy's selectors match too, from the next frame on. */
export function setSitePrivate(selectors: readonly string[]): void {
  sitePrivate = usableSelectors(selectors, domParses);
}
export const SHARE_ONLY_SELECTOR = "[data-sightline-share-only]";
export const MASK_COLOR = "#2b2f36";

interface CropTargetStatic {
  fromElement(el: Element): Promise<unknown>;
}
type CroppableTrack = MediaStreamTrack & { cropTo?: (target: unknown) => Promise<void> };

function rectOf(el: Element): Rect {
  const r = el.getBoundingClientRect();
  return { x: r.left, y: r.top, width: r.width, height: r.height };
}

/** Visible private elements (in the page and in open shadow roots we are given). */
function privateRects(extra: () => Element[]): Rect[] {
  const out: Rect[] = [];
  for (const el of Array.from(document.querySelectorAll(withExtra(PRIVATE_SELECTOR, sitePrivate)))) out.push(rectOf(el));
  for (const el of extra()) out.push(rectOf(el));
  return out;
}

/**
 * Whether `track` captures this very tab. Region Capture's cropTo succeeds only for
 * a self-capture, so a successful (and undone) crop proves it.
 */
async function isSelfCapture(track: CroppableTrack): Promise<boolean> {
  const settings = track.getSettings() as MediaTrackSettings & { displaySurface?: string };
  if (settings.displaySurface && settings.displaySurface !== "browser") return false;
  const CT = (globalThis as unknown as { CropTarget?: CropTargetStatic }).CropTarget;
  if (!CT || typeof track.cropTo !== "function") return false;
  try {
    // A crop settles with the first frame cropped; should none come, this is still
    // a tab (checked above), so it is masked as if it were this one.
    await within(track.cropTo(await CT.fromElement(document.body)), CROP_WAIT_MS);
    await within(track.cropTo(undefined), CROP_WAIT_MS);
    return true;
  } catch {
    return false;
  }
}

const CROP_WAIT_MS = 5000;

/** `p`, or undefined once `ms` have passed without it settling. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export interface MaskOptions {
  /** Frames per second of the canvas pipeline. */
  fps: number;
  /** More elements to hide (e.g. the widget's own preview). */
  extraPrivate?: () => Element[];
  /** Called for every box drawn (tests). */
  onFrame?: (boxes: Rect[]) => void;
}

export async function prepareCapture(stream: MediaStream, opts: MaskOptions): Promise<Prepared> {
  const raw = stream.getVideoTracks()[0] as CroppableTrack;
  const stopAll = () => stream.getTracks().forEach((t) => t.stop());
  // From the start: the crops below settle only with a frame, as does our video.
  const nudger = nudge();
  if (!(await isSelfCapture(raw))) {
    nudger.done();
    return { track: raw, raw, selfCapture: false, stop: stopAll };
  }

  // Restrict to one element where the site asks for it.
  const only = document.querySelector(SHARE_ONLY_SELECTOR);
  let regionCropped = false;
  if (only) {
    const CT = (globalThis as unknown as { CropTarget?: CropTargetStatic }).CropTarget;
    try {
      if (CT && raw.cropTo) {
        // Applied with the next frame, which the nudge brings.
        await within(raw.cropTo(await CT.fromElement(only)), CROP_WAIT_MS);
        regionCropped = true;
      }
    } catch {
      regionCropped = false;
    }
  }

  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([raw]);
  // Not awaited: a detached video's play() settles only with its first frame, and a
  // tab capture sends frames only when the tab repaints; on a still page that frame
  // may never come by itself (see `nudge`).
  void video.play().catch(() => undefined);
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { alpha: false }) as CanvasRenderingContext2D;
  const extra = opts.extraPrivate ?? (() => []);
  const draw = () => {
    const vw = video.videoWidth;
    const vh = video.videoHeight;
    if (!vw || !vh) return;
    nudger.done();
    const viewport = { width: window.innerWidth, height: window.innerHeight };
    let source: Rect = { x: 0, y: 0, width: viewport.width, height: viewport.height };
    let from: Rect = { x: 0, y: 0, width: vw, height: vh };
    if (only) {
      const r = rectOf(only);
      if (regionCropped) source = r;
      else {
        const c = cropInVideo(r, viewport, { width: vw, height: vh });
        if (c) {
          from = c;
          source = r;
        }
      }
    }
    if (canvas.width !== from.width || canvas.height !== from.height) {
      canvas.width = from.width;
      canvas.height = from.height;
    }
    ctx.drawImage(video, from.x, from.y, from.width, from.height, 0, 0, from.width, from.height);
    const boxes = maskBoxes(privateRects(extra), source, { width: canvas.width, height: canvas.height });
    ctx.fillStyle = MASK_COLOR;
    for (const b of boxes) ctx.fillRect(b.x, b.y, b.width, b.height);
    opts.onFrame?.(boxes);
  };
  draw();
  const fps = Math.max(1, Math.min(30, opts.fps));
  const timer = setInterval(draw, Math.round(1000 / fps));
  const out = canvas.captureStream(fps).getVideoTracks()[0];
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    nudger.done();
    out.stop();
    stopAll();
    video.srcObject = null;
  };
  raw.addEventListener("ended", () => {
    clearInterval(timer);
  });
  return { track: out, raw, selfCapture: true, stop };
}

/**
 * Makes the tab repaint until the capture's first frame has reached our video.
 * Chromium captures a tab only when it repaints (plus refresh frames that can come
 * before anything listens), so on a still page a crop or the pipeline could wait
 * for ever, with the visitor's share stuck at "starting". Every 100 ms the colour
 * of one almost transparent, fixed pixel flips; `done` removes it.
 */
function nudge(): { done(): void } {
  const el = document.createElement("sightline-nudge");
  el.setAttribute("aria-hidden", "true");
  el.style.cssText = "all:initial;position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647";
  document.documentElement.appendChild(el);
  let odd = false;
  const poke = () => {
    odd = !odd;
    el.style.background = odd ? "rgba(128,128,128,0.02)" : "rgba(128,128,128,0.03)";
  };
  poke();
  const timer = setInterval(poke, 100);
  return {
    done() {
      clearInterval(timer);
      el.remove();
    },
  };
}

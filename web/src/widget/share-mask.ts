// Privacy processing of a capture before it leaves the browser. When the visitor
// shares this very tab, every element marked `data-sightline-private` and every
// password field is painted over with an opaque box burned into the frames
// (canvas pipeline), and a site can restrict the share to one element
// (`data-sightline-share-only`), cut out of each frame on the canvas. Region
// Capture's cropTo only tells whether the capture is this tab. Other surfaces (another tab, a window, the screen) pass through:
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

/** How long a crop may take to settle before the pipeline goes on (masking). */
const CROP_WAIT_MS = 5000;
const LATE = Symbol("late");

/** `p`, or `LATE` once `ms` have passed without it settling. */
function within<T>(p: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(() => resolve(LATE), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Whether `track` captures this very tab. Region Capture's cropTo succeeds only for
 * a self-capture, so a successful (and undone) crop proves it. A refusal comes at
 * once; a crop settles only with the first frame cropped, so the tab is made to
 * repaint meanwhile (`nudge`). A tab whose crops have not settled within
 * CROP_WAIT_MS is taken for this one (it is masked) and `settling` is what is left
 * to wait for: until it settles, frames may still be cropped to the body, and if it
 * settles false (a crop failed) their geometry stays unknown.
 */
async function detectSelfCapture(track: CroppableTrack, nudger: Nudger): Promise<{ self: boolean; settling: Promise<boolean> | null }> {
  const settings = track.getSettings() as MediaTrackSettings & { displaySurface?: string };
  if (settings.displaySurface && settings.displaySurface !== "browser") return { self: false, settling: null };
  const CT = (globalThis as unknown as { CropTarget?: CropTargetStatic }).CropTarget;
  if (!CT || typeof track.cropTo !== "function") return { self: false, settling: null };
  const crop = track.cropTo.bind(track);
  nudger.start(document.body);
  let cropped: Promise<void>;
  try {
    cropped = crop(await CT.fromElement(document.body));
  } catch {
    return { self: false, settling: null };
  }
  // Refused: another tab. Once the crop to the body has succeeded it is this tab,
  // whatever the undoing does: a failed undo leaves its geometry unknown (false).
  const first = await within(
    cropped.then(
      () => true,
      () => false,
    ),
    CROP_WAIT_MS,
  );
  if (first === false) return { self: false, settling: null };
  const undone = (first === LATE ? cropped : Promise.resolve()).then(() => crop(undefined)).then(
    () => true,
    () => false,
  );
  const second = await within(undone, CROP_WAIT_MS);
  if (second === true) return { self: true, settling: null };
  return { self: true, settling: second === LATE ? undone : Promise.resolve(false) };
}

export interface MaskOptions {
  /** Frames per second of the canvas pipeline. */
  fps: number;
  /** More elements to hide (e.g. the widget's own preview). */
  extraPrivate?: () => Element[];
  /** Called for every frame drawn with its boxes; `blank` when it was painted over whole (tests). */
  onFrame?: (boxes: Rect[], blank: boolean) => void;
  /** Where the repaint helper goes (see `nudge`); the document's root by default. */
  nudgeParent?: () => Node;
}

export async function prepareCapture(stream: MediaStream, opts: MaskOptions): Promise<Prepared> {
  const raw = stream.getVideoTracks()[0] as CroppableTrack;
  const stopAll = () => stream.getTracks().forEach((t) => t.stop());
  const nudger = nudge(opts.nudgeParent ?? (() => document.documentElement));
  try {
    return await pipeline(raw, stopAll, nudger, opts);
  } catch (err) {
    nudger.done();
    throw err;
  }
}

async function pipeline(raw: CroppableTrack, stopAll: () => void, nudger: Nudger, opts: MaskOptions): Promise<Prepared> {
  const detected = await detectSelfCapture(raw, nudger);
  if (!detected.self) {
    nudger.done();
    return { track: raw, raw, selfCapture: false, stop: stopAll };
  }
  // Until detection's crops have settled, what the video shows is not known: frames
  // are painted over whole; for good if a crop failed.
  let unsettled = !!detected.settling;
  let broken = false;
  const video = document.createElement("video");
  const attach = () => {
    video.srcObject = new MediaStream([raw]);
    // Not awaited: a detached video's play() settles only with its first frame, and
    // a tab capture sends frames only when the tab repaints (see `nudge`).
    void video.play().catch(() => undefined);
  };
  void detected.settling?.then((ok) => {
    if (!ok) broken = true;
    else {
      // A frame from before the undo may still be in the video: start afresh.
      video.srcObject = null;
      attach();
    }
    unsettled = false;
  });

  // Restrict to one element where the site asks for it: cut out of each frame here.
  // (Not with Region Capture's cropTo: a crop to an element sometimes never settled
  // in Chromium, with no frame delivered at all, and every frame is redrawn anyway.)
  const only = document.querySelector(SHARE_ONLY_SELECTOR);

  video.muted = true;
  video.playsInline = true;
  attach();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { alpha: false }) as CanvasRenderingContext2D;
  const extra = opts.extraPrivate ?? (() => []);
  const draw = () => {
    const vw = video.videoWidth;
    const vh = video.videoHeight;
    // Repaint until the video has its first frame and detection's crops have settled.
    if (vw && vh && !unsettled) nudger.done();
    else if (!broken) nudger.start(document.body);
    if (!vw || !vh) return;
    const viewport = { width: window.innerWidth, height: window.innerHeight };
    // Nothing of the frame goes out: painted over whole, at the size it had.
    const blank = () => {
      ctx.fillStyle = MASK_COLOR;
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      opts.onFrame?.([{ x: 0, y: 0, width: canvas.width, height: canvas.height }], true);
    };
    // A crop is on its way, or failed: the frame's geometry is unknown.
    if (unsettled || broken) return blank();
    let source: Rect = { x: 0, y: 0, width: viewport.width, height: viewport.height };
    if (only) {
      // The whole element, at the frame's scale; what of it is out of view stays
      // painted over, and so does all of it while it is out of view.
      const r = rectOf(only);
      const kx = vw / viewport.width;
      const ky = vh / viewport.height;
      const w = Math.max(1, Math.round(r.width * kx));
      const hh = Math.max(1, Math.round(r.height * ky));
      if (canvas.width !== w || canvas.height !== hh) {
        canvas.width = w;
        canvas.height = hh;
      }
      const c = cropInVideo(r, viewport, { width: vw, height: vh });
      if (!c) return blank();
      ctx.fillStyle = MASK_COLOR;
      ctx.fillRect(0, 0, w, hh);
      ctx.drawImage(video, c.x, c.y, c.width, c.height, Math.round(c.x - r.x * kx), Math.round(c.y - r.y * ky), c.width, c.height);
      source = r;
    } else {
      if (canvas.width !== vw || canvas.height !== vh) {
        canvas.width = vw;
        canvas.height = vh;
      }
      ctx.drawImage(video, 0, 0);
    }
    const boxes = maskBoxes(privateRects(extra), source, { width: canvas.width, height: canvas.height });
    ctx.fillStyle = MASK_COLOR;
    for (const b of boxes) ctx.fillRect(b.x, b.y, b.width, b.height);
    opts.onFrame?.(boxes, false);
  };
  const fps = Math.max(1, Math.min(30, opts.fps));
  const out = canvas.captureStream(fps).getVideoTracks()[0];
  draw();
  const timer = setInterval(draw, Math.round(1000 / fps));
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
  const ended = () => {
    clearInterval(timer);
    nudger.done();
  };
  raw.addEventListener("ended", ended);
  if (raw.readyState === "ended") ended();
  return { track: out, raw, selfCapture: true, stop };
}

interface Nudger {
  /** Starts (or keeps) the repainting, over `target` (what the capture is cropped to). */
  start(target: Element): void;
  /** Stops it and removes the element; `start` may begin again. */
  done(): void;
}

/**
 * Makes the tab repaint while the pipeline waits for a frame. Chromium captures a
 * tab only when it repaints (plus refresh frames that can come before anything
 * listens), so on a still page a crop or the pipeline's video could wait for ever,
 * with the visitor's share stuck at "starting". Every 100 ms the colour of one
 * almost transparent, fixed pixel flips, placed over what the capture is cropped to. It lives in `parent()` (the widget's
 * shadow root, out of reach of the site's CSS, of its observers and of co-browsing,
 * which skips the widget); its styles are `!important` for when it cannot.
 */
function nudge(parent: () => Node): Nudger {
  let el: HTMLElement | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  let odd = false;
  let over: Element = document.body;
  const poke = () => {
    if (!el) return;
    odd = !odd;
    // Inside the visible part of what the capture is cropped to: a cropped capture
    // is taken only when that part repaints.
    const r = over.getBoundingClientRect();
    const x = Math.min(Math.max(0, Math.ceil(r.left)), Math.max(0, window.innerWidth - 1));
    const y = Math.min(Math.max(0, Math.ceil(r.top)), Math.max(0, window.innerHeight - 1));
    el.style.setProperty("left", `${x}px`, "important");
    el.style.setProperty("top", `${y}px`, "important");
    el.style.setProperty("background", odd ? "rgba(128,128,128,0.02)" : "rgba(128,128,128,0.03)", "important");
  };
  return {
    start(target) {
      over = target;
      if (el) {
        if (!el.isConnected) parent().appendChild(el);
        return;
      }
      el = document.createElement("sightline-nudge");
      el.setAttribute("aria-hidden", "true");
      const css: [string, string][] = [
        ["display", "block"],
        ["position", "fixed"],
        ["width", "1px"],
        ["height", "1px"],
        ["margin", "0"],
        ["padding", "0"],
        ["border", "0"],
        ["opacity", "1"],
        ["visibility", "visible"],
        ["pointer-events", "none"],
        ["z-index", "2147483647"],
      ];
      for (const [k, v] of css) el.style.setProperty(k, v, "important");
      parent().appendChild(el);
      poke();
      timer = setInterval(poke, 100);
    },
    done() {
      clearInterval(timer);
      timer = undefined;
      el?.remove();
      el = null;
    },
  };
}

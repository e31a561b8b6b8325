// Masking and cropping geometry for a self-captured tab. Pure: element rectangles
// in CSS pixels of the viewport in, boxes in video pixels out. No DOM.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

/**
 * Where each element lies in the video frame, given the area of the viewport the
 * frame shows (`source`: the whole viewport, or the crop target's rectangle) and
 * the frame's size. Boxes are grown by `pad` video pixels, clipped to the frame,
 * rounded outwards to whole pixels; empty or off-frame boxes are dropped.
 */
export function maskBoxes(elements: readonly Rect[], source: Rect, video: Size, pad = 2): Rect[] {
  if (source.width <= 0 || source.height <= 0 || video.width <= 0 || video.height <= 0) return [];
  const sx = video.width / source.width;
  const sy = video.height / source.height;
  const out: Rect[] = [];
  for (const r of elements) {
    if (!(r.width > 0 && r.height > 0)) continue;
    const left = Math.max(0, Math.floor((r.x - source.x) * sx - pad));
    const top = Math.max(0, Math.floor((r.y - source.y) * sy - pad));
    const right = Math.min(video.width, Math.ceil((r.x + r.width - source.x) * sx + pad));
    const bottom = Math.min(video.height, Math.ceil((r.y + r.height - source.y) * sy + pad));
    if (right <= left || bottom <= top) continue;
    out.push({ x: left, y: top, width: right - left, height: bottom - top });
  }
  return out;
}

/**
 * The part of a full-viewport frame that shows `crop` (viewport CSS pixels), in
 * video pixels, clipped to the frame; null if nothing of it is visible. Used to
 * crop on a canvas where Region Capture is not available.
 */
export function cropInVideo(crop: Rect, viewport: Size, video: Size): Rect | null {
  const [box] = maskBoxes([crop], { x: 0, y: 0, width: viewport.width, height: viewport.height }, video, 0);
  return box ?? null;
}

/** A frame size that keeps the aspect ratio of `size` and fits in `max` pixels on its longer side. */
export function fitWithin(size: Size, max: number): Size {
  const long = Math.max(size.width, size.height);
  if (long <= max || long <= 0) return { width: Math.round(size.width), height: Math.round(size.height) };
  const k = max / long;
  return { width: Math.max(1, Math.round(size.width * k)), height: Math.max(1, Math.round(size.height * k)) };
}

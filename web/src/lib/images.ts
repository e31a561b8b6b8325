// Image upload and download helpers shared by the console and the widget's image
// chunk. Uploads go through XMLHttpRequest for progress; every error becomes a
// sentence to show. Image bytes are only ever shown through blob: URLs or the
// server's own /api/images URLs, never as HTML.

import type { ApiError, ImageRef, UploadedImage } from "../protocol.gen";

export type Progress = (fraction: number) => void;

export class UploadError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Words for an upload that failed with `status` (the server's message wins when it has one). */
export function uploadErrorText(status: number, err: Partial<ApiError> | null): string {
  const fallback: Record<number, string> = {
    0: "Could not reach the server. Check your connection and try again.",
    401: "Your session has ended. Reload the page and try again.",
    403: "You are not allowed to send pictures here.",
    404: "There is no open conversation to send the picture to.",
    409: "The conversation is not open for pictures right now.",
    413: "The picture is too large.",
    415: "That file is not a picture (PNG, JPEG, WebP or GIF).",
    422: "The picture could not be read.",
    429: "Too many pictures at once. Please wait a moment and try again.",
  };
  const base = fallback[status] ?? `The picture was not sent (error ${status}).`;
  const msg = err && typeof err.message === "string" ? err.message.trim() : "";
  // The server's message is written to be shown as it is.
  if (!msg) return base;
  return msg.charAt(0).toUpperCase() + msg.slice(1) + (/[.!?]$/.test(msg) ? "" : ".");
}

export interface UploadOptions {
  url: string;
  body: Blob | FormData;
  clientId: string;
  headers?: Record<string, string>;
  credentials?: boolean;
  onProgress?: Progress;
  signal?: AbortSignal;
}

/** POSTs an image; resolves with the server's UploadedImage or rejects with an UploadError in words. */
export function upload(opts: UploadOptions): Promise<UploadedImage> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", opts.url);
    xhr.withCredentials = !!opts.credentials;
    xhr.setRequestHeader("x-client-id", opts.clientId);
    for (const [k, v] of Object.entries(opts.headers || {})) xhr.setRequestHeader(k, v);
    if (opts.onProgress) {
      const p = opts.onProgress;
      xhr.upload.onprogress = (ev) => {
        if (ev.lengthComputable && ev.total > 0) p(Math.min(1, ev.loaded / ev.total));
      };
    }
    xhr.onload = () => {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status === 200 || xhr.status === 201) {
        const up = parsed as UploadedImage | null;
        if (up && up.image && typeof up.image.id === "string") return resolve(up);
        return reject(new UploadError(xhr.status, "bad_answer", "The server's answer was not understood."));
      }
      const err = parsed && typeof parsed === "object" ? (parsed as Partial<ApiError>) : null;
      reject(new UploadError(xhr.status, err?.error || String(xhr.status), uploadErrorText(xhr.status, err)));
    };
    xhr.onerror = () => reject(new UploadError(0, "network", uploadErrorText(0, null)));
    xhr.onabort = () => reject(new UploadError(0, "aborted", "Cancelled."));
    opts.signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(opts.body);
  });
}

/** The widget's upload: Bearer token, CORS, no cookies. */
export function uploadVisitorImage(origin: string, token: string, file: Blob, clientId: string, onProgress?: Progress): Promise<UploadedImage> {
  return upload({ url: origin + "/api/visitor/images", body: file, clientId, headers: { authorization: "Bearer " + token }, onProgress });
}

/** The console's upload: cookie + CSRF; the PNG and its annotations as a form. */
export function uploadAgentImage(opts: {
  conversation: string;
  csrf: string;
  png: Blob;
  annotations: unknown | null;
  sourceImage: string | null;
  clientId: string;
  onProgress?: Progress;
  /** Keep it for agents only, without posting it (a snapshot's unannotated base). */
  agentsOnly?: boolean;
}): Promise<UploadedImage> {
  const q = opts.agentsOnly ? "?agents_only=true" : opts.sourceImage ? "?source_image=" + encodeURIComponent(opts.sourceImage) : "";
  let body: Blob | FormData = opts.png;
  if (opts.annotations !== null) {
    const form = new FormData();
    form.append("image", opts.png, "snapshot.png");
    form.append("annotations", new Blob([JSON.stringify(opts.annotations)], { type: "application/json" }), "annotations.json");
    body = form;
  }
  return upload({
    url: `/api/conversations/${encodeURIComponent(opts.conversation)}/images${q}`,
    body,
    clientId: opts.clientId,
    headers: { "x-csrf-token": opts.csrf },
    credentials: true,
    onProgress: opts.onProgress,
  });
}

export function imageUrl(origin: string, id: string, thumb = false): string {
  return `${origin}/api/images/${encodeURIComponent(id)}${thumb ? "/thumb" : ""}`;
}

/** Fetches image bytes (with a Bearer token for visitors, the cookie for agents). */
export async function fetchImage(url: string, token: string | null): Promise<Blob> {
  const res = await fetch(url, {
    headers: token ? { authorization: "Bearer " + token } : {},
    credentials: token ? "omit" : "same-origin",
  });
  if (!res.ok) throw new UploadError(res.status, String(res.status), res.status === 403 ? "You are not allowed to see this picture." : res.status === 404 ? "This picture is no longer available." : `The picture could not be loaded (error ${res.status}).`);
  const blob = await res.blob();
  if (!/^image\/(png|jpeg|webp|gif)$/.test(blob.type)) throw new UploadError(res.status, "bad_type", "The server sent something that is not a picture.");
  return blob;
}

export interface CachedBlob {
  blob: Blob;
  url: string;
}

/**
 * Blob URLs for thumbnails, shared by all rows that show the same image, at most
 * `max` kept (the oldest are revoked). `clear()` revokes them all.
 */
export class BlobUrlCache {
  private urls = new Map<string, Promise<CachedBlob>>();
  constructor(
    private readonly load: (id: string) => Promise<Blob>,
    private readonly max = 60,
  ) {}

  get(id: string): Promise<CachedBlob> {
    const hit = this.urls.get(id);
    if (hit) {
      this.urls.delete(id);
      this.urls.set(id, hit);
      return hit;
    }
    const p = this.load(id).then((blob) => {
      const c = { blob, url: URL.createObjectURL(blob) };
      // Make room only once this one is in (a failed load evicts nothing).
      for (const [old, op] of this.urls) {
        if (this.urls.size <= this.max) break;
        if (old === id) continue;
        this.urls.delete(old);
        void op.then((o) => URL.revokeObjectURL(o.url), () => undefined);
      }
      return c;
    });
    p.catch(() => {
      if (this.urls.get(id) === p) this.urls.delete(id);
    });
    this.urls.set(id, p);
    return p;
  }

  get size(): number {
    return this.urls.size;
  }

  clear(): void {
    for (const p of this.urls.values()) void p.then((c) => URL.revokeObjectURL(c.url), () => undefined);
    this.urls.clear();
  }
}

/** Picture files we offer to send (the server checks the bytes anyway). */
export function isImageFile(f: File | Blob): boolean {
  return /^image\//.test(f.type) || (f instanceof File && /\.(png|jpe?g|webp|gif)$/i.test(f.name));
}

/**
 * The first picture in a paste or drop, if any. Text wins: office apps put a
 * picture of the copied text on the clipboard beside the text itself.
 */
export function imageFromTransfer(dt: DataTransfer | null): File | null {
  if (!dt) return null;
  if (dt.getData("text/plain").trim() !== "") return null;
  for (const f of Array.from(dt.files || [])) if (isImageFile(f)) return f;
  for (const it of Array.from(dt.items || [])) {
    if (it.kind === "file") {
      const f = it.getAsFile();
      if (f && isImageFile(f)) return f;
    }
  }
  return null;
}

/** The displayed size of a thumbnail (from the ImageRef, so rows do not jump while loading). */
export function thumbSize(ref: ImageRef, max = 240): { w: number; h: number } {
  const w = ref.thumb_width || 1;
  const hh = ref.thumb_height || 1;
  const k = Math.min(1, max / Math.max(w, hh));
  return { w: Math.round(w * k), h: Math.round(hh * k) };
}

// Pictures in the widget (widget-images.js, loaded on the first picture shown or
// sent): thumbnails fetched with the visitor's Bearer token into blob: URLs (an
// <img src> cannot send the header), the full picture in an overlay inside the
// shadow root, and sending a picked, pasted or dropped picture with progress and
// errors in words. Blob URLs are revoked when the overlay closes, when a
// thumbnail falls out of the cache, and when the page goes away.

import type { ImageRef } from "../protocol.gen";
import { newClientId } from "../lib/ids";
import { BlobUrlCache, UploadError, fetchImage, imageUrl, thumbSize, uploadVisitorImage } from "../lib/images";
import type { VisitorSession } from "../lib/visitor-session";
import { adoptStyles, h } from "../ui/dom";
import css from "./images.css";

interface ImageStrings {
  picture: string;
  open: string;
  close: string;
  sending: string;
  failed: string;
  retry: string;
  dismiss: string;
  unavailable: string;
  notConnected: string;
  tooLarge: string;
  notPicture: string;
  unreadable: string;
}

const STRINGS: Record<string, ImageStrings> = {
  en: {
    picture: "Picture",
    open: "Open the picture",
    close: "Close",
    sending: "Sending picture… {p}",
    failed: "Picture not sent: {why}",
    retry: "Retry",
    dismiss: "Dismiss",
    unavailable: "Picture unavailable",
    notConnected: "Not connected yet. Try again in a moment.",
    tooLarge: "The picture is too large.",
    notPicture: "That file is not a picture (PNG, JPEG, WebP or GIF).",
    unreadable: "The picture could not be read.",
  },
  de: {
    picture: "Bild",
    open: "Bild öffnen",
    close: "Schließen",
    sending: "Bild wird gesendet… {p}",
    failed: "Bild nicht gesendet: {why}",
    retry: "Erneut versuchen",
    dismiss: "Schließen",
    unavailable: "Bild nicht verfügbar",
    notConnected: "Noch nicht verbunden. Bitte gleich noch einmal versuchen.",
    tooLarge: "Das Bild ist zu groß.",
    notPicture: "Diese Datei ist kein Bild (PNG, JPEG, WebP oder GIF).",
    unreadable: "Das Bild konnte nicht gelesen werden.",
  },
  fr: {
    picture: "Image",
    open: "Ouvrir l’image",
    close: "Fermer",
    sending: "Envoi de l’image… {p}",
    failed: "Image non envoyée : {why}",
    retry: "Réessayer",
    dismiss: "Fermer",
    unavailable: "Image indisponible",
    notConnected: "Pas encore connecté. Réessayez dans un instant.",
    tooLarge: "L’image est trop grande.",
    notPicture: "Ce fichier n’est pas une image (PNG, JPEG, WebP ou GIF).",
    unreadable: "L’image n’a pas pu être lue.",
  },
};

export interface ImagesHost {
  session: VisitorSession;
  origin: string;
  slot: HTMLElement;
  floatParent: HTMLElement;
  styleRoot: ShadowRoot;
  lang: string;
}

export interface ImagesApi {
  thumb(el: HTMLElement, ref: ImageRef): void;
  pick(): void;
  send(f: File): void;
}

/**
 * Shows a blob as an <img> with a blob: URL; where the page's CSP refuses blob:
 * images (img-src without blob:), draws it on a canvas instead.
 */
let blobRefused = false;
function picture(blob: Blob, url: string, attrs: Record<string, string | number>, done: (el: HTMLElement) => void): HTMLElement {
  const img = h("img", attrs);
  const canvas = () =>
    createImageBitmap(blob).then(
      (bmp) => {
        const c = h("canvas", attrs);
        c.width = bmp.width;
        c.height = bmp.height;
        c.getContext("2d")?.drawImage(bmp, 0, 0);
        bmp.close();
        c.setAttribute("role", "img");
        c.setAttribute("aria-label", String(attrs.alt ?? ""));
        img.replaceWith(c);
        done(c);
      },
      () => undefined,
    );
  img.onload = () => done(img);
  img.onerror = () => {
    // Once refused, later pictures go straight to a canvas (no repeated CSP reports).
    blobRefused = true;
    void canvas();
  };
  if (blobRefused) void canvas();
  else img.src = url;
  return img;
}

export function mountImages(host: ImagesHost): ImagesApi {
  const t = STRINGS[host.lang] || STRINGS.en;
  adoptStyles(host.styleRoot, css);
  const token = () => host.session.token;
  const thumbs = new BlobUrlCache((id) => fetchImage(imageUrl(host.origin, id, true), token()), 60);
  window.addEventListener("pagehide", () => thumbs.clear());

  function openFull(ref: ImageRef): void {
    let url: string | null = null;
    const slot = h("div", { class: "slimg-slot" });
    const status = h("p", { class: "slimg-status", "data-testid": "image-full-status", role: "status" });
    const closeBtn = h("button", { type: "button", class: "slimg-close", "data-testid": "image-viewer-close", "aria-label": t.close, text: "×" });
    const overlay = h("div", { class: "slimg-overlay", role: "dialog", "aria-modal": "true", "aria-label": t.picture, "data-testid": "image-viewer", tabindex: "-1" }, closeBtn, slot, status);
    const close = () => {
      overlay.remove();
      slot.replaceChildren();
      if (url) URL.revokeObjectURL(url);
      url = null;
    };
    closeBtn.addEventListener("click", close);
    overlay.addEventListener("click", (ev) => {
      if (ev.target === overlay) close();
    });
    overlay.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        ev.stopPropagation();
        close();
      }
    });
    host.floatParent.appendChild(overlay);
    overlay.focus();
    fetchImage(imageUrl(host.origin, ref.id), token()).then(
      (blob) => {
        if (!overlay.isConnected) return;
        url = URL.createObjectURL(blob);
        slot.appendChild(
          picture(blob, url, { class: "slimg-full", "data-testid": "image-full", alt: `${t.picture} ${ref.width}×${ref.height}` }, (el) => {
            el.dataset.ready = "true";
            overlay.dataset.loaded = "true";
          }),
        );
      },
      (err) => {
        status.textContent = err instanceof Error ? err.message : t.unavailable;
      },
    );
  }

  function thumb(el: HTMLElement, ref: ImageRef): void {
    const size = thumbSize(ref, 220);
    el.style.width = size.w + "px";
    el.style.height = size.h + "px";
    el.setAttribute("aria-label", t.open);
    el.title = t.open;
    el.onclick = () => openFull(ref);
    thumbs.get(ref.id).then(
      (c) => {
        el.replaceChildren(picture(c.blob, c.url, { alt: `${t.picture} ${ref.width}×${ref.height}`, width: size.w, height: size.h, draggable: "false" }, () => (el.dataset.loaded = "true")));
      },
      () => {
        el.replaceChildren(h("span", { text: t.unavailable }));
        el.dataset.loaded = "error";
      },
    );
  }

  function words(err: unknown): string {
    if (err instanceof UploadError) {
      // Our own words for the usual refusals, in the visitor's language (English keeps the server's detail).
      if (host.lang !== "en") {
        if (err.status === 413) return t.tooLarge;
        if (err.status === 415) return t.notPicture;
        if (err.status === 422) return t.unreadable;
      }
      return err.message;
    }
    return err instanceof Error ? err.message : String(err);
  }

  async function ready(): Promise<string | null> {
    if (!token()) host.session.start();
    for (let i = 0; i < 100 && !token(); i++) await new Promise((r) => setTimeout(r, 100));
    return token();
  }

  function send(file: File): void {
    const clientId = newClientId();
    const row = h("div", { class: "slimg-up", "data-testid": "upload", "data-state": "sending" });
    host.slot.appendChild(row);
    const attempt = async () => {
      row.dataset.state = "sending";
      row.replaceChildren(h("span", { "data-testid": "upload-status", text: t.sending.replace("{p}", "") }));
      const tok = await ready();
      if (!tok) throw new UploadError(0, "no_token", t.notConnected);
      return uploadVisitorImage(host.origin, tok, file, clientId, (f) => {
        const s = row.querySelector("[data-testid=upload-status]");
        if (s) s.textContent = t.sending.replace("{p}", Math.round(f * 100) + "%");
      });
    };
    const run = () =>
      attempt().then(
        () => row.remove(),
        (err) => {
          row.dataset.state = "failed";
          const retry = h("button", { type: "button", class: "slimg-btn", "data-testid": "upload-retry", text: t.retry, onclick: run });
          const dismiss = h("button", { type: "button", class: "slimg-btn", "data-testid": "upload-dismiss", text: t.dismiss, onclick: () => row.remove() });
          const status = err instanceof UploadError ? err.status : 0;
          // Retrying cannot help a refused file.
          const canRetry = !(status === 413 || status === 415 || status === 422);
          row.replaceChildren(h("span", { class: "slimg-err", "data-testid": "upload-error", role: "alert", text: t.failed.replace("{why}", words(err)) }), ...(canRetry ? [retry] : []), dismiss);
        },
      );
    void run();
  }

  const input = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", hidden: true, "data-testid": "image-file" });
  input.addEventListener("change", () => {
    const f = input.files?.[0];
    input.value = "";
    if (f) send(f);
  });
  host.floatParent.appendChild(input);

  const api: ImagesApi = { thumb, pick: () => input.click(), send };
  if ((window as unknown as { __sightlineTestHooks?: boolean }).__sightlineTestHooks === true) {
    (window as unknown as Record<string, unknown>).__sightlineWidgetImages = api;
  }
  return api;
}

// Pictures in the widget (widget-images.js, loaded on the first picture shown or
// sent): thumbnails fetched with the visitor's Bearer token into blob: URLs (an
// <img src> cannot send the header), the full picture in an overlay inside the
// shadow root, and sending a picked, pasted or dropped picture with progress and
// errors in words. Blob URLs are revoked when the overlay closes, when a
// thumbnail falls out of the cache, and when the page goes away.

import type { Event, ImageRef } from "../protocol.gen";
import { newClientId } from "../lib/ids";
import { BlobUrlCache, UploadError, fetchImage, imageUrl, thumbSize, uploadVisitorImage } from "../lib/images";
import type { VisitorSession } from "../lib/visitor-session";
import { adoptStyles, h } from "../ui/dom";
import css from "./images.css";
import { fill } from "../lib/format";
import type { Lang } from "./i18n";
import { IMAGE_STRINGS } from "./images-i18n";

export interface ImagesHost {
  session: VisitorSession;
  origin: string;
  slot: HTMLElement;
  floatParent: HTMLElement;
  styleRoot: Document | ShadowRoot;
  lang: Lang;
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
  const t = IMAGE_STRINGS[host.lang] || IMAGE_STRINGS.en;
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
        status.textContent = fetchWords(err);
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

  /** Why an upload failed: English keeps the server's detail, other languages word it by status. */
  function words(err: unknown): string {
    if (host.lang === "en" && err instanceof Error) return err.message;
    if (!(err instanceof UploadError)) return t.upload[0];
    if (err.code === "no_token") return t.notConnected;
    return (t.upload as Record<number, string>)[err.status] ?? fill(t.uploadOther, { status: err.status });
  }

  /** Why a picture could not be shown (see lib/images.ts fetchImage). */
  function fetchWords(err: unknown): string {
    if (host.lang === "en" && err instanceof Error) return err.message;
    if (!(err instanceof UploadError)) return t.unavailable;
    if (err.code === "bad_type") return t.fetchNotPicture;
    return err.status === 403 ? t.fetchForbidden : err.status === 404 ? t.fetchGone : fill(t.fetchOther, { status: err.status });
  }

  async function ready(): Promise<string | null> {
    if (!token()) host.session.start();
    for (let i = 0; i < 100 && !token(); i++) await new Promise((r) => setTimeout(r, 100));
    return token();
  }

  /** `failed` runs when the picture could not be sent (a request it answers stays open). */
  function send(file: File, failed?: () => void): void {
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
          failed?.();
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

  /** The screenshot request the picker was opened for, and the one a picture is on its way for. */
  let picking: string | null = null;
  let sending: string | null = null;
  // The types the server takes, named: a phone then hands over a JPEG rather than
  // its own format (e.g. HEIC), which the server would refuse.
  const input = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", hidden: true, "data-testid": "image-file" });
  input.addEventListener("change", () => {
    const f = input.files?.[0];
    input.value = "";
    const answering = picking;
    picking = null;
    if (f) {
      if (answering) sending = answering;
      send(f, () => {
        if (sending === answering) sending = null;
        renderRequest();
      });
      renderRequest();
    }
  });
  host.floatParent.appendChild(input);

  // ---- an agent's request for a screenshot: a device that cannot share its
  // screen (a phone, a tablet) sends a picture instead. The card stands while the
  // newest request is open; the server closes it when a picture arrives, the
  // visitor declines, the agent withdraws or the conversation ends. ----
  const card = h("div", { class: "slimg-ask", "data-testid": "screenshot-card", role: "group", hidden: true });
  host.slot.prepend(card);
  let shown = "";
  function openRequest(): (Event & { kind: "screenshot" }) | null {
    let last: (Event & { kind: "screenshot" }) | null = null;
    for (const e of host.session.transcript.getEvents()) if (e.kind === "screenshot") last = e;
    return last?.state === "asked" ? last : null;
  }
  function renderRequest(): void {
    const e = openRequest();
    const show = !!e && sending !== e.request;
    card.hidden = !show;
    const sig = show && e ? `${e.request}|${e.agent?.display_name}` : "";
    if (sig === shown) return;
    shown = sig;
    if (!e) return;
    const who = fill(t.shotAsks, { name: e.agent?.display_name || host.session.agent?.display_name || t.theAgent });
    const button = (text: string, testid: string, cls: string, onclick: () => void) => h("button", { type: "button", class: `slimg-act ${cls}`, "data-testid": testid, text, onclick });
    card.setAttribute("aria-label", who);
    card.replaceChildren(
      h("p", { class: "slimg-who", text: who }),
      ...(e.message ? [h("p", { "data-testid": "screenshot-text", text: e.message })] : []),
      h("p", { class: "slimg-note", text: t.shotNote }),
      h(
        "div",
        { class: "slimg-row" },
        button(t.shotChoose, "screenshot-choose", "slimg-primary", () => {
          picking = e.request;
          input.click();
        }),
        button(t.shotDecline, "screenshot-decline", "", () => {
          if (!host.session.send({ type: "screenshot_end", request: e.request })) alertNotConnected();
        }),
      ),
    );
  }
  function alertNotConnected(): void {
    const row = h("div", { class: "slimg-up", "data-state": "failed", role: "alert", text: t.notConnected });
    host.slot.appendChild(row);
    setTimeout(() => row.remove(), 4000);
  }
  host.session.subscribe(renderRequest);
  renderRequest();

  const api: ImagesApi = { thumb, pick: () => input.click(), send };
  if ((window as unknown as { __sightlineTestHooks?: boolean }).__sightlineTestHooks === true) {
    (window as unknown as Record<string, unknown>).__sightlineWidgetImages = api;
  }
  return api;
}

// Pictures in the console: thumbnails in transcripts (behind "Show" where the
// picture came from a visitor or is in the history), the full-size viewer, and
// the ways into the snapshot editor (a share frame, a picked/pasted/dropped
// file, an image already in the conversation).
//
// Agents read images with their session cookie, so plain same-origin URLs of the
// server's /api/images/{id}(/thumb) work in <img>; nothing is ever inserted as HTML.

import type { ImageRef, UploadedImage } from "../protocol.gen";
import { parseDoc, type AnnotationsDoc } from "../lib/annotate";
import { fetchImage, imageFromTransfer, imageUrl, thumbSize } from "../lib/images";
import { h } from "../ui/dom";
import { api, getCsrf } from "./api";
import { SnapshotEditor, type EditorSource } from "./snapshot-editor";

export interface ImageRenderOptions {
  /** Hide behind a "Show" button until clicked. */
  hidden: boolean;
  /** Offer "Edit" (opens the editor on this image). */
  edit?: (ref: ImageRef) => void;
  /** Pictures already shown here: a rebuilt row keeps them shown. */
  revealed?: Set<string>;
}

/** Unannotated bases of pictures this tab sent, by the id of the sent image (for exact re-editing). */
const bases = new Map<string, Blob>();
const MAX_BASES = 12;

export function rememberBase(imageId: string, blob: Blob): void {
  bases.set(imageId, blob);
  while (bases.size > MAX_BASES) bases.delete(bases.keys().next().value as string);
}

function describe(ref: ImageRef): string {
  const kb = ref.bytes >= 1024 * 1024 ? `${(ref.bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(ref.bytes / 1024))} KB`;
  return `${ref.width}×${ref.height} · ${kb}${ref.has_annotations ? " · annotated" : ""}`;
}

/** A picture in a transcript. */
export function imageElement(ref: ImageRef, opts: ImageRenderOptions): HTMLElement {
  const size = thumbSize(ref);
  const wrap = h("div", { class: "img-msg", "data-testid": "image-message", "data-image-id": ref.id, "data-source-image": ref.source_image ?? undefined });
  const caption = h("div", { class: "img-caption" }, h("span", { text: describe(ref) }));
  if (opts.edit) {
    const edit = opts.edit;
    caption.appendChild(h("button", { type: "button", class: "linkish", "data-testid": "image-edit", text: "Edit", title: "Open in the snapshot editor", onclick: () => edit(ref) }));
  }
  const showThumb = () => {
    const img = h("img", { class: "img-thumb-img", alt: `Picture, ${ref.width}×${ref.height}`, width: size.w, height: size.h, src: imageUrl("", ref.id, true), decoding: "async", draggable: "false" });
    const btn = h("button", { type: "button", class: "img-thumb", "data-testid": "image-thumb", title: "Open the full picture", onclick: () => openImageViewer(ref, opts.edit) }, img);
    wrap.replaceChildren(btn, caption);
  };
  if (opts.hidden && !opts.revealed?.has(ref.id)) {
    const ph = h(
      "button",
      { type: "button", class: "img-hidden", "data-testid": "image-show", title: "Show the picture" },
      h("span", { class: "img-hidden-label", text: "Picture hidden · Show" }),
    );
    ph.style.width = size.w + "px";
    ph.style.height = Math.max(56, Math.min(size.h, 120)) + "px";
    ph.addEventListener("click", () => {
      opts.revealed?.add(ref.id);
      showThumb();
    });
    wrap.append(ph, caption);
  } else showThumb();
  return wrap;
}

/** The full picture over the page. */
export function openImageViewer(ref: ImageRef, edit?: (ref: ImageRef) => void): HTMLElement {
  const img = h("img", { class: "img-full", "data-testid": "image-full", alt: `Picture, ${ref.width}×${ref.height}`, src: imageUrl("", ref.id) });
  const close = () => {
    backdrop.remove();
    img.removeAttribute("src");
  };
  const bar = h(
    "div",
    { class: "img-viewer-bar" },
    h("span", { text: describe(ref) }),
    h("span", { class: "grow" }),
    edit ? h("button", { type: "button", class: "btn small", "data-testid": "image-viewer-edit", text: "Edit", onclick: () => (close(), edit(ref)) }) : null,
    h("a", { class: "btn small", href: imageUrl("", ref.id), download: `image-${ref.id}`, "data-testid": "image-download", text: "Download" }),
    h("button", { type: "button", class: "btn small", "data-testid": "image-viewer-close", text: "Close", onclick: close }),
  );
  const backdrop = h("div", { class: "img-viewer", role: "dialog", "aria-modal": "true", "aria-label": "Picture", "data-testid": "image-viewer", tabindex: "-1" }, bar, h("div", { class: "img-viewer-stage" }, img));
  backdrop.addEventListener("click", (ev) => {
    if (ev.target === backdrop || (ev.target as HTMLElement).classList.contains("img-viewer-stage")) close();
  });
  backdrop.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") close();
  });
  document.body.appendChild(backdrop);
  backdrop.focus();
  return backdrop;
}

async function bitmapOf(blob: Blob): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(blob);
  } catch {
    throw new Error("That file is not a picture this browser can open.");
  }
}

export interface ImagesUiOptions {
  /** The conversation the editor sends into (the selected one, if it is the agent's and active). */
  conversation(): string | null;
  toast(text: string): void;
}

/** Opens the editor from the console's various places. One editor at a time. */
export class ImagesUi {
  private editor: SnapshotEditor | null = null;
  private readonly fileInput: HTMLInputElement;

  constructor(private readonly opts: ImagesUiOptions) {
    this.fileInput = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", hidden: true, "data-testid": "image-file" });
    this.fileInput.addEventListener("change", () => {
      const f = this.fileInput.files?.[0];
      this.fileInput.value = "";
      if (f) void this.fromFile(f);
    });
    document.body.appendChild(this.fileInput);
    if ((window as unknown as { __sightlineTestHooks?: boolean }).__sightlineTestHooks === true) {
      (window as unknown as Record<string, unknown>).__sightlineImages = this;
    }
  }

  get current(): SnapshotEditor | null {
    return this.editor && this.editor.isOpen ? this.editor : null;
  }

  /** "Picture…": pick a file and open it in the editor. */
  pick(): void {
    this.fileInput.click();
  }

  /** Paste or drop handler: opens the first picture; true when one was found. */
  fromTransfer(dt: DataTransfer | null): boolean {
    const f = imageFromTransfer(dt);
    if (!f) return false;
    void this.fromFile(f);
    return true;
  }

  private open(src: EditorSource): SnapshotEditor | null {
    const conversation = this.opts.conversation();
    if (!conversation) {
      this.opts.toast("Open one of your active conversations to send a picture.");
      return null;
    }
    this.editor?.close();
    const ed = new SnapshotEditor(src, {
      conversation,
      csrf: getCsrf,
      sent: (up: UploadedImage, base: Blob | null) => {
        if (base) rememberBase(up.image.id, base);
        else if (src.baseId) {
          const b = bases.get(src.baseId);
          if (b) rememberBase(up.image.id, b);
        }
        this.opts.toast("Picture sent.");
      },
      closed: () => {
        if (this.editor === ed) this.editor = null;
      },
      notice: (text) => this.opts.toast(text),
    });
    this.editor = ed;
    ed.open();
    return ed;
  }

  /** A screen-share frame at its full resolution. */
  fromCanvas(canvas: HTMLCanvasElement, title = "Snapshot"): SnapshotEditor | null {
    return this.open({ image: canvas, width: canvas.width, height: canvas.height, baseId: null, sourceImage: null, title });
  }

  async fromFile(file: Blob): Promise<SnapshotEditor | null> {
    try {
      const bmp = await bitmapOf(file);
      return this.open({ image: bmp, width: bmp.width, height: bmp.height, baseId: null, sourceImage: null, title: "Picture" });
    } catch (err) {
      this.opts.toast(err instanceof Error ? err.message : "That picture could not be opened.");
      return null;
    }
  }

  /** An image of the conversation, with its annotations (if any) to change. */
  async fromImage(ref: ImageRef): Promise<SnapshotEditor | null> {
    try {
      let doc: AnnotationsDoc | null = null;
      if (ref.has_annotations) {
        try {
          doc = parseDoc((await api.annotations(ref.id)).annotations);
        } catch (err) {
          this.opts.toast(`The shapes of this picture could not be loaded (${err instanceof Error ? err.message : "error"}); opening the picture alone.`);
        }
      }
      let base: Blob | null = null;
      let baseId: string | null = null;
      let note: string | undefined;
      if (doc) {
        const cached = bases.get(ref.id);
        if (cached) {
          base = cached;
          baseId = doc.base;
        } else if (doc.base) {
          base = await fetchImage(imageUrl("", doc.base), null);
          baseId = doc.base;
        }
      }
      if (!base) {
        base = await fetchImage(imageUrl("", ref.id), null);
        baseId = ref.id;
        if (doc) {
          // The picture without shapes was not stored (a share snapshot sent from another
          // tab): draw the shapes over the sent picture, moved by its crop.
          const c = doc.crop;
          const dx = c ? c.x : 0;
          const dy = c ? c.y : 0;
          doc = { ...doc, width: ref.width, height: ref.height, crop: null, shapes: doc.shapes.map((s) => ({ ...s, pts: s.pts.map((v, i) => v - (i % 2 === 0 ? dx : dy)) })) };
          note = "The original picture without shapes is not stored: the shapes are shown over the sent picture, so a moved shape leaves its old copy visible.";
        }
      }
      const bmp = await bitmapOf(base);
      return this.open({ image: bmp, width: bmp.width, height: bmp.height, doc, baseId, sourceImage: ref.id, title: "Edit picture", note });
    } catch (err) {
      this.opts.toast(err instanceof Error ? err.message : "That picture could not be opened.");
      return null;
    }
  }
}

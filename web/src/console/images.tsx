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
import { render } from "preact";
import { openModal, useDialogFocus } from "./modal";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
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

/** A picture's thumbnail (opens the viewer) and caption, or the "Show" placeholder until it is asked for. */
function ImageMessage({ pic, opts }: { pic: ImageRef; opts: ImageRenderOptions }) {
  const [shown, setShown] = useState(() => !opts.hidden || (opts.revealed?.has(pic.id) ?? false));
  const size = thumbSize(pic);
  const edit = opts.edit;
  const caption = (
    <div class="img-caption">
      <span>{describe(pic)}</span>
      {edit ? (
        <button type="button" class="linkish" data-testid="image-edit" title="Open in the snapshot editor" onClick={() => edit(pic)}>
          Edit
        </button>
      ) : null}
    </div>
  );
  if (!shown) {
    const reveal = () => {
      opts.revealed?.add(pic.id);
      setShown(true);
    };
    return (
      <>
        <button type="button" class="img-hidden" data-testid="image-show" title="Show the picture" style={{ width: `${size.w}px`, height: `${Math.max(56, Math.min(size.h, 120))}px` }} onClick={reveal}>
          <span class="img-hidden-label">Picture hidden · Show</span>
        </button>
        {caption}
      </>
    );
  }
  return (
    <>
      <button type="button" class="img-thumb" data-testid="image-thumb" title="Open the full picture" onClick={() => openImageViewer(pic, edit)}>
        <img class="img-thumb-img" alt={`Picture, ${pic.width}×${pic.height}`} width={size.w} height={size.h} src={imageUrl("", pic.id, true)} decoding="async" draggable={false} />
      </button>
      {caption}
    </>
  );
}

/**
 * A picture in a transcript, as an element for the transcript's rows (built by
 * transcript-view): the `.img-msg` box, into which Preact renders.
 */
export function imageElement(ref: ImageRef, opts: ImageRenderOptions): HTMLElement {
  const wrap = document.createElement("div");
  wrap.className = "img-msg";
  wrap.dataset.testid = "image-message";
  wrap.dataset.imageId = ref.id;
  if (ref.source_image) wrap.dataset.sourceImage = ref.source_image;
  render(<ImageMessage pic={ref} opts={opts} />, wrap);
  return wrap;
}

function ImageViewer({ pic, edit, close }: { pic: ImageRef; edit?: (ref: ImageRef) => void; close: () => void }) {
  const backdrop = useRef<HTMLDivElement>(null);
  const full = useRef<HTMLImageElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  // Focus on Close, kept inside, back to the thumbnail afterwards; Escape closes.
  useDialogFocus(backdrop, { onClose: close, initialFocus: closeButton });
  useLayoutEffect(() => {
    // Taking the address away stops a download still under way (a detached
    // <img> would go on loading).
    const img = full.current;
    return () => img?.removeAttribute("src");
  }, []);
  const onClick = (ev: MouseEvent) => {
    const t = ev.target as HTMLElement;
    if (t === backdrop.current || t.classList.contains("img-viewer-stage")) close();
  };
  return (
    <div
      ref={backdrop}
      class="img-viewer"
      role="dialog"
      aria-modal="true"
      aria-label="Picture"
      data-testid="image-viewer"
      tabIndex={-1}
      onClick={onClick}
    >
      <div class="img-viewer-bar">
        <span>{describe(pic)}</span>
        <span class="grow" />
        {edit ? (
          <button
            type="button"
            class="btn small"
            data-testid="image-viewer-edit"
            onClick={() => {
              close();
              edit(pic);
            }}
          >
            Edit
          </button>
        ) : null}
        <a class="btn small" href={imageUrl("", pic.id)} download={`image-${pic.id}`} data-testid="image-download">
          Download
        </a>
        <button ref={closeButton} type="button" class="btn small" data-testid="image-viewer-close" onClick={close}>
          Close
        </button>
      </div>
      <div class="img-viewer-stage">
        <img ref={full} class="img-full" data-testid="image-full" alt={`Picture, ${pic.width}×${pic.height}`} src={imageUrl("", pic.id)} />
      </div>
    </div>
  );
}

/** The full picture over the page, until Close, Escape or a click beside it; returns its close. */
export function openImageViewer(ref: ImageRef, edit?: (ref: ImageRef) => void): () => void {
  // Closing unmounts the viewer, which takes the <img>'s address away (see ImageViewer).
  return openModal((close) => <ImageViewer pic={ref} edit={edit} close={close} />);
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
    // The picker's input: never shown, only clicked (`pick`).
    this.fileInput = document.createElement("input");
    this.fileInput.type = "file";
    this.fileInput.accept = "image/png,image/jpeg,image/webp,image/gif";
    this.fileInput.hidden = true;
    this.fileInput.dataset.testid = "image-file";
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

  /** Takes the picker's input away (the agent logged out). */
  dispose(): void {
    this.fileInput.remove();
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

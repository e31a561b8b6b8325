// What the browser tests and benchmarks find on (or put on) `window` in the pages
// they drive. The app sets the __sightline* hooks only when a page sets
// `__sightlineTestHooks` first; they are declared here as far as the tests use
// them (the app's own classes are not pulled in: this project is not type-checked
// with src/'s strict settings). The rest are the tests' own probes.

import type { ShareSetup } from "../src/protocol.gen";

/** A peer connection as src/lib/share-peer.ts keeps it. */
interface PeerHook {
  pc: RTCPeerConnection | null;
  sender: RTCRtpSender | null;
  restartNow(): void;
}

/** The open snapshot editor (src/console/snapshot-editor.ts). */
interface EditorHook {
  toClient(x: number, y: number): { x: number; y: number };
  model: { shapes: { id: number; type: string; pts: number[]; [k: string]: unknown }[] };
  /** Private in the class: the picture being edited. */
  src: { image: CanvasImageSource; width: number; height: number };
}

/** One frame the share-latency benchmark saw at the agent. */
interface BenchFrame {
  /** When the frame's code was drawn at the visitor (ms since the epoch), if readable. */
  t: number | null;
  [k: string]: unknown;
}

declare global {
  /** Chromium's reader of a video track's frames (not yet in TypeScript's DOM types). */
  class MediaStreamTrackProcessor {
    constructor(init: { track: MediaStreamTrack });
    readonly readable: ReadableStream<VideoFrame>;
  }
  interface Window {
    __sightlineTestHooks?: boolean;
    // Set by the console (src/console/images.ts, src/console/share.ts).
    __sightlineImages: { readonly current: EditorHook | null; fromFile(file: Blob): Promise<EditorHook | null> };
    __sightlineAgentShare: {
      shares: {
        live: Map<string, { conversation: string; shareId: string; peer: PeerHook; stream: MediaStream | null }>;
        /** Sends a share invitation, whatever the console offers (src/lib/share-agent.ts). */
        invite(conversation: string, message: string | null): boolean;
      };
    };
    // Set by the widget's share bundle (src/widget/share-ui.ts).
    /** The console's co-browsing (src/console/cobrowse.ts). */
    __sightlineAgentCobrowse: {
      cobrowse: { live: Map<string, { items: number; bytes: number }>; session: { send(m: unknown): boolean } };
      /** The agent's remote control (src/lib/control-agent.ts). */
      control: { live: Map<string, { stream: string }>; send(conversation: string, intents: unknown[]): boolean };
      selected(): string | null;
    };
    /** The visitor's co-browsing (src/lib/cobrowse-visitor.ts). */
    __sightlineCobrowse: { capturing: boolean; bytesSent: number; framesSent: number };
    /** Clicks a test counts on elements remote control must not touch. */
    __picked: number;
    __sightlineShare: {
      share: {
        shareId: string | null;
        setup: ShareSetup | null;
        peer: PeerHook | null;
        prepared: { track: MediaStreamTrack; raw: MediaStreamTrack; selfCapture: boolean } | null;
      };
      readonly pc: RTCPeerConnection | null;
      readonly sender: RTCRtpSender | null;
      readonly raw: MediaStreamTrack | null;
      readonly track: MediaStreamTrack | null;
      readonly boxes: unknown[];
      endTrack(): void;
    };
    // The tests' own probes.
    __xss: number;
    __transcriptsRead: string[];
    __focusedEntry: Element | null;
    __notes: { title: string; body?: string; tag?: string; onclick: (() => void) | null }[];
    __setHidden: (hidden: boolean) => void;
    __noisePainted: () => boolean;
    __firstPc: RTCPeerConnection | null;
    __secondPc: RTCPeerConnection | null;
    /** share-still-page.test.mjs: src/widget/share-mask.ts bundled on its own, and one capture's probe. */
    shareMask: {
      prepareCapture(
        stream: MediaStream,
        opts: { fps: number; onFrame?: (boxes: unknown[], blank: boolean) => void },
      ): Promise<{ track: MediaStreamTrack; selfCapture: boolean; stop(): void }>;
    };
    __round: {
      frames: number;
      last: VideoFrame | null;
      blank: number;
      drawn: number;
      reader: ReadableStreamDefaultReader<VideoFrame> | null;
      prepared: { track: MediaStreamTrack; selfCapture: boolean; stop(): void } | null;
    };
    // The benchmarks' probes.
    __thumbTimes: { id: string | null; at: number }[];
    __bench: { frames: BenchFrame[]; bad: number; gen: number; el: HTMLVideoElement | null; stream: MediaStream | null };
    __benchClickAt: number | null;
    __benchGdmAt: number;
    __benchHeavy: boolean;
  }
}

// Attention for new waiting conversations: a short beep (WebAudio) and the
// document title. Audio is often blocked until the user interacts; nothing here throws.

type AudioCtor = typeof AudioContext;

let ctx: AudioContext | null = null;
let notices = 0;

function audioCtor(): AudioCtor | null {
  const w = window as unknown as { AudioContext?: AudioCtor; webkitAudioContext?: AudioCtor };
  return w.AudioContext || w.webkitAudioContext || null;
}

/** Create / resume the audio context from a user gesture so later beeps may play. */
export function primeAudio(): void {
  try {
    const Ctor = audioCtor();
    if (!Ctor) return;
    if (!ctx) ctx = new Ctor();
    if (ctx.state === "suspended") ctx.resume().catch(() => undefined);
  } catch {
    ctx = null;
  }
}

/** A short two-tone chime. Silently does nothing when audio is unavailable or blocked. */
export function beep(): void {
  notices++;
  document.documentElement.setAttribute("data-notices", String(notices));
  try {
    const Ctor = audioCtor();
    if (!Ctor) return;
    if (!ctx) ctx = new Ctor();
    if (ctx.state === "suspended") {
      ctx.resume().catch(() => undefined);
      return;
    }
    const t0 = ctx.currentTime;
    for (const [freq, start] of [
      [880, 0],
      [1320, 0.12],
    ] as const) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + start);
      gain.gain.exponentialRampToValueAtTime(0.18, t0 + start + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + start + 0.22);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(t0 + start);
      osc.stop(t0 + start + 0.25);
    }
  } catch {
    /* audio blocked or unsupported */
  }
}

const BASE_TITLE = "Sightline Console";

/** "(3) Sightline Console" while something needs attention. */
export function setTitleCount(n: number, page = ""): void {
  const base = page ? `${page} · ${BASE_TITLE}` : BASE_TITLE;
  document.title = n > 0 ? `(${n}) ${base}` : base;
}

// ---- desktop notifications (opt-in per browser)

const NOTIFY_KEY = "sightline.desktop_notifications";

/** Whether this browser should show a desktop notification for new visitors. */
export function desktopNotificationsOn(): boolean {
  try {
    return typeof Notification !== "undefined" && Notification.permission === "granted" && localStorage.getItem(NOTIFY_KEY) === "on";
  } catch {
    return false;
  }
}

/**
 * Turns desktop notifications on (asking the browser's permission, from the click
 * that called this) or off. Resolves to whether they are on afterwards, or to
 * "blocked" when the browser refuses them.
 */
export async function toggleDesktopNotifications(): Promise<boolean | "blocked"> {
  if (typeof Notification === "undefined") return "blocked";
  if (desktopNotificationsOn()) {
    localStorage.removeItem(NOTIFY_KEY);
    return false;
  }
  const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
  if (permission !== "granted") return "blocked";
  localStorage.setItem(NOTIFY_KEY, "on");
  return true;
}

/**
 * A desktop notification for a new waiting visitor, only while this tab is not in
 * view (in view, the beep and the queue say it). Clicking it brings the console
 * forward on that conversation. The text is the page's title and the message
 * preview, set as text: notifications never render HTML.
 */
export function notifyNewVisitor(title: string, body: string, tag: string, open: () => void): void {
  if (!desktopNotificationsOn() || !document.hidden) return;
  try {
    const n = new Notification(title, { body, tag });
    n.onclick = () => {
      window.focus();
      open();
      n.close();
    };
  } catch {
    /* some browsers allow notifications only from a service worker */
  }
}

// Entry point of widget.js. A site embeds:
//   <script src="https://support.example/widget.js" async
//           data-title="…" data-color="#0a7" data-lang="de"></script>
// The server's origin is taken from the script's own URL.

import { mountWidget } from "./widget";
import { en, pickLang, type Strings } from "./i18n";
import { loadBundle } from "./load";

function findScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.src) return current;
  const all = document.querySelectorAll<HTMLScriptElement>("script[src]");
  for (let i = all.length - 1; i >= 0; i--) {
    if (/\/widget\.js(?:[?#]|$)/.test(all[i].src)) return all[i];
  }
  return null;
}

(function boot() {
  const w = window as unknown as { __sightlineWidget?: boolean };
  if (w.__sightlineWidget) return;
  const script = findScript();
  if (!script) return;
  let origin: string;
  try {
    origin = new URL(script.src, location.href).origin;
  } catch {
    return;
  }
  w.__sightlineWidget = true;
  const config = {
    origin,
    title: script.getAttribute("data-title"),
    color: script.getAttribute("data-color"),
    lang: pickLang(script.getAttribute("data-lang"), navigator.languages || [navigator.language]),
    // "prefer": offer this tab first when sharing (private fields are then masked).
    shareTab: script.getAttribute("data-share-tab"),
  };
  // The widget appears once its words are here: English is built in, another
  // language's pack is fetched first (English if it fails or takes over 4 s).
  let mounted = false;
  const go = (t: Strings) => {
    if (mounted) return;
    mounted = true;
    const mount = () => mountWidget(config, t);
    if (document.body) mount();
    else document.addEventListener("DOMContentLoaded", mount, { once: true });
  };
  if (config.lang === "en") go(en);
  else {
    loadBundle<Strings>(origin, config.lang, go, () => go(en));
    setTimeout(() => go(en), 4000);
  }
})();

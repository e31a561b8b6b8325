/**
 * Loads the widget's lazily loaded bundle `widget-NAME.js` from the server and
 * hands over what it set as `window.__sightlineNAMEModule` (NAME capitalised
 * there): the share, co-browse and picture parts, and the language packs.
 */
export function loadBundle<M>(origin: string, name: string, ready: (mod: M) => void, failed: () => void): void {
  const script = document.createElement("script");
  script.src = origin + `/widget-${name}.js`;
  script.async = true;
  script.onload = () => {
    const mod = (window as unknown as Record<string, M | undefined>)[`__sightline${name[0].toUpperCase() + name.slice(1)}Module`];
    if (mod) ready(mod);
    else failed();
  };
  script.onerror = failed;
  document.head.appendChild(script);
}

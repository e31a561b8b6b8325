// The site policy's private selectors, as the widget applies them on top of
// `data-sightline-private`. They come from the server, which checked them against
// a conservative grammar; the browser has the last word: a selector it cannot
// parse is skipped, so one bad entry never breaks masking or the others.

/**
 * The selectors `parses` accepts (it throws on one the browser cannot parse),
 * joined into one selector list; "" when none.
 */
export function usableSelectors(selectors: readonly string[], parses: (selector: string) => void): string {
  const usable: string[] = [];
  for (const selector of selectors) {
    try {
      parses(selector);
      usable.push(selector);
    } catch {
      // Skipped: the rest still apply.
    }
  }
  return usable.join(", ");
}

/** `base` with the usable extra selectors added to its list. */
export function withExtra(base: string, extra: string): string {
  return extra ? `${base}, ${extra}` : base;
}

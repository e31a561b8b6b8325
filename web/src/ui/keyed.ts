// Keyed list rendering: rebuild only rows whose signature changed, keep the rest
// (and with them scroll position, focus and selection).

export interface Row {
  key: string;
  /** Anything that changes what the row looks like. */
  sig: string;
  build: () => HTMLElement;
}

export class KeyedList {
  private rows = new Map<string, { sig: string; el: HTMLElement }>();

  /**
   * Make the children of `container` after `anchor` (or from the start) equal to
   * `next`, in order. Other children before `anchor` are left alone.
   */
  update(container: HTMLElement, next: Row[], anchor: Element | null = null): void {
    const keep = new Set(next.map((r) => r.key));
    for (const [key, row] of this.rows) {
      if (!keep.has(key)) {
        row.el.remove();
        this.rows.delete(key);
      }
    }
    let prev: Element | null = anchor;
    for (const r of next) {
      let row = this.rows.get(r.key);
      if (!row || row.sig !== r.sig) {
        const el = r.build();
        if (row) row.el.replaceWith(el);
        row = { sig: r.sig, el };
        this.rows.set(r.key, row);
      }
      const want: ChildNode | null = prev ? prev.nextSibling : container.firstChild;
      if (want !== row.el) {
        if (prev) prev.after(row.el);
        else container.prepend(row.el);
      }
      prev = row.el;
    }
  }

  clear(): void {
    for (const row of this.rows.values()) row.el.remove();
    this.rows.clear();
  }
}

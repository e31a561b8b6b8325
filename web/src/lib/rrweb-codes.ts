// rrweb's numeric codes (@rrweb/types 2.1.6) that Sightline reads, in one place:
// the visitor's masking, the console's sanitising and the mirror use them
// without loading rrweb itself.

/** Event types. */
export const EventType = { FullSnapshot: 2, IncrementalSnapshot: 3, Meta: 4, Custom: 5 } as const;

/** Serialised node types. */
export const NodeType = { Element: 2, Text: 3 } as const;

/** Incremental snapshot sources. */
export const Source = {
  Mutation: 0,
  MouseMove: 1,
  MouseInteraction: 2,
  ViewportResize: 4,
  Input: 5,
  StyleSheetRule: 8,
  CanvasMutation: 9,
  Font: 10,
  StyleDeclaration: 13,
  AdoptedStyleSheet: 15,
} as const;

/** Mouse interaction types. */
export const Interaction = { Click: 2, Focus: 5, Blur: 6 } as const;

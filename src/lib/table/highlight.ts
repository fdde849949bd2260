/** A piece of a cell's text; `match` pieces are drawn in a <mark>. */
export interface TextPiece {
  text: string;
  match: boolean;
}

/** A search hit in a field's text: [start, end) in UTF-16 code units, as String.slice counts. */
export type HighlightRange = readonly [number, number];

/**
 * Splits `text` at the search hits. Ranges may come unsorted, overlapping or out of bounds (the
 * server computed them on text that may have changed since): they are clamped and merged, and
 * the pieces always join back to `text`.
 */
export function highlightPieces(text: string, ranges: readonly HighlightRange[] | undefined): TextPiece[] {
  if (!text) return [];
  const clean = (ranges ?? [])
    .map(([a, b]) => [Math.max(0, Math.min(a, text.length)), Math.max(0, Math.min(b, text.length))] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const pieces: TextPiece[] = [];
  let at = 0;
  for (const [start, end] of clean) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) pieces.push({ text: text.slice(at, from), match: false });
    const last = pieces[pieces.length - 1];
    if (last?.match && from === at) last.text += text.slice(from, end);
    else pieces.push({ text: text.slice(from, end), match: true });
    at = end;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), match: false });
  return pieces;
}

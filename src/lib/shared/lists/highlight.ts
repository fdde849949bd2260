import { z } from 'zod';

// Where the search box matched inside a row's text, so the table can mark it. Ranges are
// [start, end) offsets in UTF-16 code units (JavaScript string indices), sorted, not overlapping.

export const HighlightRange = z.tuple([z.number().int(), z.number().int()]);
export type HighlightRange = z.infer<typeof HighlightRange>;
/** Field key -> ranges in that field's text; only fields with a match appear. */
export const Highlights = z.record(z.string(), z.array(HighlightRange));
export type Highlights = z.infer<typeof Highlights>;

/** Below this trigram similarity a word is not taken for a misspelling of the searched one. */
export const FUZZY_WORD_SIMILARITY = 0.2;

const WORD = /[\p{L}\p{N}]+/gu;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The words of a search, lower-cased, as the server searches them. */
export function searchTerms(q: string): string[] {
  return [...new Set(q.toLowerCase().match(WORD) ?? [])].filter((t) => t.length > 0).slice(0, 8);
}

/** pg_trgm's trigrams of one word: lower-cased, padded with two spaces before and one after. */
function trigrams(word: string): Set<string> {
  const chars = [...`  ${word.toLowerCase()} `];
  const out = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) out.add(chars.slice(i, i + 3).join(''));
  return out;
}

/** Trigram similarity of two words as pg_trgm's similarity() computes it. */
export function trigramSimilarity(a: string, b: string): number {
  const x = trigrams(a);
  const y = trigrams(b);
  let shared = 0;
  for (const t of x) if (y.has(t)) shared++;
  const union = x.size + y.size - shared;
  return union === 0 ? 0 : shared / union;
}

function merge(ranges: HighlightRange[]): HighlightRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: HighlightRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/**
 * Ranges of `text` that the search `q` matched: every case-insensitive occurrence of a search
 * word, or, for a word that occurs nowhere (a typo), the most similar word of the text.
 */
export function highlightRanges(text: string, q: string): HighlightRange[] {
  const ranges: HighlightRange[] = [];
  for (const term of searchTerms(q)) {
    const exact = [...text.matchAll(new RegExp(escapeRegExp(term), 'giu'))];
    if (exact.length > 0) {
      for (const m of exact) ranges.push([m.index, m.index + m[0].length]);
      continue;
    }
    let best: { score: number; range: HighlightRange } | null = null;
    for (const m of text.matchAll(WORD)) {
      const score = trigramSimilarity(term, m[0]);
      if (score >= FUZZY_WORD_SIMILARITY && (!best || score > best.score))
        best = { score, range: [m.index, m.index + m[0].length] };
    }
    if (best) ranges.push(best.range);
  }
  return merge(ranges);
}

/** Highlights for the searchable fields of a row (fields without a match are left out). */
export function highlightRow(row: Record<string, unknown>, fields: readonly string[], q: string): Highlights {
  const out: Highlights = {};
  for (const field of fields) {
    const value = row[field];
    if (value === null || value === undefined) continue;
    const ranges = highlightRanges(String(value), q);
    if (ranges.length > 0) out[field] = ranges;
  }
  return out;
}

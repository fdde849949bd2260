import type { Highlighted, Review, ReviewPage, ReviewsQuery } from '#shared/schemas/inventory.js';
import type { Db } from '../../data/db.js';
import { notFound } from '../../errors.js';
import { decodeCursor, encodeCursor, isId, isIsoDate } from './cursor.js';
import { ratingSummary } from './detail.js';

const PAGE = 25;
/** Relevance is one page: past the best matches, newest or lowest first reads better. */
const RELEVANCE_LIMIT = 50;
/** Words of a query that count; the rest are ignored. */
const MAX_WORDS = 6;
/** Words at least this long may also match misspelt (trigram word similarity). */
const MIN_FUZZY_LENGTH = 5;
// ts_headline marks matches with these (control characters a review cannot hold: the browser
// splits on them and renders the marks itself, so no review text is ever HTML).
const START = '\u0002';
const STOP = '\u0003';

/**
 * Reviews, searched and sorted. The search forgives: English stems ("shipping" finds "shipped")
 * through the full-text index, and misspellings through trigram word similarity; matches rank by
 * both. Each review links to the orders of its author the text mentions ("#1234", or the order's
 * external number).
 */
export async function searchReviews(db: Db, query: ReviewsQuery): Promise<ReviewPage> {
  const q = query.q?.trim() || null;
  const sort = query.sort ?? (q ? 'relevance' : 'newest');
  if (query.productId) {
    const [exists] = await db.query(`SELECT 1 FROM products WHERE id = $1`, [query.productId]);
    if (!exists) throw notFound('Product');
  }
  // Each word must match, by its stem or, misspelt, by trigram similarity; rank and highlights
  // use every word (a misspelt one simply adds nothing to them).
  const words = (q ?? '').split(/\s+/).filter(Boolean).slice(0, MAX_WORDS);
  const params: unknown[] = [q, query.productId ?? null, words.join(' or ')];
  const bind = (value: unknown) => `$${params.push(value)}`;
  const where = [`($2::int IS NULL OR r.product_id = $2)`];
  for (const word of words) {
    const w = bind(word);
    // Short words match by stem only: as trigrams, "late" is found inside "chocolate".
    where.push(
      word.length >= MIN_FUZZY_LENGTH
        ? `(r.search @@ plainto_tsquery('english', ${w}) OR ${w} <% (r.title || ' ' || r.body))`
        : `r.search @@ plainto_tsquery('english', ${w})`
    );
  }
  let order: string;
  let limit = PAGE;
  if (sort === 'relevance') {
    order = `rank DESC, r.id DESC`;
    limit = RELEVANCE_LIMIT;
  } else if (sort === 'newest') {
    order = `r.created_at DESC, r.id DESC`;
    if (query.cursor) {
      const [at, id] = decodeCursor(
        query.cursor,
        (k): k is [string, number] => k.length === 2 && isIsoDate(k[0]) && isId(k[1])
      );
      where.push(`(r.created_at, r.id) < (${bind(at)}::timestamptz, ${bind(id)}::int)`);
    }
  } else {
    order = `r.rating ASC, r.created_at DESC, r.id DESC`;
    if (query.cursor) {
      const [rating, at, id] = decodeCursor(
        query.cursor,
        (k): k is [number, string, number] =>
          k.length === 3 &&
          Number.isInteger(k[0]) &&
          (k[0] as number) >= 1 &&
          (k[0] as number) <= 5 &&
          isIsoDate(k[1]) &&
          isId(k[2])
      );
      const r = bind(rating);
      where.push(
        `(r.rating > ${r}::int OR (r.rating = ${r}::int AND (r.created_at, r.id) < (${bind(at)}::timestamptz, ${bind(id)}::int)))`
      );
    }
  }
  params.push(limit + 1);
  const rows = await db.query<{
    id: number;
    product_id: number;
    product_name: string;
    customer_id: number;
    customer_name: string;
    rating: number;
    title: string;
    body: string;
    created_at: Date;
    created_key: string;
    orders: { id: number; externalId: string | null }[];
  }>(
    `WITH q AS (SELECT websearch_to_tsquery('english', $3::text) AS tsq)
     SELECT r.id, r.product_id, p.name AS product_name, r.customer_id,
            btrim(c.first_name || ' ' || c.last_name) AS customer_name, r.rating, r.created_at,
            -- The cursor keeps microseconds: a millisecond ISO string would skip rows within one.
            to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key,
            CASE WHEN $1::text IS NULL THEN r.title ELSE ts_headline('english', r.title, q.tsq, 'HighlightAll=true, StartSel=${START}, StopSel=${STOP}') END AS title,
            CASE WHEN $1::text IS NULL THEN r.body ELSE ts_headline('english', r.body, q.tsq, 'HighlightAll=true, StartSel=${START}, StopSel=${STOP}') END AS body,
            (SELECT coalesce(json_agg(json_build_object('id', o.id, 'externalId', o.external_id) ORDER BY o.id), '[]')
               FROM orders o
              WHERE o.customer_id = r.customer_id
                AND ((r.title || ' ' || r.body) ~ ('#' || o.id || '\\M')
                     OR (o.external_id IS NOT NULL AND strpos(r.title || ' ' || r.body, o.external_id) > 0))) AS orders,
            CASE WHEN $1::text IS NULL THEN 0
                 ELSE ts_rank_cd(r.search, q.tsq) + word_similarity($1, r.title || ' ' || r.body) END AS rank
       FROM reviews r CROSS JOIN q
       JOIN products p ON p.id = r.product_id
       JOIN customers c ON c.id = r.customer_id
      WHERE ${where.join(' AND ')}
      ORDER BY ${order}
      LIMIT $${params.length}`,
    params
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor =
    sort === 'relevance' || rows.length <= limit || !last
      ? null
      : encodeCursor(
          sort === 'newest' ? [last.created_key, last.id] : [last.rating, last.created_key, last.id]
        );
  const reviews: Review[] = page.map((r) => ({
    id: Number(r.id),
    productId: Number(r.product_id),
    productName: r.product_name,
    customerId: Number(r.customer_id),
    customerName: r.customer_name,
    rating: Number(r.rating),
    title: split(r.title),
    body: split(r.body),
    createdAt: new Date(r.created_at).toISOString(),
    orders: r.orders
  }));
  return {
    reviews,
    nextCursor,
    ...(query.productId ? { rating: await ratingSummary(db, query.productId) } : {})
  };
}

/** "a \u0002b\u0003 c" -> ["a ", "b", " c"]: odd items were matched. */
function split(text: string): Highlighted {
  const parts: string[] = [];
  let rest = text;
  for (;;) {
    const start = rest.indexOf(START);
    const stop = start < 0 ? -1 : rest.indexOf(STOP, start);
    if (start < 0 || stop < 0) {
      parts.push(rest.replaceAll(START, '').replaceAll(STOP, ''));
      return parts;
    }
    parts.push(rest.slice(0, start), rest.slice(start + 1, stop));
    rest = rest.slice(stop + 1);
  }
}

import type { SeriesRange, SupportPoint, SupportReport } from '#shared/schemas/analytics.js';
import type { Db } from '../../data/db.js';
import { bucketsOf } from './range.js';

type Measures = Omit<SupportPoint, 'bucket' | 'from' | 'to'>;

interface Row {
  created: number;
  fr_median: number | null;
  fr_met: number;
  fr_total: number;
  rs_median: number | null;
  rs_met: number;
  rs_total: number;
  csat_average: string | null;
  csat_responses: number;
}

const percent = (met: number, total: number) => (total === 0 ? null : Math.round((met * 1000) / total) / 10);
const seconds = (v: number | null) => (v === null ? null : Math.round(Number(v)));

/**
 * Each measure is counted when its moment happens, as on the wallboard: volume by creation,
 * first-response time and SLA by the first response, resolution time and SLA by the resolution,
 * CSAT by the answer. A target is met when the moment is at or before its due time.
 */
async function measure(db: Db, spans: { from: string; to: string }[], timezone: string): Promise<Measures[]> {
  const rows = await db.query<Row>(
    `WITH b AS (
       SELECT n, (first_day::timestamp AT TIME ZONE $3) AS start_at, ((last_day + 1)::timestamp AT TIME ZONE $3) AS end_at
         FROM unnest($1::date[], $2::date[]) WITH ORDINALITY AS b(first_day, last_day, n)
     )
     SELECT (SELECT count(*) FROM tickets t WHERE t.created_at >= b.start_at AND t.created_at < b.end_at)::int AS created,
            fr.median AS fr_median, fr.met AS fr_met, fr.total AS fr_total,
            rs.median AS rs_median, rs.met AS rs_met, rs.total AS rs_total,
            cs.average AS csat_average, cs.responses AS csat_responses
       FROM b
       CROSS JOIN LATERAL (
         SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', t.first_responded_at - t.created_at)) AS median,
                count(*) FILTER (WHERE t.first_responded_at <= t.first_response_due_at)::int AS met,
                count(*) FILTER (WHERE t.first_response_due_at IS NOT NULL)::int AS total
           FROM tickets t WHERE t.first_responded_at >= b.start_at AND t.first_responded_at < b.end_at) fr
       CROSS JOIN LATERAL (
         SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', t.resolved_at - t.created_at)) AS median,
                count(*) FILTER (WHERE t.resolved_at <= t.resolution_due_at)::int AS met,
                count(*) FILTER (WHERE t.resolution_due_at IS NOT NULL)::int AS total
           FROM tickets t WHERE t.resolved_at >= b.start_at AND t.resolved_at < b.end_at) rs
       CROSS JOIN LATERAL (
         SELECT round(avg(t.csat_score), 2)::text AS average, count(*)::int AS responses
           FROM tickets t WHERE t.csat_at >= b.start_at AND t.csat_at < b.end_at) cs
      ORDER BY b.n`,
    [spans.map((s) => s.from), spans.map((s) => s.to), timezone]
  );
  return rows.map((r) => ({
    created: r.created,
    firstResponseMedianSeconds: seconds(r.fr_median),
    firstResponseSla: { met: r.fr_met, total: r.fr_total, percent: percent(r.fr_met, r.fr_total) },
    resolutionMedianSeconds: seconds(r.rs_median),
    resolutionSla: { met: r.rs_met, total: r.rs_total, percent: percent(r.rs_met, r.rs_total) },
    csatAverage: r.csat_average === null ? null : Number(r.csat_average),
    csatResponses: r.csat_responses
  }));
}

export async function supportReport(db: Db, range: SeriesRange): Promise<SupportReport> {
  const spans = bucketsOf(range);
  const [points, [totals]] = await Promise.all([
    measure(db, spans, range.timezone),
    measure(db, [range], range.timezone)
  ]);
  return {
    range,
    points: spans.map((s, i) => ({ bucket: s.bucket, from: s.from, to: s.to, ...points[i] })),
    totals
  };
}

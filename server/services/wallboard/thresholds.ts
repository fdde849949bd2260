import type { z } from 'zod';
import type { Threshold, ThresholdsBody } from '#shared/schemas/metrics.js';
import type { Actor } from '../../auth/actor.js';
import type { Db } from '../../data/db.js';
import { audit } from '../audit.js';

// Thresholds managers set on wallboard tiles ("unassigned above 20"). Saving them writes
// change_log rows, so every server process puts the tiles in alert within one read.

interface Row {
  metric: Threshold['metric'];
  comparison: Threshold['comparison'];
  value: string;
  updated_at: Date;
  updated_by: number | null;
  updater_name: string | null;
}

export async function listThresholds(db: Db): Promise<Threshold[]> {
  const rows = await db.query<Row>(
    `SELECT t.metric, t.comparison, t.value::text AS value, t.updated_at, t.updated_by, u.name AS updater_name
       FROM wallboard_thresholds t LEFT JOIN users u ON u.id = t.updated_by ORDER BY t.metric`
  );
  return rows.map((r) => ({
    metric: r.metric,
    comparison: r.comparison,
    value: r.value,
    updatedAt: new Date(r.updated_at).toISOString(),
    updatedBy: r.updated_by === null ? null : { id: r.updated_by, name: r.updater_name ?? '' }
  }));
}

/** Replaces the whole set: metrics left out lose their threshold. */
export async function saveThresholds(
  db: Db,
  actor: Actor,
  rules: z.output<typeof ThresholdsBody>['thresholds']
): Promise<Threshold[]> {
  await db.transaction(async (t) => {
    await t.query(`DELETE FROM wallboard_thresholds WHERE metric <> ALL($1::text[])`, [
      rules.map((r) => r.metric)
    ]);
    for (const rule of rules) {
      await t.query(
        `INSERT INTO wallboard_thresholds (metric, comparison, value, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (metric) DO UPDATE SET comparison = excluded.comparison, value = excluded.value,
                                           updated_by = excluded.updated_by, updated_at = now()
          WHERE (wallboard_thresholds.comparison, wallboard_thresholds.value) IS DISTINCT FROM (excluded.comparison, excluded.value)`,
        [rule.metric, rule.comparison, rule.value, actor.user.id]
      );
    }
    await audit(t, {
      action: 'wallboard.thresholds_updated',
      actorUserId: actor.user.id,
      targetType: 'wallboard_thresholds',
      ip: actor.ip,
      details: { thresholds: rules }
    });
  });
  return listThresholds(db);
}

import type { FilterGroup } from '#shared/lists/query.js';
import type { BulkEntity, BulkSelection } from '#shared/schemas/bulk.js';
import type { Db } from '../../data/db.js';
import { compileWhere } from '../lists/compile.js';
import { ENTITY_SQL } from '../lists/entities.js';
import { withSearch } from '../lists/rows.js';

// "All matching" means what the list shows: the lists service compiles the selection (search,
// filter, ids) over the list's own relation, so a bulk job and the table agree on every row.

const where = (entity: BulkEntity, selection: BulkSelection, firstParam: number) =>
  compileWhere(
    entity,
    {
      ...(selection.q ? { q: selection.q } : {}),
      ...(selection.filter ? { filter: selection.filter as FilterGroup } : {}),
      ...(selection.ids ? { ids: selection.ids } : {})
    },
    firstParam
  );

/** Compiles the selection once so that what cannot run is a 400 now, not a failed job later. */
export function checkSelection(entity: BulkEntity, selection: BulkSelection): void {
  where(entity, selection, 1);
}

/**
 * Copies the ids the selection matches now into the job's items (in the caller's transaction);
 * returns how many.
 */
export async function snapshotSelection(
  db: Db,
  jobId: number,
  entity: BulkEntity,
  selection: BulkSelection
): Promise<number> {
  const compiled = where(entity, selection, 2);
  const sql = ENTITY_SQL[entity];
  return withSearch(db, selection.q, async (t) => {
    const [{ count }] = await t.query<{ count: number }>(
      `WITH inserted AS (
         INSERT INTO bulk_job_items (job_id, row_id)
         SELECT DISTINCT $1::bigint, ${sql.id} FROM ${sql.from} WHERE ${compiled.sql}
         RETURNING 1)
       SELECT count(*)::int AS count FROM inserted`,
      [jobId, ...compiled.params]
    );
    return count;
  });
}

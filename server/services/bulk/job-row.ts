import type { BulkJob, BulkJobState } from '#shared/schemas/bulk.js';

/** A bulk_jobs row as the database returns it. */
export interface BulkJobRow {
  id: string | number;
  entity: BulkJob['entity'];
  action: BulkJob['action'];
  params: Record<string, unknown>;
  selection: Record<string, unknown>;
  created_by: number | null;
  state: BulkJobState;
  total: number | null;
  processed: number;
  updated_count: number;
  skipped_count: number;
  failed_count: number;
  reasons: Record<string, number>;
  error: string | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

-- Bulk actions over every row a list matches, run by the server in short batches (server/services/bulk).

CREATE TABLE bulk_jobs (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entity         text NOT NULL CHECK (entity IN ('customers', 'orders', 'products')),
  action         text NOT NULL CHECK (action ~ '^[a-z_]{1,40}$'),
  params         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(params) = 'object'),
  -- The list query as the user gave it (q, filter, ids): what "all matching" meant.
  selection      jsonb NOT NULL CHECK (jsonb_typeof(selection) = 'object'),
  created_by     integer REFERENCES public.users (id) ON DELETE SET NULL,
  state          text NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'done', 'cancelled', 'failed')),
  -- Rows matched when the job started (null until then); every one ends updated, skipped or failed.
  total          integer CHECK (total >= 0),
  processed      integer NOT NULL DEFAULT 0 CHECK (processed >= 0),
  updated_count  integer NOT NULL DEFAULT 0 CHECK (updated_count >= 0),
  skipped_count  integer NOT NULL DEFAULT 0 CHECK (skipped_count >= 0),
  failed_count   integer NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
  -- Why rows were skipped or failed: { "<reason>": count }.
  reasons        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(reasons) = 'object'),
  error          text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  started_at     timestamptz,
  finished_at    timestamptz,
  CONSTRAINT bulk_jobs_counts CHECK (processed = updated_count + skipped_count + failed_count),
  CONSTRAINT bulk_jobs_within_total CHECK (total IS NULL OR processed <= total),
  CONSTRAINT bulk_jobs_finished CHECK ((state IN ('done', 'cancelled', 'failed')) = (finished_at IS NOT NULL))
);
CREATE INDEX bulk_jobs_by_creator ON bulk_jobs (created_by, id DESC);
CREATE INDEX bulk_jobs_unfinished ON bulk_jobs (id) WHERE state IN ('queued', 'running');

-- The ids a job still has to process, snapshotted when it starts (rows that match later are not
-- touched). A batch deletes what it handled in the same transaction as its changes, so a job
-- interrupted anywhere continues exactly from what is left. `attempts` counts batches that found
-- the row locked by someone else; such rows go to the back of the line.
CREATE TABLE bulk_job_items (
  job_id    bigint NOT NULL REFERENCES bulk_jobs (id) ON DELETE CASCADE,
  row_id    bigint NOT NULL,
  attempts  smallint NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, row_id)
);
CREATE INDEX bulk_job_items_next ON bulk_job_items (job_id, attempts, row_id);

-- An export job's CSV, one chunk per batch, in order; read back when the file is downloaded.
CREATE TABLE bulk_job_files (
  job_id  bigint NOT NULL REFERENCES bulk_jobs (id) ON DELETE CASCADE,
  part    integer NOT NULL CHECK (part >= 0),
  data    bytea NOT NULL,
  PRIMARY KEY (job_id, part)
);

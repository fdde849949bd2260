-- Imports of customers, products and orders from files (server/services/integrations/import).
-- An upload is the file as it arrived, kept in parts so that any server process can run it and a
-- dry run and the real run read the same bytes; a job is one run (or dry run) of an upload.

CREATE TABLE import_uploads (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entity      text NOT NULL CHECK (entity IN ('customers', 'products', 'orders')),
  file_name   text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
  size        bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
  -- False while the upload is still arriving: such an upload cannot be run.
  complete    boolean NOT NULL DEFAULT false,
  created_by  integer REFERENCES public.users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_uploads_by_creator ON import_uploads (created_by, id DESC);

CREATE TABLE import_upload_parts (
  upload_id  bigint NOT NULL REFERENCES import_uploads (id) ON DELETE CASCADE,
  part       integer NOT NULL CHECK (part >= 0),
  data       bytea NOT NULL,
  PRIMARY KEY (upload_id, part)
);

CREATE TABLE import_jobs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  upload_id    bigint NOT NULL REFERENCES import_uploads (id) ON DELETE CASCADE,
  entity       text NOT NULL CHECK (entity IN ('customers', 'products', 'orders')),
  file_name    text NOT NULL,
  dry_run      boolean NOT NULL DEFAULT false,
  -- How the file is read: format, encoding, delimiter, header, mapping (ImportOptions).
  options      jsonb NOT NULL CHECK (jsonb_typeof(options) = 'object'),
  -- The file's columns as read (the failed rows' CSV repeats them).
  columns      text[] NOT NULL DEFAULT '{}',
  created_by   integer REFERENCES public.users (id) ON DELETE SET NULL,
  state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  size         bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
  bytes_read   bigint NOT NULL DEFAULT 0 CHECK (bytes_read >= 0),
  rows_count   integer NOT NULL DEFAULT 0 CHECK (rows_count >= 0),
  imported     integer NOT NULL DEFAULT 0 CHECK (imported >= 0),
  updated      integer NOT NULL DEFAULT 0 CHECK (updated >= 0),
  unchanged    integer NOT NULL DEFAULT 0 CHECK (unchanged >= 0),
  rejected     integer NOT NULL DEFAULT 0 CHECK (rejected >= 0),
  error        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  CONSTRAINT import_jobs_finished CHECK ((state IN ('done', 'failed')) = (finished_at IS NOT NULL))
);
CREATE INDEX import_jobs_by_creator ON import_jobs (created_by, id DESC);
CREATE INDEX import_jobs_unfinished ON import_jobs (id) WHERE state IN ('queued', 'running');

-- Every rejected row of a job: where (line of the file, or position in a JSON array), which
-- column, why, and the row as it was read (to write the failed rows back out).
CREATE TABLE import_rejects (
  job_id       bigint NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
  seq          integer NOT NULL,
  line         integer NOT NULL,
  column_name  text,
  reason       text NOT NULL,
  raw          jsonb,
  PRIMARY KEY (job_id, seq)
);

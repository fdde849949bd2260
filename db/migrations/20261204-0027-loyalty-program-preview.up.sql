-- The loyalty program editor's server side: impact previews run as jobs, and the grace a new
-- version gives members whose tier it lowers (server/services/loyalty-program).

-- One impact preview: the draft replayed over the last 12 months against the version in force.
-- The runner writes its progress here as it goes, so any process answers its status.
CREATE TABLE loyalty_preview_jobs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  draft_id     integer NOT NULL REFERENCES loyalty_program_versions (id) ON DELETE CASCADE,
  -- The draft's row version when the preview started: a later edit makes the result stale.
  draft_version integer NOT NULL,
  base_id      integer NOT NULL REFERENCES loyalty_program_versions (id),
  created_by   integer REFERENCES users (id) ON DELETE SET NULL,
  state        text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
  progress     smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  result       jsonb CHECK (result IS NULL OR jsonb_typeof(result) = 'object'),
  error        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  CONSTRAINT loyalty_preview_jobs_finished CHECK ((state <> 'running') = (finished_at IS NOT NULL)),
  CONSTRAINT loyalty_preview_jobs_result CHECK ((state = 'done') = (result IS NOT NULL))
);
CREATE INDEX loyalty_preview_jobs_draft_idx ON loyalty_preview_jobs (draft_id, id DESC);

-- A member whose tier a newly published version lowers keeps `kept_tier` until `until`.
CREATE TABLE loyalty_tier_grace (
  account_id   integer NOT NULL REFERENCES loyalty_accounts (id) ON DELETE CASCADE,
  version_id   integer NOT NULL REFERENCES loyalty_program_versions (id),
  kept_tier    loyalty_tier NOT NULL,
  until        timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, version_id)
);
CREATE INDEX loyalty_tier_grace_until_idx ON loyalty_tier_grace (until);

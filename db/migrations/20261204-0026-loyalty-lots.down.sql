DROP TRIGGER loyalty_ledger_program_version ON loyalty_ledger;
DROP FUNCTION loyalty_ledger_program_version();
ALTER TABLE loyalty_ledger DROP COLUMN program_version_id;
DROP FUNCTION loyalty_program_at(timestamptz);
DROP FUNCTION loyalty_program_version_at(timestamptz);
DROP TABLE loyalty_program_versions;
DROP FUNCTION loyalty_program_versions_guard();

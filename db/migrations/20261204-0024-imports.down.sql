DROP TABLE import_rejects;
DROP TABLE import_jobs;
DROP TABLE import_upload_parts;
DROP TABLE import_uploads;

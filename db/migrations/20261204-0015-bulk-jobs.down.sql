DROP TABLE bulk_job_files;
DROP TABLE bulk_job_items;
DROP TABLE bulk_jobs;

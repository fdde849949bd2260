DROP TABLE loyalty_tier_grace;
DROP TABLE loyalty_preview_jobs;

DROP TABLE segment_rfm_cutoffs;
DROP TABLE segment_membership_changes;
DROP TABLE segment_members;
DROP TABLE segments;

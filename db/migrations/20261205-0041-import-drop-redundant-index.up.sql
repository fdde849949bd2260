-- A customer inserted paid for an index no query needs (docs/performance.md, "importspeed").
-- customers_created_at_idx (created_at) is the first column of customers_list_created_idx
-- (created_at, id), which serves every filter, range and order on created_at alone just as well;
-- each insert (an import writes a million) and each update of created_at kept both.
DROP INDEX customers_created_at_idx;

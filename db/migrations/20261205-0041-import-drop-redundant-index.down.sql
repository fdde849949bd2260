-- Undoes 0041: the index on created_at alone again.
CREATE INDEX customers_created_at_idx ON customers (created_at);

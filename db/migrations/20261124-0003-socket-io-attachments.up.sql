-- Used by @socket.io/postgres-adapter for broadcasts between server processes whose payload
-- is too large for a NOTIFY (presence, typing and viewing events cross processes that way).
CREATE TABLE socket_io_attachments (
  id          bigserial UNIQUE,
  created_at  timestamptz DEFAULT now(),
  payload     bytea
);

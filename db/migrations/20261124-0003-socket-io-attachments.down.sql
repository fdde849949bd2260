DROP TABLE IF EXISTS socket_io_attachments;

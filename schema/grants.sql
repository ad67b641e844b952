-- The account outbox-relay connects with. Replace the password (or use
-- IDENTIFIED VIA/WITH a plugin your site prefers).
--
--   REPLICATION SLAVE   read the binlog (COM_BINLOG_DUMP)
--   REPLICATION CLIENT  SHOW MASTER STATUS / SHOW BINARY LOGS (start: latest,
--                       earliest); MariaDB 10.5+ calls it BINLOG MONITOR
--                       and keeps REPLICATION CLIENT as an alias
--   SELECT on the outbox tables' database: column names from
--                       information_schema when the server does not log
--                       them (binlog_row_metadata below FULL)
--
-- The relay never writes to the database.

CREATE USER IF NOT EXISTS 'outbox_relay'@'%' IDENTIFIED BY 'change-me';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'outbox_relay'@'%';
GRANT SELECT ON shop.* TO 'outbox_relay'@'%';

-- MariaDB 10.5 and later only, where REPLICATION CLIENT no longer covers
-- SHOW BINLOG STATUS on every version; harmless to run again:
-- GRANT BINLOG MONITOR ON *.* TO 'outbox_relay'@'%';
--
-- MySQL 8.0/8.4: the statements above work as they are.

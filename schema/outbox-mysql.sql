-- The outbox table for MySQL 8.0 and 8.4.
--
-- Same columns as outbox-mariadb.sql (Debezium's names; see there), with
-- MySQL's native JSON type for the payload: the relay decodes MySQL's
-- binary JSON back to JSON text for the record value.
--
-- The application inserts one row here in the same transaction as its
-- business change, and may delete it again at any time: the relay reads
-- INSERTs from the binlog and ignores UPDATEs and DELETEs.

CREATE TABLE IF NOT EXISTS outbox (
  id            CHAR(36)     CHARACTER SET ascii NOT NULL,
  aggregatetype VARCHAR(255) NOT NULL,
  aggregateid   VARCHAR(255) NOT NULL,
  type          VARCHAR(255) NOT NULL,
  payload       JSON,
  created_at    TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;

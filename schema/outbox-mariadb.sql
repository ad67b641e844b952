-- The outbox table for MariaDB 10.5 and later.
--
-- The application inserts one row here in the same transaction as its
-- business change; outbox-relay turns the INSERT into a Kafka record.
-- Column names are those of Debezium's Outbox Event Router, so consumers
-- written for Debezium need no change:
--
--   id             header `id`: the event id consumers deduplicate on
--   aggregatetype  picks the topic: outbox.event.<aggregatetype>
--   aggregateid    the record key: events of one aggregate stay in order
--   type           header `type`: what happened (e.g. "UserJoinedQueue")
--   payload        the record value, as stored
--
-- The relay reads only INSERTs: the application may DELETE rows at any
-- time, even in the same transaction (then the table stays empty and the
-- events still flow, from the binlog).
--
-- MariaDB's JSON type is an alias of LONGTEXT; the CHECK keeps payloads
-- valid JSON, which is what consumers of Debezium's router expect.

CREATE TABLE IF NOT EXISTS outbox (
  id            CHAR(36)     CHARACTER SET ascii NOT NULL,
  aggregatetype VARCHAR(255) NOT NULL,
  aggregateid   VARCHAR(255) NOT NULL,
  type          VARCHAR(255) NOT NULL,
  payload       LONGTEXT     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
                CHECK (payload IS NULL OR JSON_VALID(payload)),
  created_at    TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

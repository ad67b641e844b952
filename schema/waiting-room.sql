-- Example application tables of an online waiting room (MariaDB).
--
-- Positions are not computed in SQL: they live in Redis, one ZSET per
-- queue of the users waiting (score: join time, so ZRANK + 1 is the
-- position) and one of those admitted:
--
--   queue:{queue}:waiting   ZSET  member user id, score join time (ms)
--   queue:{queue}:admitted  ZSET  member user id, score admission time
--
-- The database keeps the durable record, and every change that users
-- should see is announced through the outbox in the same transaction:
--
--   BEGIN;
--   INSERT INTO queue_entries (queue, user_id, state) VALUES ('sale', 'u42', 'waiting');
--   INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload)
--     VALUES (UUID(), 'queue', 'sale', 'UserJoined', '{"user":"u42"}');
--   COMMIT;
--   -- then: ZADD queue:sale:waiting <now-ms> u42
--
-- outbox-relay publishes the row to outbox.event.queue with key "sale";
-- outbox-sse recomputes the positions of sale's users and pushes them.

CREATE TABLE IF NOT EXISTS queues (
  name          VARCHAR(128) NOT NULL PRIMARY KEY,
  admit_per_min INT UNSIGNED NOT NULL DEFAULT 60,
  target_url    VARCHAR(1024) NOT NULL,
  created_at    TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS queue_entries (
  queue       VARCHAR(128) NOT NULL,
  user_id     VARCHAR(128) NOT NULL,
  state       ENUM('waiting', 'admitted', 'left') NOT NULL DEFAULT 'waiting',
  joined_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  admitted_at TIMESTAMP(6) NULL,
  PRIMARY KEY (queue, user_id),
  KEY by_state (queue, state, joined_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

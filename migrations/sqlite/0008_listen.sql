-- The webhook listener (SQLite). Kept column for column in step with migrations/postgres/0008_listen.sql.
--
-- `listener` has one row (id 1): the random secret that is the last segment of the URL the
-- listener subscribes (Affinity signs nothing: the secret is what tells its deliveries from
-- anyone else's POSTs; it is never logged), and the subscription it made, so that a restart
-- finds and keeps it instead of making another (a tenant has at most three).
CREATE TABLE listener (
    id               BIGINT PRIMARY KEY,
    secret           TEXT NOT NULL,
    subscription_id  BIGINT,                 -- Affinity's id of the listener's subscription
    origin           TEXT,                   -- scheme://host:port it was subscribed at (no secret)
    subscribed_at    TEXT,
    created_at       TEXT NOT NULL
);

-- The durable queue: a delivery is stored here before it is acknowledged, and applied to the
-- mirror from here, so that a listener killed between the two applies it after its restart.
-- A row is queued while `applied_at` is NULL; applied, it keeps what became of it.
CREATE TABLE listen_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at  TEXT NOT NULL,
    kind         TEXT NOT NULL,              -- the event type as sent: `list_entry.created`
    sent_at      BIGINT,                     -- the payload's `sent_at` (Unix seconds), when given
    payload      TEXT NOT NULL,              -- the whole delivery, as received
    applied_at   TEXT,
    outcome      TEXT,                       -- the journal step it ended as
    run_id       BIGINT,                     -- the listen run that applied it
    reads        BIGINT
);
CREATE INDEX listen_events_queue ON listen_events (applied_at, id);
CREATE INDEX listen_events_received ON listen_events (received_at);

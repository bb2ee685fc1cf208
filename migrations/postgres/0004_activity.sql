-- Communication activity logged into Affinity, per feed event (Postgres). Kept column for column
-- in step with migrations/sqlite/0004_activity.sql.

-- What each feed event became in Affinity: a note or a call interaction, and the hash of what
-- was written, so that a rerun writes only what the feed changed.
CREATE TABLE activity_log (
    feed_id           TEXT PRIMARY KEY,      -- the feed's own event id
    object            TEXT NOT NULL,         -- note | interaction
    affinity_id       BIGINT NOT NULL,       -- the note's or the interaction's id
    interaction_type  BIGINT,                -- 1 (call) for interactions; ids are per type
    person_id         BIGINT NOT NULL,
    content_hash      TEXT NOT NULL,         -- SHA-256 of what was last written
    logged_at         TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    deleted_at        TEXT                   -- set once the object was deleted in Affinity
);

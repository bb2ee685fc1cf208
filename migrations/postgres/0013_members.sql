-- Members (`[[members]]` in affsync.toml) write activity with their own keys (postgres; kept column
-- for column in step with the other backend's 0013_members.sql).

-- The Affinity user behind each member's key, read once through whoami, and read again only
-- when the key changes (its digest, never the key).
CREATE TABLE member_users (
    member      TEXT PRIMARY KEY,   -- the member's name in affsync.toml
    key_digest  TEXT NOT NULL,      -- the first 16 hex digits of the key's SHA-256
    user_id     BIGINT NOT NULL,
    first_name  TEXT,
    last_name   TEXT,
    email       TEXT,
    read_at     TEXT NOT NULL
);

-- Which member's key wrote a feed event (NULL: the default key): the note's or the call's
-- creator in Affinity, whose key also writes its edits and deletions.
ALTER TABLE activity_log ADD COLUMN member TEXT;

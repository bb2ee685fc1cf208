-- Two-way contact sync: what each contact looked like on both sides at the last sync (SQLite).
-- Kept column for column in step with migrations/postgres/0005_contacts.sql.

CREATE TABLE contact_sync (
    mapping        TEXT NOT NULL,            -- the contacts mapping file, as a stable key
    contact_key    TEXT NOT NULL,            -- the normalized email
    affinity_id    BIGINT,                   -- the person, when Affinity has one
    file_hash      TEXT,                     -- the file's row at the last sync, when the file had it
    affinity_hash  TEXT,                     -- the person at the last sync, when Affinity had it
    synced_at      TEXT NOT NULL,
    PRIMARY KEY (mapping, contact_key)
);

-- Mapping identities (sqlite). Kept column for column in step with
-- migrations/postgres/0011_mapping_identity.sql.
--
-- A mapping file's decisions and verdicts were kept under its path from the folder a command ran
-- in; they are now kept under its `name`, else its path from the folder of `affsync.toml` (or
-- of the SQLite mirror). The pass that moves the old keys runs once, when a command first opens
-- the mirror with its settings (it needs the files, which SQL cannot see); it records here what
-- it moved, and the keys it could not resolve, whose rows stay where they are.
CREATE TABLE mapping_key_moves (
    old_key   TEXT PRIMARY KEY,
    new_key   TEXT,                          -- NULL: no mapping file found for the old key
    kept      BIGINT NOT NULL DEFAULT 0,     -- rows left under old_key (unresolved, or taken)
    moved_at  TEXT NOT NULL
);

-- One-time passes over the store that need more than SQL, by name, once done.
CREATE TABLE store_passes (
    name      TEXT PRIMARY KEY,
    done_at   TEXT NOT NULL
);

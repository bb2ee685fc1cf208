-- The mirror of Affinity and the run journal (SQLite). Kept column for column in step with
-- migrations/postgres/0001_mirror.sql: the store binds the same queries to both.
--
-- Conventions, for both backends:
-- * times are TEXT, RFC 3339 in UTC with milliseconds (`2026-11-21T09:30:00.000Z`), so that they
--   sort as text and read the same from SQLite and Postgres;
-- * flags are BIGINT 0/1 (one integer type everywhere keeps the two schemas binding alike);
-- * per record: `first_seen_at` (first pull that saw it), `changed_at` (last pull that changed
--   it), `gone_at` (set when Affinity no longer has it: the row is flagged and kept, never
--   deleted). A live record was last seen by the last complete pull of its list (the journal's
--   `pulled` event on `list:ID`), a gone one at `last_seen_at`. A pull that finds nothing new
--   writes nothing to the mirror: it only adds its run and events to the journal.

CREATE TABLE lists (
    id             BIGINT PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,            -- company | person | opportunity
    is_public      BIGINT NOT NULL,
    owner_id       BIGINT,
    creator_id     BIGINT,
    first_seen_at  TEXT NOT NULL,
    changed_at     TEXT NOT NULL,
    last_seen_at   TEXT,
    gone_at        TEXT
);

-- The field catalog, keyed by v2 field id (`field-123`, `affinity-data-location`, ...).
CREATE TABLE fields (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    field_type         TEXT NOT NULL,        -- global | list | enriched | relationship-intelligence
    value_type         TEXT NOT NULL,        -- v2 valueType: text, number-multi, ranked-dropdown, ...
    list_id            BIGINT,               -- set for list-specific fields
    entity_kind        TEXT,                 -- company | person | opportunity, when known
    allows_multiple    BIGINT NOT NULL,
    enrichment_source  TEXT,
    track_changes      BIGINT,
    first_seen_at      TEXT NOT NULL,
    changed_at         TEXT NOT NULL,
    last_seen_at       TEXT,
    gone_at            TEXT
);

CREATE TABLE dropdown_options (
    field_id   TEXT NOT NULL,
    option_id  BIGINT NOT NULL,
    text       TEXT NOT NULL,
    rank       BIGINT,
    color      TEXT,
    PRIMARY KEY (field_id, option_id)
);

-- Which fields a list's entries carry, in the order Affinity gives them.
CREATE TABLE list_fields (
    list_id   BIGINT NOT NULL,
    field_id  TEXT NOT NULL,
    position  BIGINT NOT NULL,
    PRIMARY KEY (list_id, field_id)
);

CREATE TABLE organizations (
    id             BIGINT PRIMARY KEY,
    name           TEXT NOT NULL,
    domain         TEXT,
    domains        TEXT NOT NULL,            -- JSON array of strings
    is_global      BIGINT NOT NULL,
    first_seen_at  TEXT NOT NULL,
    changed_at     TEXT NOT NULL,
    last_seen_at   TEXT,
    gone_at        TEXT,
    merged_into    BIGINT                    -- the surviving organization, when merged
);
CREATE INDEX organizations_domain ON organizations (domain);

CREATE TABLE persons (
    id             BIGINT PRIMARY KEY,
    first_name     TEXT,
    last_name      TEXT,
    primary_email  TEXT,
    emails         TEXT NOT NULL,            -- JSON array of strings
    person_type    TEXT,                     -- internal | external | collaborator
    first_seen_at  TEXT NOT NULL,
    changed_at     TEXT NOT NULL,
    last_seen_at   TEXT,
    gone_at        TEXT,
    merged_into    BIGINT
);
CREATE INDEX persons_primary_email ON persons (primary_email);

CREATE TABLE opportunities (
    id             BIGINT PRIMARY KEY,
    name           TEXT NOT NULL,
    list_id        BIGINT,
    first_seen_at  TEXT NOT NULL,
    changed_at     TEXT NOT NULL,
    last_seen_at   TEXT,
    gone_at        TEXT
);

CREATE TABLE list_entries (
    id             BIGINT PRIMARY KEY,
    list_id        BIGINT NOT NULL,
    entity_kind    TEXT NOT NULL,            -- company | person | opportunity
    entity_id      BIGINT NOT NULL,
    created_at     TEXT,
    creator_id     BIGINT,
    first_seen_at  TEXT NOT NULL,
    changed_at     TEXT NOT NULL,
    last_seen_at   TEXT,
    gone_at        TEXT
);
CREATE INDEX list_entries_list ON list_entries (list_id);
CREATE INDEX list_entries_entity ON list_entries (entity_kind, entity_id);

-- Field values, typed, one row per value (a multi-valued field has one row per element, in
-- Affinity's order). The owner is the entity for global and enriched values (`company`,
-- `person`), and the list entry for list-specific ones (`entry`). An empty value has no row.
CREATE TABLE field_values (
    owner       TEXT NOT NULL,               -- company | person | opportunity | entry
    owner_id    BIGINT NOT NULL,
    field_id    TEXT NOT NULL,
    position    BIGINT NOT NULL,
    value_type  TEXT NOT NULL,               -- the v2 valueType
    text        TEXT,                        -- text; a dropdown's option text; a reference's name
    number      DOUBLE PRECISION,            -- number, formula-number
    at          TEXT,                        -- datetime (RFC 3339, UTC); an interaction's date
    ref_id      BIGINT,                      -- a dropdown option, person or organization id
    json        TEXT,                        -- the whole value as Affinity gave it, when text is not enough
    changed_at  TEXT NOT NULL,
    PRIMARY KEY (owner, owner_id, field_id, position)
);

-- The journal: one row per run of a command, one event per record per step.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,               -- pull | match | push | ...
    job         TEXT,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    status      TEXT NOT NULL,               -- running | ok | partial | failed
    counts      TEXT,                        -- JSON object
    api_calls   BIGINT NOT NULL DEFAULT 0,
    error       TEXT
);

CREATE TABLE events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id   BIGINT NOT NULL REFERENCES runs (id),
    at       TEXT NOT NULL,
    record   TEXT NOT NULL,                  -- what it is about: `entry:601`, `company:201`, ...
    step     TEXT NOT NULL,                  -- new | changed | removed | merged | ...
    detail   TEXT                            -- JSON
);
CREATE INDEX events_run ON events (run_id);
CREATE INDEX events_record ON events (record);

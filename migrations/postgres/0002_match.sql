-- Match decisions, computed and reviewers', per mapping file and source record (Postgres).
-- Kept column for column in step with migrations/sqlite/0002_match.sql.

-- The matcher's latest decision for each source record of a mapping file.
CREATE TABLE match_decisions (
    mapping      TEXT NOT NULL,              -- the mapping file, as a stable key
    source_id    TEXT NOT NULL,
    status       TEXT NOT NULL,              -- matched | review | unmatched | error
    affinity_id  TEXT,                       -- the chosen record (matched) or the best one (review)
    score        DOUBLE PRECISION,
    method       TEXT,                       -- key | fuzzy | reviewer
    reason       TEXT NOT NULL,
    candidates   TEXT,                       -- JSON: [{"affinity_id", "score"}], best first
    record       TEXT,                       -- JSON: the source record's compared values
    run_id       BIGINT,
    decided_at   TEXT NOT NULL,
    PRIMARY KEY (mapping, source_id)
);

-- What a reviewer decided; wins over the matcher's decision until undone.
CREATE TABLE reviewer_decisions (
    mapping      TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    decision     TEXT NOT NULL,              -- accept | create | reject
    affinity_id  TEXT,                       -- the accepted record
    decided_by   TEXT,
    decided_at   TEXT NOT NULL,
    PRIMARY KEY (mapping, source_id)
);

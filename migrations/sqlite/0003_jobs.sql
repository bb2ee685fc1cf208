-- Jobs (SQLite). Kept column for column in step with migrations/postgres/0003_jobs.sql.
--
-- One row per job that is running somewhere: taking the lock is inserting the row (the primary
-- key lets one writer win), releasing it is deleting it. The holder writes `heartbeat_at`
-- while it runs; a row whose heartbeat is older than the job's stale time belongs to a process
-- that died, and the next one to start takes it over (an UPDATE that only matches a stale row,
-- so two takers cannot both win).
CREATE TABLE job_locks (
    job           TEXT PRIMARY KEY,
    holder        TEXT NOT NULL,             -- host, pid and a random tag
    run_id        BIGINT,                    -- the job's run in the journal, once opened
    acquired_at   TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL
);

CREATE INDEX runs_job ON runs (job, id);

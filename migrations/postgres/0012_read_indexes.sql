-- Reads that a mirror of 100k entries made slow: a list's entries in id order (the MCP
-- server's search_list, pages of a list) sorted the whole list; a run's step counts (list_runs,
-- activity) read every event row for its step. Both are answered from these indexes alone.
DROP INDEX IF EXISTS list_entries_list;
CREATE INDEX list_entries_list ON list_entries (list_id, id);
DROP INDEX IF EXISTS events_run;
CREATE INDEX events_run ON events (run_id, step);

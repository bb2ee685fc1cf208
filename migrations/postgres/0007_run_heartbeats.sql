-- Every run says which process runs it and when it last showed signs of life, so that a
-- run whose process died (killed, a lost machine) is closed as abandoned instead of staying
-- `running` forever.
ALTER TABLE runs ADD COLUMN holder TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;

-- Per-team quotas: a team's own limits on its running sandboxes, their
-- vCPUs and memory, its stored bytes and its builds at once. -1 takes the
-- server's default (the --max-* flags); 0 is no limit.
-- +goose Up
ALTER TABLE teams ADD COLUMN max_sandboxes INTEGER NOT NULL DEFAULT -1;
ALTER TABLE teams ADD COLUMN max_vcpus INTEGER NOT NULL DEFAULT -1;
ALTER TABLE teams ADD COLUMN max_memory_mb INTEGER NOT NULL DEFAULT -1;
ALTER TABLE teams ADD COLUMN max_disk_bytes INTEGER NOT NULL DEFAULT -1;
ALTER TABLE teams ADD COLUMN max_builds INTEGER NOT NULL DEFAULT -1;

-- Per-team quotas: a team's own limits on its running sandboxes, their
-- vCPUs and memory, its stored bytes and its builds at once. -1 takes the
-- server's default (the --max-* flags); 0 is no limit.
-- +goose Up
ALTER TABLE teams ADD COLUMN max_sandboxes BIGINT NOT NULL DEFAULT -1;
ALTER TABLE teams ADD COLUMN max_vcpus BIGINT NOT NULL DEFAULT -1;
ALTER TABLE teams ADD COLUMN max_memory_mb BIGINT NOT NULL DEFAULT -1;
ALTER TABLE teams ADD COLUMN max_disk_bytes BIGINT NOT NULL DEFAULT -1;
ALTER TABLE teams ADD COLUMN max_builds BIGINT NOT NULL DEFAULT -1;

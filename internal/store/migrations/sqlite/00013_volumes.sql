-- Adds volumes: a team's named persistent disks (a sparse ext4 image
-- each, outside any sandbox), and each sandbox's volume mounts as JSON
-- ([{"volume_id", "name", "path", "read_only"}]), so that a restart,
-- resume or fork mounts them again.
-- +goose Up
CREATE TABLE volumes (
	id         TEXT PRIMARY KEY,
	team_id    TEXT NOT NULL REFERENCES teams(id),
	name       TEXT NOT NULL,
	size_mb    INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (team_id, name)
);
ALTER TABLE sandboxes ADD COLUMN volumes TEXT NOT NULL DEFAULT '[]';

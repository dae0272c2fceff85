-- Adds custom templates.
-- +goose Up
CREATE TABLE custom_templates (
	id         TEXT PRIMARY KEY,
	team_id    TEXT NOT NULL REFERENCES teams(id),
	name       TEXT NOT NULL,
	version    INTEGER NOT NULL,
	stack      TEXT NOT NULL,
	config     TEXT NOT NULL,
	source     TEXT NOT NULL,
	from_ref   TEXT NOT NULL,
	built_by   TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	size_bytes INTEGER NOT NULL,
	public     INTEGER NOT NULL DEFAULT 0,
	UNIQUE (team_id, name, version)
);

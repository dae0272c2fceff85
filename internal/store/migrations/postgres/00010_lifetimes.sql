-- Adds labels, hard lifetimes (when a sandbox times out, what then,
-- whether its warning was given), when it was paused (for the paused
-- TTL: a sandbox paused now counts from its last pause event) and pinned
-- snapshots (kept by the snapshot cap).
-- +goose Up
ALTER TABLE sandboxes ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE sandboxes ADD COLUMN timeout_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sandboxes ADD COLUMN on_timeout TEXT NOT NULL DEFAULT '';
ALTER TABLE sandboxes ADD COLUMN timeout_warned BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sandboxes ADD COLUMN paused_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE sandboxes SET paused_at = COALESCE((SELECT MAX(at) FROM sandbox_events e
	WHERE e.sandbox_id = sandboxes.id AND e.to_state = 'paused'), 0) WHERE state = 'paused';

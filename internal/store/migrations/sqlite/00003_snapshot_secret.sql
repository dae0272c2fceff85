-- Adds the agent token a snapshot's image holds.
-- +goose Up
ALTER TABLE snapshots ADD COLUMN secret TEXT NOT NULL DEFAULT '';

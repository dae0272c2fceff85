-- Adds desktop sandboxes.
-- +goose Up
ALTER TABLE sandboxes ADD COLUMN desktop INTEGER NOT NULL DEFAULT 0;

-- Adds egress policies.
-- +goose Up
ALTER TABLE sandboxes ADD COLUMN egress TEXT NOT NULL DEFAULT '{}';

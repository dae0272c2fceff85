-- Adds public URLs, exposed ports and access tokens.
-- +goose Up
ALTER TABLE sandboxes ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sandboxes ADD COLUMN ports TEXT NOT NULL DEFAULT '[3000,3001,5173,8000,8080]';
ALTER TABLE sandboxes ADD COLUMN access_token TEXT NOT NULL DEFAULT '';

-- Adds disks and auto-start. stopped now keeps a sandbox (its
-- disk, name and address, to start it again); what was stopped before
-- this had no disk to keep: destroyed.
-- +goose Up
ALTER TABLE sandboxes ADD COLUMN disk TEXT NOT NULL DEFAULT 'ephemeral';
ALTER TABLE sandboxes ADD COLUMN auto_start INTEGER NOT NULL DEFAULT 1;
UPDATE sandboxes SET state = 'destroyed' WHERE state = 'stopped';
DROP INDEX sandboxes_live_name;
DROP INDEX sandboxes_live_ip;
CREATE UNIQUE INDEX sandboxes_live_name ON sandboxes(team_id, name) WHERE state != 'destroyed' AND name != '';
CREATE UNIQUE INDEX sandboxes_live_ip ON sandboxes(ip) WHERE state != 'destroyed';

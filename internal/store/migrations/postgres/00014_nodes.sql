-- The nodes of a cluster (servers sharing this database) and the node
-- each sandbox runs on. A node keeps its lease alive; one whose lease ran
-- out is marked lost (lost_at). state is what an admin set: ready,
-- cordoned or draining. Addresses are unique per node: each node has its
-- own bridge, and nodes may use the same subnet. image_object is the key,
-- in the object store, of a paused sandbox's image, once stored there.
-- +goose Up
CREATE TABLE nodes (
	name         TEXT PRIMARY KEY,
	api_url      TEXT NOT NULL,
	proxy_addr   TEXT NOT NULL DEFAULT '',
	ssh_addr     TEXT NOT NULL DEFAULT '',
	state        TEXT NOT NULL DEFAULT 'ready',
	vcpus        INTEGER NOT NULL DEFAULT 0,
	memory_mb    BIGINT NOT NULL DEFAULT 0,
	disk_mb      BIGINT NOT NULL DEFAULT 0,
	slots        INTEGER NOT NULL DEFAULT 0,
	templates    TEXT NOT NULL DEFAULT '[]',
	started_at   BIGINT NOT NULL DEFAULT 0,
	heartbeat_at BIGINT NOT NULL DEFAULT 0,
	lease_until  BIGINT NOT NULL DEFAULT 0,
	lost_at      BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE cluster_secret (
	id     INTEGER PRIMARY KEY,
	secret TEXT NOT NULL
);
ALTER TABLE sandboxes ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE sandboxes ADD COLUMN image_object TEXT NOT NULL DEFAULT '';
DROP INDEX sandboxes_live_ip;
CREATE UNIQUE INDEX sandboxes_live_ip ON sandboxes(node, ip) WHERE state != 'destroyed';

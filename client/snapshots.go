package client

import (
	"context"
	"net/http"
	"net/url"
)

// SnapshotOption changes how TakeSnapshot takes a snapshot.
type SnapshotOption func(*SnapshotRequest)

// Pinned keeps the snapshot when the server's snapshot cap removes the
// sandbox's oldest ones.
func Pinned() SnapshotOption { return func(r *SnapshotRequest) { r.Pin = true } }

// TakeSnapshot saves the sandbox's memory and disk under name ("" picks
// one). The sandbox keeps running.
func (c *Client) TakeSnapshot(ctx context.Context, ref, name string, opts ...SnapshotOption) (*Snapshot, error) {
	req := SnapshotRequest{Name: name}
	for _, o := range opts {
		o(&req)
	}
	var sn Snapshot
	err := c.call(ctx, http.MethodPost, sandboxPath(ref, "snapshots"), nil, req, &sn)
	return &sn, err
}

// Snapshots lists a sandbox's snapshots, oldest first.
func (c *Client) Snapshots(ctx context.Context, ref string) ([]Snapshot, error) {
	return getList[Snapshot](ctx, c, sandboxPath(ref, "snapshots"), nil, "snapshots")
}

// DeleteSnapshot removes a snapshot (by name or ID) and frees its disk.
func (c *Client) DeleteSnapshot(ctx context.Context, ref, snapshot string) error {
	return c.call(ctx, http.MethodDelete, sandboxPath(ref, "snapshots", url.PathEscape(snapshot)), nil, nil, nil)
}

// Rollback returns a sandbox to a snapshot ("" = the latest).
func (c *Client) Rollback(ctx context.Context, ref, snapshot string) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPost, sandboxPath(ref, "rollback"), RollbackRequest{Snapshot: snapshot})
}

// Fork makes a new sandbox, with a new ID and address, from a snapshot of
// ref ("" = its current state).
func (c *Client) Fork(ctx context.Context, ref string, req ForkRequest) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPost, sandboxPath(ref, "fork"), req)
}

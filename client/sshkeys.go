package client

import (
	"context"
	"net/http"
	"net/url"
)

// AddSSHKey registers a public key (authorized_keys format) for the team.
func (c *Client) AddSSHKey(ctx context.Context, name, publicKey string) (*SSHKey, error) {
	var k SSHKey
	err := c.call(ctx, http.MethodPost, "/v1/ssh-keys", nil, AddSSHKeyRequest{Name: name, PublicKey: publicKey}, &k)
	return &k, err
}

// SSHKeys lists the team's SSH keys.
func (c *Client) SSHKeys(ctx context.Context) ([]SSHKey, error) {
	return getList[SSHKey](ctx, c, "/v1/ssh-keys", nil, "ssh_keys")
}

// RemoveSSHKey revokes an SSH key by name or ID; the next login with it fails.
func (c *Client) RemoveSSHKey(ctx context.Context, ref string) error {
	return c.call(ctx, http.MethodDelete, "/v1/ssh-keys/"+url.PathEscape(ref), nil, nil, nil)
}

package agentclient

import "net/http"

// SetTransport replaces how the client reaches the agent, for tests that
// stage a failure.
func (c *Client) SetTransport(rt http.RoundTripper) { c.hc.Transport = rt }

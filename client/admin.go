package client

import (
	"context"
	"net/http"
	"net/url"
)

// Templates lists the templates sandboxes can be made from.
func (c *Client) Templates(ctx context.Context) ([]Template, error) {
	return getList[Template](ctx, c, "/v1/templates", nil, "templates")
}

// Template returns one template (a name or an alias), with the versions of
// what its build installed.
func (c *Client) Template(ctx context.Context, name string) (Template, error) {
	var out Template
	err := c.call(ctx, http.MethodGet, "/v1/templates/"+url.PathEscape(name), nil, nil, &out)
	return out, err
}

// BuildTemplate builds (or confirms up to date) a template, reporting progress. It needs an admin key.
func (c *Client) BuildTemplate(ctx context.Context, name string, progress func(TemplateProgress)) error {
	var last TemplateProgress
	err := c.stream(ctx, http.MethodPost, "/v1/templates/"+url.PathEscape(name)+"/build", nil, nil, onProgress(&last, progress))
	if err == nil && last.Error != "" {
		return &APIError{Status: http.StatusInternalServerError, Code: "unavailable", Message: last.Error}
	}
	return err
}

// Me tells which team and key the client authenticates as.
func (c *Client) Me(ctx context.Context) (*Identity, error) {
	var id Identity
	err := c.call(ctx, http.MethodGet, "/v1/me", nil, nil, &id)
	return &id, err
}

// CreateTeam makes a new team. It needs an admin key.
func (c *Client) CreateTeam(ctx context.Context, name string) (*Team, error) {
	var t Team
	err := c.call(ctx, http.MethodPost, "/v1/teams", nil, map[string]string{"name": name}, &t)
	return &t, err
}

// Teams lists teams: all of them for an admin key, else the caller's.
func (c *Client) Teams(ctx context.Context) ([]Team, error) {
	return getList[Team](ctx, c, "/v1/teams", nil, "teams")
}

// CreateKey makes an API key; its Secret is returned only here.
func (c *Client) CreateKey(ctx context.Context, req CreateKeyRequest) (*APIKey, error) {
	var k APIKey
	err := c.call(ctx, http.MethodPost, "/v1/keys", nil, req, &k)
	return &k, err
}

// Keys lists the API keys of the caller's team (all teams for an admin key).
func (c *Client) Keys(ctx context.Context) ([]APIKey, error) {
	return getList[APIKey](ctx, c, "/v1/keys", nil, "keys")
}

// DeleteKey revokes an API key by ID or name.
func (c *Client) DeleteKey(ctx context.Context, ref string) error {
	return c.call(ctx, http.MethodDelete, "/v1/keys/"+url.PathEscape(ref), nil, nil, nil)
}

// Team returns one team with its limits: any team for an admin key, else
// the caller's own.
func (c *Client) Team(ctx context.Context, name string) (*Team, error) {
	var t Team
	err := c.call(ctx, http.MethodGet, "/v1/teams/"+url.PathEscape(name), nil, nil, &t)
	return &t, err
}

// UpdateTeam changes a team's limits. It needs an admin key.
func (c *Client) UpdateTeam(ctx context.Context, name string, req UpdateTeamRequest) (*Team, error) {
	var t Team
	err := c.call(ctx, http.MethodPatch, "/v1/teams/"+url.PathEscape(name), nil, req, &t)
	return &t, err
}

// Usage returns what teams use against their limits: the caller's team,
// or every team for an admin key (team, if not "", picks one).
func (c *Client) Usage(ctx context.Context, team string) ([]TeamUsage, error) {
	q := url.Values{}
	if team != "" {
		q.Set("team", team)
	}
	return getList[TeamUsage](ctx, c, "/v1/usage", q, "teams")
}

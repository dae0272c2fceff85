package build

import (
	"context"
	"time"

	"github.com/runtools/runtools/internal/dockerfile"
	"github.com/runtools/runtools/internal/layer"
)

// Template is one version of a custom template: what a build made.
type Template struct {
	ID      string // of this version
	TeamID  string
	Name    string
	Version int // 1 for the first build of a name, then one more per rebuild
	Stack   layer.Stack
	Config  Config
	// Source is the Dockerfile the template came from; From what its last
	// stage starts from (a template, an image, "scratch").
	Source    string
	From      string
	BuiltBy   string // the API key's name
	CreatedAt time.Time
	Size      int64 // bytes of its own layers
	Public    bool  // any team may use it
}

// Config is what a sandbox of a template starts with, as an image's
// config says: the Dockerfile's ENV, WORKDIR, USER, EXPOSE, LABEL, CMD and
// ENTRYPOINT, over those of its base.
type Config struct {
	Env        dockerfile.Env    `json:"env,omitempty"`     // NAME=value
	Workdir    string            `json:"workdir,omitempty"` // exec's default directory; "" for the user's home
	User       string            `json:"user,omitempty"`    // exec's default user; "" for root
	Entrypoint []string          `json:"entrypoint,omitempty"`
	Cmd        []string          `json:"cmd,omitempty"`
	Ports      []int             `json:"ports,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	// MemoryMB and Desktop come from a built-in base: a template made
	// from desktop runs the desktop's services, with its memory.
	MemoryMB int  `json:"memory_mb,omitempty"`
	Desktop  bool `json:"desktop,omitempty"`
}

// Start returns the command a new sandbox runs in the background: the
// entrypoint with the command as its arguments, as Docker does.
func (c Config) Start() []string {
	return append(append([]string(nil), c.Entrypoint...), c.Cmd...)
}

// Store keeps custom templates.
type Store interface {
	InsertTemplate(ctx context.Context, t *Template) error
	// Templates lists a team's templates and the public ones, every
	// version, newest first.
	Templates(ctx context.Context, teamID string) ([]*Template, error)
	DeleteTemplate(ctx context.Context, id string) error
	// SetTemplatePublic makes every version of a team's template public or
	// private again.
	SetTemplatePublic(ctx context.Context, teamID, name string, public bool) error
}

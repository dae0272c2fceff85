package client

import "time"

// Template is a root filesystem sandboxes are made from.
type Template struct {
	Name        string    `json:"name"`
	Aliases     []string  `json:"aliases,omitempty"`
	Description string    `json:"description"`
	Status      string    `json:"status"` // ready, building, missing, failed
	SizeBytes   int64     `json:"size_bytes"`
	BuiltAt     time.Time `json:"built_at,omitzero"`
	Error       string    `json:"error,omitempty"`
	// Packages are the versions its build installed: its Debian packages,
	// and "npm:name" for global npm packages.
	Packages map[string]string `json:"packages,omitempty"`
	// Tracked names the packages that matter most (the desktop's browsers,
	// Node.js), in the order to show them.
	Tracked []string `json:"tracked,omitempty"`

	// A custom template, built from a Dockerfile by a team, also has these.
	Custom     bool            `json:"custom,omitempty"`
	Version    int             `json:"version,omitempty"` // 1 for its first build, one more for each rebuild
	Team       string          `json:"team,omitempty"`    // the team that built it
	Public     bool            `json:"public,omitempty"`  // every team may use it
	BuiltBy    string          `json:"built_by,omitempty"`
	From       string          `json:"from,omitempty"`       // what its Dockerfile's last stage starts from
	Dockerfile string          `json:"dockerfile,omitempty"` // the Dockerfile it came from (one template's get only)
	Layers     []TemplateLayer `json:"layers,omitempty"`     // its own layers, the lowest first (get only)
	Config     *TemplateConfig `json:"config,omitempty"`
}

// TemplateLayer is one layer of a custom template: what one step wrote.
type TemplateLayer struct {
	ID        string `json:"id"`
	CreatedBy string `json:"created_by"` // the instruction, e.g. "RUN npm ci"
	SizeBytes int64  `json:"size_bytes"`
}

// TemplateConfig is what a custom template's sandboxes start with: its
// Dockerfile's ENV, WORKDIR, USER, ENTRYPOINT, CMD (run in the background
// at create), EXPOSE and LABEL.
type TemplateConfig struct {
	Env        []string          `json:"env,omitempty"`
	Workdir    string            `json:"workdir,omitempty"`
	User       string            `json:"user,omitempty"`
	Entrypoint []string          `json:"entrypoint,omitempty"`
	Cmd        []string          `json:"cmd,omitempty"`
	Ports      []int             `json:"ports,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	// MemoryMB and Desktop come from a built-in base: a template made from
	// desktop starts desktop sandboxes, with the desktop's memory.
	MemoryMB int  `json:"memory_mb,omitempty"`
	Desktop  bool `json:"desktop,omitempty"`
}

// TemplateProgress is one line of a streamed template build.
type TemplateProgress struct {
	Template  string `json:"template"`
	Step      string `json:"step"`
	Detail    string `json:"detail,omitempty"`
	ElapsedMS int64  `json:"elapsed_ms"`
	Done      bool   `json:"done,omitempty"`
	Error     string `json:"error,omitempty"`
	// A Dockerfile build also says which step, of how many, at which line
	// of the Dockerfile, and whether its layer came from the cache.
	Index  int  `json:"index,omitempty"`
	Total  int  `json:"total,omitempty"`
	Line   int  `json:"line,omitempty"`
	Cached bool `json:"cached,omitempty"`
	// Code is the error's kind (invalid_argument, ...) on the last line of
	// a failed build.
	Code string `json:"code,omitempty"`
}

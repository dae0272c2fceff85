package mcpserver

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/runtools/runtools/client"
)

// Ref names the sandbox a tool acts on. Inputs that embed it are
// checked for it before their tool runs.
type Ref struct {
	Sandbox string `json:"sandbox" jsonschema:"the sandbox's ID or name, as create_sandbox or list_sandboxes gave it"`
}

func (r Ref) ref() string { return r.Sandbox }

// sandboxed is an input that names a sandbox.
type sandboxed interface{ ref() string }

// CreateInput is create_sandbox's input.
type CreateInput struct {
	Template    string            `json:"template,omitempty" jsonschema:"template to start from: base (default: Node.js, npm, Bun, git, Python 3, curl), desktop (an XFCE desktop with Firefox and Chromium), code (base with an IPython kernel for run_code) or one of your team's"`
	Name        string            `json:"name,omitempty" jsonschema:"a name to refer to the sandbox by, unique in your team; default: none, use its ID"`
	VCPUs       int               `json:"vcpus,omitempty" jsonschema:"virtual CPUs; default 2"`
	MemoryMB    int               `json:"memory_mb,omitempty" jsonschema:"memory in MB; default 1024"`
	Env         map[string]string `json:"env,omitempty" jsonschema:"environment variables of every command run in it"`
	IdleTimeout *int              `json:"idle_timeout_seconds,omitempty" jsonschema:"pause the sandbox after this many idle seconds (it wakes when used); 0 never pauses; default 600"`
}

// SandboxInfo is what the tools say about a sandbox.
type SandboxInfo struct {
	ID         string       `json:"id"`
	Name       string       `json:"name,omitempty"`
	Template   string       `json:"template"`
	State      string       `json:"state" jsonschema:"creating, running, paused, stopped, ..."`
	StopReason string       `json:"stop_reason,omitempty"`
	Desktop    bool         `json:"desktop,omitempty" jsonschema:"whether screenshot, click, type_text and press_keys work on it"`
	VCPUs      int          `json:"vcpus"`
	MemoryMB   int          `json:"memory_mb"`
	URLs       []client.URL `json:"urls,omitempty" jsonschema:"the dev-server URLs of its exposed ports"`
	SSH        string       `json:"ssh,omitempty" jsonschema:"the ssh command line that logs into it"`
	CreatedAt  time.Time    `json:"created_at"`
}

func info(sb *client.Sandbox) SandboxInfo {
	i := SandboxInfo{ID: sb.ID, Name: sb.Name, Template: sb.Template, State: sb.State, StopReason: sb.StopReason,
		Desktop: sb.Desktop, VCPUs: sb.VCPUs, MemoryMB: sb.MemoryMB, URLs: sb.URLs, CreatedAt: sb.CreatedAt}
	if sb.SSH != nil {
		i.SSH = sb.SSH.Command
	}
	return i
}

// SandboxList is list_sandboxes' output.
type SandboxList struct {
	Sandboxes []SandboxInfo `json:"sandboxes"`
}

// Destroyed is destroy_sandbox's output.
type Destroyed struct {
	Destroyed string `json:"destroyed" jsonschema:"the sandbox that is gone"`
}

// PortInput is port_url's input.
type PortInput struct {
	Ref
	Port int `json:"port" jsonschema:"the TCP port a server in the sandbox listens on (on 0.0.0.0), e.g. 3000"`
}

// PortURL is port_url's output.
type PortURL struct {
	URL       string     `json:"url" jsonschema:"the port's URL; unless the sandbox is public it needs the sandbox's access token"`
	SignedURL string     `json:"signed_url,omitempty" jsonschema:"a link that opens the private port in a browser without a token, until expires_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (t tools) addSandboxTools(s *mcp.Server) {
	add(s, "create_sandbox", "Create a new sandbox (an isolated Debian 12 Linux machine) and wait until it runs. Returns its ID, which the other tools take as sandbox. Destroy it with destroy_sandbox when done.", changes, t.create)
	add(s, "list_sandboxes", "List your team's sandboxes with their state.", readOnly, t.list)
	add(s, "get_sandbox", "Show one sandbox: its state, resources, dev-server URLs and ssh command.", readOnly, t.get)
	add(s, "destroy_sandbox", "Destroy a sandbox for good: its processes and files are gone.", destructive, t.destroy)
	add(s, "pause_sandbox", "Pause a sandbox: its memory and disk are saved and it uses no CPU. Any later use (exec, files) resumes it on its own.", changes, t.pause)
	add(s, "resume_sandbox", "Resume a paused sandbox now (exec and file tools also resume it on their own).", changes, t.resume)
	add(s, "port_url", "Get the public URL of a TCP port a server in the sandbox listens on (exposing the port if needed), and a signed link that opens it in a browser.", changes, t.portURL)
}

func (t tools) create(ctx context.Context, in CreateInput) (SandboxInfo, error) {
	sb, err := t.api.Create(ctx, client.CreateRequest{Template: in.Template, Name: in.Name, VCPUs: in.VCPUs,
		MemoryMB: in.MemoryMB, Env: in.Env, IdleTimeout: in.IdleTimeout})
	if err != nil {
		return SandboxInfo{}, err
	}
	return info(sb), nil
}

func (t tools) list(ctx context.Context, _ struct{}) (SandboxList, error) {
	sbs, err := t.api.List(ctx)
	out := SandboxList{Sandboxes: []SandboxInfo{}}
	for _, sb := range sbs {
		out.Sandboxes = append(out.Sandboxes, info(sb))
	}
	return out, err
}

func (t tools) get(ctx context.Context, in Ref) (SandboxInfo, error) {
	return t.sandboxCall(ctx, in, t.api.Get)
}

func (t tools) pause(ctx context.Context, in Ref) (SandboxInfo, error) {
	return t.sandboxCall(ctx, in, t.api.Pause)
}

func (t tools) resume(ctx context.Context, in Ref) (SandboxInfo, error) {
	return t.sandboxCall(ctx, in, t.api.Resume)
}

// sandboxCall makes a call that answers with the sandbox.
func (t tools) sandboxCall(ctx context.Context, in Ref, call func(context.Context, string) (*client.Sandbox, error)) (SandboxInfo, error) {
	sb, err := call(ctx, in.Sandbox)
	if err != nil {
		return SandboxInfo{}, err
	}
	return info(sb), nil
}

func (t tools) destroy(ctx context.Context, in Ref) (Destroyed, error) {
	return Destroyed{Destroyed: in.Sandbox}, t.api.Destroy(ctx, in.Sandbox)
}

func (t tools) portURL(ctx context.Context, in PortInput) (PortURL, error) {
	if in.Port < 1 || in.Port > 65535 {
		return PortURL{}, invalid("port %d: want 1-65535", in.Port)
	}
	sb, err := t.api.Get(ctx, in.Sandbox)
	if err != nil {
		return PortURL{}, err
	}
	if !slices.Contains(sb.Ports, in.Port) {
		if sb, err = t.api.Expose(ctx, in.Sandbox, in.Port); err != nil {
			return PortURL{}, err
		}
	}
	var out PortURL
	for _, u := range sb.URLs {
		if u.Port == in.Port {
			out.URL = u.URL
		}
	}
	if out.URL == "" {
		return PortURL{}, fmt.Errorf("the runtools server serves no dev-server URLs (it runs without its proxy): reach the port from inside with exec, e.g. curl -s localhost:%d", in.Port)
	}
	if !sb.Public {
		l, err := t.api.SignedLink(ctx, in.Sandbox, in.Port, 0)
		if err != nil {
			return PortURL{}, err
		}
		out.SignedURL, out.ExpiresAt = l.URL, &l.ExpiresAt
	}
	return out, nil
}

package dockerfile

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Kinds of Step.
const (
	Run        = "RUN"
	Copy       = "COPY"
	Add        = "ADD"
	SetEnv     = "ENV"
	Arg        = "ARG"
	Workdir    = "WORKDIR"
	User       = "USER"
	Label      = "LABEL"
	Expose     = "EXPOSE"
	Cmd        = "CMD"
	Entrypoint = "ENTRYPOINT"
)

// Step is an instruction with its ARG and ENV references expanded.
type Step struct {
	Line   int
	Kind   string
	Source string
	// Argv is the command of RUN, CMD and ENTRYPOINT; Shell says it was
	// written in shell form (Argv is then ["/bin/sh", "-c", line]).
	Argv  []string
	Shell bool
	// Sources, Dest, From (a stage, for COPY --from), Chown and Chmod are
	// those of COPY and ADD.
	Sources            []string
	Dest               string
	From, Chown, Chmod string
	Vars               []Var    // ENV, LABEL and ARG
	Value              string   // WORKDIR's path, USER's user
	Ports              []string // EXPOSE, e.g. "3000" or "53/udp"
}

// Var is a NAME=value pair of ENV, LABEL or ARG.
type Var struct{ Name, Value string }

// Vars is what an instruction's expansion sees: the ARGs declared so far
// in its stage, and the environment in force (ENV wins over an ARG of the
// same name, as in Docker).
type Vars struct {
	Args Env
	Env  Env
}

func (v Vars) lookup() Env { return v.Args.Merge(v.Env) }

// Resolve expands in with the variables in force and returns its Step.
// For an ARG, Vars holds the values it declares: its --build-arg value,
// else its default, else the value of the ARG of that name before the
// first FROM.
func (f *File) Resolve(in Instruction, vars Vars) (Step, error) {
	if x, ok := in.cmd.(instructions.SupportsSingleWordExpansion); ok {
		if err := x.Expand(expander(vars.lookup())); err != nil {
			return Step{}, errorf(in.Line, "%v", err)
		}
	}
	st := Step{Line: in.Line, Source: in.Source}
	switch c := in.cmd.(type) {
	case *instructions.RunCommand:
		st.Kind, st.Argv, st.Shell = Run, argv(c.ShellDependantCmdLine), c.PrependShell
	case *instructions.CmdCommand:
		st.Kind, st.Argv, st.Shell = Cmd, argv(c.ShellDependantCmdLine), c.PrependShell
	case *instructions.EntrypointCommand:
		st.Kind, st.Argv, st.Shell = Entrypoint, argv(c.ShellDependantCmdLine), c.PrependShell
	case *instructions.CopyCommand:
		st.Kind, st.Sources, st.Dest, st.From, st.Chown, st.Chmod = Copy, c.SourcePaths, c.DestPath, c.From, c.Chown, c.Chmod
	case *instructions.AddCommand:
		st.Kind, st.Sources, st.Dest, st.Chown, st.Chmod = Add, c.SourcePaths, c.DestPath, c.Chown, c.Chmod
	case *instructions.EnvCommand:
		st.Kind = SetEnv
		for _, kv := range c.Env {
			st.Vars = append(st.Vars, Var{kv.Key, kv.Value})
		}
	case *instructions.LabelCommand:
		st.Kind = Label
		for _, kv := range c.Labels {
			st.Vars = append(st.Vars, Var{kv.Key, kv.Value})
		}
	case *instructions.MaintainerCommand:
		st.Kind, st.Vars = Label, []Var{{"maintainer", c.Maintainer}}
	case *instructions.ArgCommand:
		st.Kind = Arg
		for _, kv := range c.Args {
			v, ok := f.buildArgs[kv.Key]
			if !ok && kv.Value != nil {
				v, ok = *kv.Value, true
			}
			if !ok {
				v, _ = f.meta.Get(kv.Key)
			}
			st.Vars = append(st.Vars, Var{kv.Key, v})
		}
	case *instructions.WorkdirCommand:
		st.Kind, st.Value = Workdir, c.Path
	case *instructions.UserCommand:
		st.Kind, st.Value = User, c.User
	case *instructions.ExposeCommand:
		st.Kind = Expose
		for _, p := range c.Ports {
			ports, err := shell.NewLex('\\').ProcessWords(p, vars.lookup())
			if err != nil {
				return Step{}, errorf(in.Line, "EXPOSE %s: %v", p, err)
			}
			st.Ports = append(st.Ports, ports...)
		}
	default:
		return Step{}, errorf(in.Line, "%s is not supported", in.Source)
	}
	return st, nil
}

// argv turns a command line into the argv to run: the shell form runs
// with /bin/sh -c, as Docker's default SHELL.
func argv(c instructions.ShellDependantCmdLine) []string {
	if c.PrependShell {
		return []string{"/bin/sh", "-c", strings.Join(c.CmdLine, " ")}
	}
	return append([]string(nil), c.CmdLine...)
}

// expander returns the function BuildKit's commands expand words with.
func expander(env Env) instructions.SingleWordExpander {
	lex := shell.NewLex('\\')
	return func(word string) (string, error) {
		out, _, err := lex.ProcessWord(word, env)
		return out, err
	}
}

// Package dockerfile reads a Dockerfile into the stages and steps of a
// runtools template build. BuildKit's parser reads the file; this package
// keeps to the instructions runtools builds, says by line what to use
// instead of any other, and expands ARG and ENV values as Docker does.
// It runs nothing: internal/build does.
package dockerfile

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/runtools/runtools/internal/errdefs"
)

// MaxSize is the largest Dockerfile Parse reads.
const MaxSize = 1 << 20

// File is a parsed Dockerfile. Its last stage is what the build makes.
type File struct {
	Stages []Stage

	meta      Env               // the ARGs before the first FROM
	buildArgs map[string]string // --build-arg values
}

// Stage is one FROM and the instructions after it.
type Stage struct {
	Name string // the AS name, lower case; "" when it has none
	// From is the expanded FROM reference: an earlier stage's name, a
	// runtools template, an OCI image reference, or "scratch".
	From         string
	Line         int
	Instructions []Instruction
}

// Instruction is one instruction of a stage, not yet expanded: its ARG and
// ENV references take the values in force when the build reaches it.
type Instruction struct {
	Line   int
	Source string // as written, e.g. "RUN npm ci"
	cmd    instructions.Command
}

// Error is a problem with a Dockerfile, at a line (0: the whole file).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return "Dockerfile: " + e.Msg
	}
	return fmt.Sprintf("Dockerfile line %d: %s", e.Line, e.Msg)
}

// Unwrap makes every Error an invalid argument.
func (e *Error) Unwrap() error { return errdefs.ErrInvalidArgument }

func errorf(line int, format string, args ...any) error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a Dockerfile. buildArgs are the --build-arg values; those the
// file does not declare with ARG are ignored, as Docker does.
func Parse(r io.Reader, buildArgs map[string]string) (*File, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the Dockerfile: %w", err)
	}
	if len(b) > MaxSize {
		return nil, errorf(0, "larger than %d bytes", MaxSize)
	}
	res, err := parser.Parse(strings.NewReader(string(b)))
	if err != nil {
		return nil, located(err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, located(err)
	}
	if len(stages) == 0 {
		return nil, errorf(0, "no FROM instruction: start with FROM base, FROM another template, or FROM an image")
	}
	f := &File{buildArgs: buildArgs}
	for _, a := range metaArgs {
		if err := a.Expand(expander(f.meta)); err != nil {
			return nil, errorf(lineOf(a.Location()), "%v", err)
		}
		for _, kv := range a.Args {
			f.meta = declareArg(f.meta, kv.Key, kv.Value, buildArgs)
		}
	}
	for _, s := range stages {
		st, err := newStage(s, f.meta, f.Stages)
		if err != nil {
			return nil, err
		}
		for _, c := range s.Commands {
			if err := supported(c); err != nil {
				return nil, err
			}
			st.Instructions = append(st.Instructions, Instruction{Line: lineOf(c.Location()), Source: sourceOf(c), cmd: c})
		}
		f.Stages = append(f.Stages, st)
	}
	return f, nil
}

// newStage expands a FROM with the meta ARGs and checks its name and base.
func newStage(s instructions.Stage, meta Env, earlier []Stage) (Stage, error) {
	line := lineOf(s.Location)
	from, _, err := shell.NewLex('\\').ProcessWord(s.BaseName, meta)
	if err != nil {
		return Stage{}, errorf(line, "FROM %s: %v", s.BaseName, err)
	}
	if from == "" {
		return Stage{}, errorf(line, "FROM %s is empty once its ARGs are expanded: give the ARG a default or pass --build-arg", s.BaseName)
	}
	if s.Platform != "" && s.Platform != "linux/amd64" {
		return Stage{}, errorf(line, "FROM --platform=%s: runtools builds linux/amd64 only", s.Platform)
	}
	name := strings.ToLower(s.Name)
	for _, e := range earlier {
		if name != "" && e.Name == name {
			return Stage{}, errorf(line, "stage name %q is used twice (first on line %d)", name, e.Line)
		}
	}
	return Stage{Name: name, From: from, Line: line}, nil
}

// StageIndex returns the index of the stage called name before stage
// before, or -1.
func (f *File) StageIndex(name string, before int) int {
	name = strings.ToLower(name)
	for i := range before {
		if f.Stages[i].Name == name && name != "" {
			return i
		}
	}
	return -1
}

// located turns a BuildKit parse error into an Error at its line.
func located(err error) error {
	var le *parser.LocationError
	line := 0
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		line = le.Locations[0][0].Start.Line
	}
	msg := err.Error()
	if i := strings.Index(msg, "line "); i == 0 || strings.HasPrefix(msg, "dockerfile parse error on line ") {
		if _, rest, ok := strings.Cut(msg, ": "); ok {
			msg = rest
		}
	}
	return &Error{Line: line, Msg: msg}
}

func lineOf(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}

func sourceOf(c instructions.Command) string {
	return strings.TrimSpace(fmt.Sprint(c))
}

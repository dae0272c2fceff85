package dockerfile

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
)

// resolveAll resolves every instruction of every stage in order, keeping
// ARG and ENV as a build would.
func resolveAll(t *testing.T, f *File) [][]Step {
	t.Helper()
	var out [][]Step
	for _, st := range f.Stages {
		var vars Vars
		var steps []Step
		for _, in := range st.Instructions {
			s, err := f.Resolve(in, vars)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range s.Vars {
				switch s.Kind {
				case Arg:
					vars.Args = vars.Args.Set(v.Name, v.Value)
				case SetEnv:
					vars.Env = vars.Env.Set(v.Name, v.Value)
				}
			}
			steps = append(steps, s)
		}
		out = append(out, steps)
	}
	return out
}

func TestParseStagesAndSteps(t *testing.T) {
	const src = `# syntax is ignored
ARG BASE=base
FROM ${BASE} AS Build
ARG VERSION=1.0
ENV APP=/srv/app \
    MODE=prod
WORKDIR $APP
COPY --chown=1000:1000 package.json src/ ./
RUN npm ci && echo "$VERSION $MODE"
RUN ["node", "--version"]
FROM python:3.12-slim
ARG BASE
COPY --from=build /srv/app /app
ADD vendor.tar /opt/
USER app
EXPOSE 3000 8080/tcp
LABEL org.example.team=web
CMD node server.js
ENTRYPOINT ["/usr/bin/tini", "--"]
`
	f, err := Parse(strings.NewReader(src), map[string]string{"VERSION": "2.5"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Stages) != 2 || f.Stages[0].Name != "build" || f.Stages[0].From != "base" || f.Stages[1].From != "python:3.12-slim" || f.Stages[0].Line != 3 {
		t.Fatalf("stages: %+v", f.Stages)
	}
	if i := f.StageIndex("BUILD", 1); i != 0 {
		t.Errorf("StageIndex(BUILD) = %d, want 0", i)
	}
	if i := f.StageIndex("build", 0); i != -1 {
		t.Errorf("a stage is found before it is defined: %d", i)
	}
	steps := resolveAll(t, f)
	first := steps[0]
	if first[0].Kind != Arg || first[0].Vars[0] != (Var{"VERSION", "2.5"}) {
		t.Errorf("ARG with a --build-arg: %+v", first[0])
	}
	if first[1].Kind != SetEnv || !slices.Equal(first[1].Vars, []Var{{"APP", "/srv/app"}, {"MODE", "prod"}}) {
		t.Errorf("ENV: %+v", first[1])
	}
	if first[2].Kind != Workdir || first[2].Value != "/srv/app" || first[2].Line != 7 {
		t.Errorf("WORKDIR $APP: %+v", first[2])
	}
	if c := first[3]; c.Kind != Copy || c.Chown != "1000:1000" || !slices.Equal(c.Sources, []string{"package.json", "src/"}) || c.Dest != "./" {
		t.Errorf("COPY: %+v", c)
	}
	if r := first[4]; r.Kind != Run || !r.Shell || !slices.Equal(r.Argv, []string{"/bin/sh", "-c", `npm ci && echo "$VERSION $MODE"`}) {
		t.Errorf("RUN in shell form: %+v", r)
	}
	if r := first[5]; r.Shell || !slices.Equal(r.Argv, []string{"node", "--version"}) {
		t.Errorf("RUN in exec form: %+v", r)
	}
	second := steps[1]
	if a := second[0]; a.Vars[0] != (Var{"BASE", "base"}) {
		t.Errorf("an ARG without a value takes the one before FROM: %+v", a)
	}
	if c := second[1]; c.From != "build" || c.Dest != "/app" {
		t.Errorf("COPY --from: %+v", c)
	}
	if a := second[2]; a.Kind != Add || a.Sources[0] != "vendor.tar" {
		t.Errorf("ADD: %+v", a)
	}
	if u := second[3]; u.Kind != User || u.Value != "app" {
		t.Errorf("USER: %+v", u)
	}
	if e := second[4]; !slices.Equal(e.Ports, []string{"3000", "8080/tcp"}) {
		t.Errorf("EXPOSE: %+v", e)
	}
	if c := second[6]; c.Kind != Cmd || !c.Shell || c.Argv[2] != "node server.js" {
		t.Errorf("CMD: %+v", c)
	}
	if e := second[7]; e.Kind != Entrypoint || e.Shell || !slices.Equal(e.Argv, []string{"/usr/bin/tini", "--"}) {
		t.Errorf("ENTRYPOINT: %+v", e)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		want      string
	}{
		{"empty", "# nothing\n", 1, "no instructions"},
		{"no from", "ARG X=1\n", 0, "no FROM"},
		{"instruction before FROM", "RUN true\nFROM base\n", 1, ""},
		{"unknown instruction", "FROM base\nFETCH x\n", 2, "unknown instruction"},
		{"healthcheck", "FROM base\nHEALTHCHECK CMD true\n", 2, "start a check from CMD"},
		{"volume", "FROM base\nVOLUME /data\n", 2, "--volume NAME:/PATH"},
		{"shell", "FROM base\nSHELL [\"bash\", \"-c\"]\n", 2, "exec form"},
		{"onbuild", "FROM base\nONBUILD RUN x\n", 2, "ONBUILD"},
		{"stopsignal", "FROM base\nSTOPSIGNAL SIGINT\n", 2, "SIGTERM"},
		{"run mount", "FROM base\nRUN --mount=type=cache,target=/root/.npm npm ci\n", 2, "RUN --mount"},
		{"run heredoc", "FROM base\nRUN <<EOF\necho hi\nEOF\n", 2, "here-document"},
		{"add url", "FROM base\nADD https://example.com/x.tgz /opt/\n", 2, "RUN curl"},
		{"add checksum", "FROM base\nADD --checksum=sha256:00 a /b\n", 2, "--checksum"},
		{"copy exclude", "FROM base\nCOPY --exclude=*.md . /app\n", 2, "--exclude"},
		{"platform", "FROM --platform=linux/arm64 base\n", 1, "linux/amd64"},
		{"empty from", "ARG B\nFROM $B\n", 2, "give the ARG a default"},
		{"stage twice", "FROM base AS a\nFROM base AS A\n", 2, "used twice"},
		{"bad env", "FROM base\nENV\n", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.src), nil)
			var de *Error
			if !errors.As(err, &de) || !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("err %v (%T), want a *dockerfile.Error", err, err)
			}
			if de.Line != tt.line || !strings.Contains(de.Msg, tt.want) {
				t.Errorf("error %q (line %d), want line %d and %q", err, de.Line, tt.line, tt.want)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	src := "FROM base\n" + strings.Repeat("# padding\n", MaxSize/10+1)
	if _, err := Parse(strings.NewReader(src), nil); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("a Dockerfile over %d bytes: %v", MaxSize, err)
	}
}

func TestEnvOverridesArg(t *testing.T) {
	f, err := Parse(strings.NewReader("FROM base\nARG X=arg\nENV X=env\nWORKDIR /$X\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := resolveAll(t, f)[0][2].Value; got != "/env" {
		t.Errorf("WORKDIR /$X = %q, want /env (ENV wins over ARG)", got)
	}
}

func TestEnvSetKeepsOrder(t *testing.T) {
	e := Env{"PATH=/bin", "HOME=/root"}.Set("PATH", "/usr/bin:/bin").Set("LANG", "C.UTF-8")
	if !slices.Equal(e, Env{"PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8"}) {
		t.Errorf("env %v", e)
	}
	if v, ok := e.Get("HOME"); !ok || v != "/root" {
		t.Errorf("Get HOME = %q %v", v, ok)
	}
}

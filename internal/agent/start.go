package agent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// Starting a child, shared by exec and attach: resolving who runs what and
// where, its standard streams, and the start through the spawner.

// procSpec is a resolved request to start a process: who runs what, where,
// with which environment.
type procSpec struct {
	name string // what was asked for, for messages
	user *user
	cred *syscall.Credential // nil: the agent's own
	env  []string
	dir  string
	path string
	argv []string
}

// resolve turns a request's user, environment, working directory and
// command into a procSpec. An empty argv means the user's login shell (from
// passwd, /bin/sh when that does not exist), started as a login shell: its
// argv[0] is "-" and its base name, as login(1) and sshd do.
func (s *Server) resolve(userSpec string, reqEnv map[string]string, cwd string, argv []string) (procSpec, error) {
	if userSpec == "" {
		userSpec = s.cfg.User
	}
	if cwd == "" {
		cwd = s.cfg.Workdir
	}
	u, err := s.users.lookup(userSpec)
	if err != nil {
		return procSpec{}, err
	}
	cred, err := credential(u)
	if err != nil {
		return procSpec{}, err
	}
	spec := procSpec{user: u, cred: cred, env: buildEnv(s.cfg.Env, u, reqEnv), argv: argv}
	if len(argv) > 0 {
		spec.name = argv[0]
	}
	if spec.dir, err = s.workDir(cwd, u); err != nil {
		return procSpec{}, err
	}
	if len(argv) == 0 {
		shell := u.Shell
		if _, err := os.Stat(shell); err != nil || !filepath.IsAbs(shell) {
			shell = "/bin/sh"
		}
		spec.name, spec.path, spec.argv = shell, shell, []string{"-" + filepath.Base(shell)}
		return spec, nil
	}
	if spec.path, err = s.lookPath(argv[0], lookupEnv(spec.env, "PATH")); err != nil {
		return procSpec{}, err
	}
	return spec, nil
}

// stdio is a child's standard streams: the ends the child gets and the ends
// the agent keeps. Nil child ends are /dev/null.
type stdio struct {
	childIn, childOut, childErr *os.File
	in                          *os.File // write end of stdin; nil without stdin and on a PTY
	out, errOut                 *os.File // read ends; errOut is nil on a PTY
	pty                         *os.File // the PTY master, or nil
	files                       []*os.File
}

// newPipes returns pipes for stdout and stderr and, with stdin, for stdin.
// They are the agent's own pipes rather than cmd.StdoutPipe: the agent
// decides when to stop reading (see process.read), and os/exec's Wait must
// not wait for a grandchild that holds a pipe.
func newPipes(stdin bool) (*stdio, error) {
	st := &stdio{}
	pipe := func(what string) (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err != nil {
			st.closeAll()
			return nil, nil, fmt.Errorf("creating %s pipe: %w", what, err)
		}
		st.files = append(st.files, r, w)
		return r, w, nil
	}
	var err error
	if st.out, st.childOut, err = pipe("stdout"); err != nil {
		return nil, err
	}
	if st.errOut, st.childErr, err = pipe("stderr"); err != nil {
		return nil, err
	}
	if stdin {
		if st.childIn, st.in, err = pipe("stdin"); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// closeChild closes the agent's copies of the child's ends once the child
// has its own; kept open, they would keep the pipes open forever.
func (st *stdio) closeChild() {
	var closed []*os.File // a PTY's slave is all three
	for _, f := range []*os.File{st.childIn, st.childOut, st.childErr} {
		if f != nil && !slices.Contains(closed, f) {
			f.Close()
			closed = append(closed, f)
		}
	}
}

func (st *stdio) closeAll() {
	for _, f := range st.files {
		f.Close()
	}
}

// start starts spec with st and attr through the spawner. The returned
// process has no output destination yet: the caller sets emit (and events
// or out), registers it and calls run.
func (s *Server) start(spec procSpec, st *stdio, attr *syscall.SysProcAttr) (*process, error) {
	cmd := &exec.Cmd{
		Path:        spec.path,
		Args:        spec.argv,
		Env:         spec.env,
		Dir:         spec.dir,
		SysProcAttr: attr,
	}
	// Assigned only when set: a nil *os.File in the interface would not be
	// nil to os/exec.
	if st.childIn != nil {
		cmd.Stdin = st.childIn
	}
	if st.childOut != nil {
		cmd.Stdout = st.childOut
	}
	if st.childErr != nil {
		cmd.Stderr = st.childErr
	}
	if err := s.spawner.start(cmd); err != nil {
		st.closeAll()
		return nil, startError(spec.name, err)
	}
	st.closeChild()
	return &process{
		pid:     cmd.Process.Pid,
		argv:    spec.argv,
		started: time.Now(),
		cmd:     cmd,
		stdout:  st.out,
		stderr:  st.errOut,
		stdin:   st.in,
		done:    make(chan struct{}),
	}, nil
}

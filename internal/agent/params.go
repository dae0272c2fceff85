package agent

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/runtools/runtools/internal/errdefs"
)

// params reads a request's parameters and keeps the first error, so that a
// handler reads all it needs and then checks once. Once it holds an error,
// every read returns the zero value and does nothing else.
type params struct {
	r   *http.Request
	err error
}

func newParams(r *http.Request) *params { return &params{r: r} }

// fail keeps err, unless an earlier error is kept already.
func (q *params) fail(err error) {
	if q.err == nil {
		q.err = err
	}
}

// path returns the cleaned absolute path in the "path" query parameter.
// The agent runs inside the sandbox, so every absolute path is the
// sandbox's own and there is nothing to escape from.
func (q *params) path() string {
	if q.err != nil {
		return ""
	}
	p := q.r.URL.Query().Get("path")
	if p == "" {
		q.fail(fmt.Errorf("%w: path is required", errdefs.ErrInvalidArgument))
		return ""
	}
	if !filepath.IsAbs(p) {
		q.fail(fmt.Errorf("%w: path %q is not absolute", errdefs.ErrInvalidArgument, p))
		return ""
	}
	return filepath.Clean(p)
}

// existing returns the path parameter, which must not be / (verb says what
// was refused), and what is there, without following a symlink.
func (q *params) existing(verb string) (string, fs.FileInfo) {
	p := q.path()
	if q.err != nil {
		return "", nil
	}
	if p == "/" {
		q.fail(fmt.Errorf("%w: refusing to %s /", errdefs.ErrInvalidArgument, verb))
		return "", nil
	}
	fi, err := os.Lstat(p)
	if err != nil {
		q.fail(fsError(err))
		return "", nil
	}
	return p, fi
}

// flag reads a boolean query parameter; absent is false.
func (q *params) flag(name string) bool {
	v := q.r.URL.Query().Get(name)
	if q.err != nil || v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.fail(fmt.Errorf("%w: bad %s %q", errdefs.ErrInvalidArgument, name, v))
	}
	return b
}

// mode reads a new file's mode (octal, default 0644).
func (q *params) mode() uint32 {
	v := q.r.URL.Query().Get("mode")
	switch {
	case q.err != nil:
		return 0
	case v == "":
		return 0o644
	}
	m, err := strconv.ParseUint(v, 8, 32)
	if err != nil || m > 0o7777 {
		q.fail(fmt.Errorf("%w: bad mode %q (want octal, e.g. 0644)", errdefs.ErrInvalidArgument, v))
		return 0
	}
	return uint32(m)
}

// process returns the process of procs that the path's {pid} names.
func (q *params) process(procs *table) *process {
	if q.err != nil {
		return nil
	}
	v := q.r.PathValue("pid")
	pid, err := strconv.Atoi(v)
	if err != nil || pid <= 0 {
		q.fail(fmt.Errorf("%w: bad pid %q", errdefs.ErrInvalidArgument, v))
		return nil
	}
	p := procs.get(pid)
	if p == nil {
		q.fail(fmt.Errorf("%w: no process %d", errdefs.ErrNotFound, pid))
	}
	return p
}

// onPath adapts a handler that needs only the path parameter.
func onPath(h func(w http.ResponseWriter, path string) error) fallible {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newParams(r)
		path := q.path()
		if q.err != nil {
			return q.err
		}
		return h(w, path)
	}
}

// decodeRequest decodes the JSON body of r, at most limit bytes, into v;
// what names the request in the error. r.Body is left limited, for the
// caller to drain.
func decodeRequest(w http.ResponseWriter, r *http.Request, limit int64, what string, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return fmt.Errorf("%w: decoding %s request: %w", errdefs.ErrInvalidArgument, what, err)
	}
	return nil
}

package apiserver

import (
	"context"
	"io"
	"net/http"
	"os"
	"path"
	"strconv"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/sandbox"
)

// pathParam reads the required absolute ?path= of a file call. The agent
// resolves it inside the sandbox, so no host path is ever built from it.
func pathParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", invalid("query parameter path is required, e.g. ?path=/root/file.txt")
	}
	if !path.IsAbs(p) {
		return "", invalid("path must be absolute inside the sandbox, got %q", p)
	}
	return path.Clean(p), nil
}

// fileCall runs call with the agent of the sandbox a file request names
// and the request's path, in a session (which wakes the sandbox and
// explains the agent's errors). Query parameters are read before: bad
// input wakes nothing.
func (s *Server) fileCall(r *http.Request, call func(ctx context.Context, ag *agentclient.Client, p string) error) error {
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	return s.agentCall(r, func(ctx context.Context, ag *agentclient.Client) error { return call(ctx, ag, p) })
}

// agentCall runs call with the agent of the sandbox the request names, in
// a session.
func (s *Server) agentCall(r *http.Request, call func(ctx context.Context, ag *agentclient.Client) error) error {
	sess, err := s.session(r)
	if err != nil {
		return err
	}
	defer sess.Close()
	return sess.Do(r.Context(), call)
}

// session opens a session on the sandbox the request names, for the
// caller's team.
func (s *Server) session(r *http.Request) (*sandbox.Session, error) {
	return s.sandboxes.Open(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"))
}

// sendStream answers with what rc reads, as contentType; size < 0: unknown.
func sendStream(w http.ResponseWriter, rc io.ReadCloser, contentType string, size int64) {
	defer rc.Close()
	w.Header().Set("Content-Type", contentType)
	if size >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
}

// fileInfo returns the answer to a file call that returns the file's
// info: fileInfo(w)(ag.Stat(ctx, p)).
func fileInfo(w http.ResponseWriter) func(agentapi.FileInfo, error) error {
	return func(fi agentapi.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, fi)
	}
}

// noContent answers a call that returns nothing.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) readFile(w http.ResponseWriter, r *http.Request) error {
	return s.fileCall(r, func(ctx context.Context, ag *agentclient.Client, p string) error {
		rc, size, err := ag.ReadFile(ctx, p)
		if err != nil {
			return err
		}
		sendStream(w, rc, "application/octet-stream", size)
		return nil
	})
}

// writeParams reads the ?mode= (octal, default 0644) and ?mkdirs= of a
// file write.
func writeParams(r *http.Request) (mode os.FileMode, mkdirs bool, err error) {
	mode = 0o644
	if m := r.URL.Query().Get("mode"); m != "" {
		n, err := strconv.ParseUint(m, 8, 32)
		if err != nil || n > 0o7777 {
			return 0, false, invalid("mode must be octal permissions like 0644, got %q", m)
		}
		mode = os.FileMode(n)
	}
	mkdirs, err = boolParam(r, "mkdirs")
	return mode, mkdirs, err
}

func (s *Server) writeFile(w http.ResponseWriter, r *http.Request) error {
	mode, mkdirs, err := writeParams(r)
	if err != nil {
		return err
	}
	return s.fileCall(r, func(ctx context.Context, ag *agentclient.Client, p string) error {
		return fileInfo(w)(ag.WriteFile(ctx, p, r.Body, mode, mkdirs))
	})
}

func (s *Server) removeFile(w http.ResponseWriter, r *http.Request) error {
	recursive, err := boolParam(r, "recursive")
	if err != nil {
		return err
	}
	return s.fileCall(r, func(ctx context.Context, ag *agentclient.Client, p string) error {
		return noContent(w, ag.Remove(ctx, p, recursive))
	})
}

func (s *Server) statFile(w http.ResponseWriter, r *http.Request) error {
	return s.fileCall(r, func(ctx context.Context, ag *agentclient.Client, p string) error {
		return fileInfo(w)(ag.Stat(ctx, p))
	})
}

func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) error {
	return s.fileCall(r, func(ctx context.Context, ag *agentclient.Client, p string) error {
		entries, err := ag.List(ctx, p)
		if err != nil {
			return err
		}
		return writeList(w, "entries", entries, same)
	})
}

func (s *Server) mkdir(w http.ResponseWriter, r *http.Request) error {
	parents, err := boolParam(r, "parents")
	if err != nil {
		return err
	}
	return s.fileCall(r, func(ctx context.Context, ag *agentclient.Client, p string) error {
		return fileInfo(w)(ag.Mkdir(ctx, p, parents))
	})
}

func (s *Server) readArchive(w http.ResponseWriter, r *http.Request) error {
	return s.fileCall(r, func(ctx context.Context, ag *agentclient.Client, p string) error {
		rc, err := ag.ReadArchive(ctx, p)
		if err != nil {
			return err
		}
		sendStream(w, rc, "application/x-tar", -1)
		return nil
	})
}

func (s *Server) writeArchive(w http.ResponseWriter, r *http.Request) error {
	return s.fileCall(r, func(ctx context.Context, ag *agentclient.Client, p string) error {
		return noContent(w, ag.WriteArchive(ctx, p, r.Body))
	})
}

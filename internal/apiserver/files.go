package apiserver

import (
	"io"
	"net/http"
	"os"
	"path"
	"strconv"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentclient"
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

// fileCall resolves the sandbox's agent and the path of a file call. The
// caller calls done when the call is over.
func (s *Server) fileCall(r *http.Request) (ag *agentclient.Client, p string, done func(), err error) {
	if p, err = pathParam(r); err != nil {
		return nil, "", nil, err
	}
	ag, _, done, err = s.sandboxes.Use(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"))
	if err != nil {
		return nil, "", nil, err
	}
	return ag, p, done, nil
}

func (s *Server) readFile(w http.ResponseWriter, r *http.Request) error {
	ag, p, done, err := s.fileCall(r)
	if err != nil {
		return err
	}
	defer done()
	rc, size, err := ag.ReadFile(r.Context(), p)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
	return nil
}

func (s *Server) writeFile(w http.ResponseWriter, r *http.Request) error {
	ag, p, done, err := s.fileCall(r)
	if err != nil {
		return err
	}
	defer done()
	mode := os.FileMode(0o644)
	if m := r.URL.Query().Get("mode"); m != "" {
		n, err := strconv.ParseUint(m, 8, 32)
		if err != nil || n > 0o7777 {
			return invalid("mode must be octal permissions like 0644, got %q", m)
		}
		mode = os.FileMode(n)
	}
	mkdirs, err := boolParam(r, "mkdirs")
	if err != nil {
		return err
	}
	fi, err := ag.WriteFile(r.Context(), p, r.Body, mode, mkdirs)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, client.FileInfo(fi))
}

func (s *Server) removeFile(w http.ResponseWriter, r *http.Request) error {
	ag, p, done, err := s.fileCall(r)
	if err != nil {
		return err
	}
	defer done()
	recursive, err := boolParam(r, "recursive")
	if err != nil {
		return err
	}
	if err := ag.Remove(r.Context(), p, recursive); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) statFile(w http.ResponseWriter, r *http.Request) error {
	ag, p, done, err := s.fileCall(r)
	if err != nil {
		return err
	}
	defer done()
	fi, err := ag.Stat(r.Context(), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, client.FileInfo(fi))
}

func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) error {
	ag, p, done, err := s.fileCall(r)
	if err != nil {
		return err
	}
	defer done()
	entries, err := ag.List(r.Context(), p)
	if err != nil {
		return err
	}
	out := struct {
		Entries []client.FileInfo `json:"entries"`
	}{Entries: []client.FileInfo{}}
	for _, e := range entries {
		out.Entries = append(out.Entries, client.FileInfo(e))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) mkdir(w http.ResponseWriter, r *http.Request) error {
	ag, p, done, err := s.fileCall(r)
	if err != nil {
		return err
	}
	defer done()
	parents, err := boolParam(r, "parents")
	if err != nil {
		return err
	}
	fi, err := ag.Mkdir(r.Context(), p, parents)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, client.FileInfo(fi))
}

func (s *Server) readArchive(w http.ResponseWriter, r *http.Request) error {
	ag, p, done, err := s.fileCall(r)
	if err != nil {
		return err
	}
	defer done()
	rc, err := ag.ReadArchive(r.Context(), p)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
	return nil
}

func (s *Server) writeArchive(w http.ResponseWriter, r *http.Request) error {
	ag, p, done, err := s.fileCall(r)
	if err != nil {
		return err
	}
	defer done()
	if err := ag.WriteArchive(r.Context(), p, r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

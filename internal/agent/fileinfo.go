package agent

import (
	"io/fs"
	"net/http"
	"os"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// fsError wraps a file system error in its errdefs kind.
func fsError(err error) error { return errdefs.FS(err) }

func fileInfo(path string, fi fs.FileInfo) agentapi.FileInfo {
	target := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ = os.Readlink(path)
	}
	return agentapi.Info(path, fi, target)
}

// writeFileInfo answers with what is at path, without following a symlink.
func writeFileInfo(w http.ResponseWriter, path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fsError(err)
	}
	writeJSON(w, http.StatusOK, fileInfo(path, fi))
	return nil
}

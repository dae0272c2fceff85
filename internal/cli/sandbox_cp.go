package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxCpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cp SRC DST",
		Short: "Copy files between a sandbox and this machine",
		Long: `Copy a file or directory between a sandbox and this machine, like docker cp.
One side is NAME:/absolute/path inside a sandbox, the other a local path.

  - Copying into an existing directory puts the file or directory inside it.
  - Copying to a path that does not exist creates it with that name.
  - A DST ending in / must be an existing directory.
  - A SRC directory ending in /. copies the directory's content, not the
    directory itself.
  - A file keeps its permissions; directories keep their symlinks.
  - "-" as the local side means a tar archive on stdin (to the sandbox) or
    stdout (from the sandbox), as docker cp does.

When extracting locally, entries that would land outside DST and writes
through existing symlinks are refused.`,
		Example: `  runtools sandbox cp ./main.go my-env:/root/app/
  runtools sandbox cp ./app my-env:/root/
  runtools sandbox cp my-env:/root/app/dist ./dist
  runtools sandbox cp my-env:/var/log/. ./logs
  tar -C src -c . | runtools sandbox cp - my-env:/root/src
  runtools sandbox cp my-env:/root/app - | tar -t`,
		Args: argsRange(2, 2, "needs SRC and DST, one of them NAME:/path in a sandbox"),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, to, err := parseCpArgs(args[0], args[1])
			if err != nil {
				return usageErr(cmd, "%v", err)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			cp := &copier{
				ctx:    cmd.Context(),
				stdin:  cmd.InOrStdin(),
				stdout: cmd.OutOrStdout(),
				warn:   func(msg string) { writef(cmd.ErrOrStderr(), "warning: %s\n", msg) },
			}
			start := a.now()
			if from.remote() {
				cp.files = c.Files(from.Sandbox)
				err = cp.download(from.Path, to.Path)
			} else {
				cp.files = c.Files(to.Sandbox)
				err = cp.upload(from.Path, to.Path)
			}
			if err != nil {
				return err
			}
			if a.terminal(cmd.ErrOrStderr()) {
				writef(cmd.ErrOrStderr(), "%s in %s\n", cp.stats, elapsed(a.now().Sub(start)))
			}
			return nil
		},
	}
}

// copier moves files between one sandbox and the local machine.
type copier struct {
	ctx    context.Context
	files  *client.Files
	stdin  io.Reader
	stdout io.Writer
	warn   func(string)
	stats  copyStats
}

// remoteStat describes a sandbox path, following a final symlink once; it
// returns nil when nothing is there.
func (cp *copier) remoteStat(p string) (*client.FileInfo, error) {
	fi, err := cp.files.Stat(cp.ctx, p)
	if errors.Is(err, client.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checking %s in the sandbox: %w", p, err)
	}
	if fi.Type == "symlink" && fi.LinkTarget != "" {
		target := fi.LinkTarget
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(path.Clean(p)), target)
		}
		if t, err := cp.files.Stat(cp.ctx, target); err == nil {
			return t, nil
		}
	}
	return fi, nil
}

// upload copies a local file or directory (or a tar stream on stdin) to
// dst in the sandbox.
func (cp *copier) upload(src, dst string) error {
	if src == "-" {
		r := &countingReader{r: cp.stdin}
		err := cp.files.Upload(cp.ctx, dst, r)
		cp.stats.bytes = r.n
		if err != nil {
			return fmt.Errorf("extracting the archive from stdin into %s: %w", dst, err)
		}
		return nil
	}
	fi, err := os.Stat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local path %s does not exist", src)
	}
	if err != nil {
		return err
	}
	remote, err := cp.remoteStat(dst)
	if err != nil {
		return err
	}
	switch {
	case fi.Mode().IsRegular():
		target := dst
		switch {
		case remote != nil && remote.Type == "dir":
			target = path.Join(dst, filepath.Base(src))
		case remote == nil && wantsDir(dst):
			return fmt.Errorf("sandbox directory %s does not exist: create it first (runtools sandbox exec NAME -- mkdir -p %s) or drop the trailing / to copy to that name", dst, dst)
		}
		return cp.uploadFile(src, target, fi)
	case fi.IsDir():
		switch {
		case remote == nil:
			return cp.uploadDir(src, dst, "")
		case remote.Type != "dir":
			return fmt.Errorf("cannot copy the directory %s onto the file %s", src, dst)
		case contentsOnly(src):
			return cp.uploadDir(src, dst, "")
		}
		abs, err := filepath.Abs(src)
		if err != nil {
			return err
		}
		return cp.uploadDir(src, dst, filepath.Base(abs))
	}
	return fmt.Errorf("cannot copy %s: only files and directories can be copied", src)
}

func (cp *copier) uploadFile(src, dst string, fi fs.FileInfo) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	r := &countingReader{r: f}
	if _, err := cp.files.Write(cp.ctx, dst, r, client.WriteOptions{Mode: uint32(fi.Mode().Perm())}); err != nil {
		return fmt.Errorf("writing %s in the sandbox: %w", dst, err)
	}
	cp.stats = copyStats{files: 1, bytes: r.n}
	return nil
}

// errUploadEnded stops the archive writer once the upload is over.
var errUploadEnded = errors.New("upload ended")

// uploadDir streams a tar of the local directory src into the sandbox
// directory dst, entries named under prefix.
func (cp *copier) uploadDir(src, dst, prefix string) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := writeTar(pw, src, prefix, &cp.stats, cp.warn)
		pw.CloseWithError(err)
		done <- err
	}()
	err := cp.files.Upload(cp.ctx, dst, pr)
	pr.CloseWithError(errUploadEnded)
	if tarErr := <-done; tarErr != nil && !errors.Is(tarErr, errUploadEnded) {
		return tarErr
	}
	if err != nil {
		return fmt.Errorf("copying %s to %s in the sandbox: %w", src, dst, err)
	}
	return nil
}

// download copies a sandbox file or directory to the local dst (or as a
// tar stream to stdout).
func (cp *copier) download(src, dst string) error {
	if path.Clean(src) == "/" {
		return fmt.Errorf("cannot copy the whole sandbox: name a directory, e.g. /root")
	}
	if dst == "-" {
		rc, err := cp.files.Download(cp.ctx, src)
		if err != nil {
			return fmt.Errorf("archiving %s in the sandbox: %w", src, err)
		}
		defer rc.Close()
		n, err := io.Copy(cp.stdout, rc)
		cp.stats.bytes = n
		return err
	}
	remote, err := cp.files.Stat(cp.ctx, src)
	if err != nil {
		return fmt.Errorf("copying %s from the sandbox: %w", src, err)
	}
	local, err := os.Stat(dst)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	exists := err == nil
	if remote.Type == "file" {
		target := dst
		switch {
		case exists && local.IsDir():
			target = filepath.Join(dst, path.Base(src))
		case !exists && wantsDir(dst):
			return fmt.Errorf("local directory %s does not exist: create it first, or drop the trailing / to copy to that name", dst)
		}
		return cp.downloadFile(src, target, remote)
	}
	base := path.Base(path.Clean(src))
	switch {
	case exists && local.IsDir() && contentsOnly(src):
		return cp.downloadTree(src, dst, base, ".")
	case exists && local.IsDir():
		return cp.downloadTree(src, dst, base, base)
	case exists && remote.Type == "dir":
		return fmt.Errorf("cannot copy the directory %s onto the file %s", src, dst)
	}
	parent := filepath.Dir(filepath.Clean(dst))
	if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
		return fmt.Errorf("local directory %s does not exist: create it first", parent)
	}
	return cp.downloadTree(src, parent, base, filepath.Base(dst))
}

// downloadFile streams one sandbox file into a temporary file next to dst
// and renames it into place, so dst is replaced, never written through.
func (cp *copier) downloadFile(src, dst string, fi *client.FileInfo) error {
	rc, err := cp.files.Open(cp.ctx, src)
	if err != nil {
		return fmt.Errorf("reading %s in the sandbox: %w", src, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	n, err := io.Copy(tmp, rc)
	if err != nil {
		tmp.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	mode := fs.FileMode(fi.Mode) & 0o777
	if mode == 0 {
		mode = 0o644
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	if !fi.ModTime.IsZero() {
		_ = os.Chtimes(tmp.Name(), fi.ModTime, fi.ModTime) // best effort, like cp -p
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	cp.stats = copyStats{files: 1, bytes: n}
	return nil
}

// downloadTree extracts the sandbox's archive of src into the local
// directory dir. Archive entries start with base, the name of src; they
// are put under newBase instead ("." for the content only).
func (cp *copier) downloadTree(src, dir, base, newBase string) error {
	rc, err := cp.files.Download(cp.ctx, src)
	if err != nil {
		return fmt.Errorf("archiving %s in the sandbox: %w", src, err)
	}
	defer rc.Close()
	if err := extractTar(rc, dir, underBase(src, base, newBase), &cp.stats, cp.warn); err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return nil
}

// underBase is the rename of downloadTree: the archive of src has entries
// under base, which go under newBase instead.
func underBase(src, base, newBase string) func(string) (string, error) {
	return func(name string) (string, error) {
		first, rest, _ := strings.Cut(name, "/")
		if first != base {
			return "", fmt.Errorf("unexpected entry %q in the archive of %s: entries should start with %s/", name, src, base)
		}
		return path.Join(newBase, rest), nil
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

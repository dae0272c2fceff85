package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// Transfer is what the file transfer comparison measured: the time of each
// way to copy one file of random data, by method.
type Transfer struct {
	Runs, MB int
	Methods  []string // in the report's order
	Times    map[string]stats.Samples
	Skipped  string
}

// The transfer methods, as the report names them.
const (
	xfCp      = "local `cp` (baseline, file to file on the host)"
	xfScpUp   = "`scp` upload (SFTP protocol, OpenSSH's default)"
	xfScpDown = "`scp` download (SFTP protocol)"
	xfAPIUp   = "`client.Files.Write` upload (HTTP API)"
	xfAPIDown = "`client.Files.Open` download (HTTP API)"
)

// Where the uploads go in the sandbox.
const (
	remoteScp = "/root/bench-scp"
	remoteAPI = "/root/bench-api"
)

// xfer is one timed copy and its untimed check.
type xfer struct {
	name  string
	copy  func(context.Context) error
	check func(context.Context) error
}

// measureTransfers copies a file of sec.MB MiB of random data each round
// with local cp, with scp up and down, and with the HTTP API up and down.
// Each round runs the three pairs in a different order, uploads before
// their downloads; every copy is checked (sizes, and the SHA-256 of what
// arrives on the host) and removed, untimed.
func measureTransfers(ctx context.Context, srv *server.Server, u *sshUser, sec Transfer) (Transfer, error) {
	size := int64(sec.MB) << 20
	src := filepath.Join(u.dir, "src")
	sum, err := writeRandom(src, size)
	if err != nil {
		return sec, err
	}
	files := srv.Client.Files(u.login)
	groups := transfers(u, files, src, size, sum)
	sec.Times = map[string]stats.Samples{}
	for _, g := range groups {
		for _, x := range g {
			sec.Methods = append(sec.Methods, x.name)
		}
	}
	for round := range sec.Runs {
		for k := range groups {
			for _, x := range groups[(k+round)%len(groups)] {
				if err := measure.Settle(ctx); err != nil {
					return sec, err
				}
				t0 := time.Now()
				if err := x.copy(ctx); err != nil {
					return sec, fmt.Errorf("%s: %w", x.name, err)
				}
				sec.Times[x.name] = append(sec.Times[x.name], time.Since(t0))
				if err := x.check(ctx); err != nil {
					return sec, fmt.Errorf("after %s: %w", x.name, err)
				}
			}
		}
		if err := removeCopies(ctx, u, files); err != nil {
			return sec, err
		}
		measure.Progress(fmt.Sprintf("file transfers (%d MiB)", sec.MB), round, 0, sec.Runs)
	}
	return sec, os.Remove(src)
}

// transfers are the copies of src (size bytes with SHA-256 sum) each
// round makes, in groups whose order changes each round: cp, scp up and
// down, the HTTP API up and down.
func transfers(u *sshUser, files *client.Files, src string, size int64, sum []byte) [][]xfer {
	local := func(name string) string { return filepath.Join(u.dir, name) }
	scp := func(ctx context.Context, from, to string) error {
		_, err := host.Command(ctx, "scp", append(u.opts(), "-P", u.port, "-q", from, to)...)
		return err
	}
	sameLocal := func(path string) func(context.Context) error {
		return func(context.Context) error { return checkFile(path, size, sum) }
	}
	sameRemote := func(path string) func(context.Context) error {
		return func(ctx context.Context) error {
			fi, err := files.Stat(ctx, path)
			if err != nil {
				return fmt.Errorf("stat %s in the sandbox: %w", path, err)
			}
			if fi.Size != size {
				return fmt.Errorf("%s in the sandbox has %d bytes, want %d", path, fi.Size, size)
			}
			return nil
		}
	}
	return [][]xfer{
		{{xfCp, func(ctx context.Context) error { _, err := host.Command(ctx, "cp", src, local("cp")); return err }, sameLocal(local("cp"))}},
		{{xfScpUp, func(ctx context.Context) error { return scp(ctx, src, u.remote(remoteScp)) }, sameRemote(remoteScp)},
			{xfScpDown, func(ctx context.Context) error { return scp(ctx, u.remote(remoteScp), local("scp-down")) }, sameLocal(local("scp-down"))}},
		{{xfAPIUp, func(ctx context.Context) error { return apiUpload(ctx, files, src, remoteAPI) }, sameRemote(remoteAPI)},
			{xfAPIDown, func(ctx context.Context) error { return apiDownload(ctx, files, remoteAPI, local("api-down")) }, sameLocal(local("api-down"))}},
	}
}

// removeCopies removes a round's copies, in the sandbox and on the host.
func removeCopies(ctx context.Context, u *sshUser, files *client.Files) error {
	for _, p := range []string{remoteScp, remoteAPI} {
		if err := files.Remove(ctx, p, false); err != nil {
			return fmt.Errorf("removing %s in the sandbox: %w", p, err)
		}
	}
	for _, p := range []string{"cp", "scp-down", "api-down"} {
		if err := os.Remove(filepath.Join(u.dir, p)); err != nil {
			return err
		}
	}
	return nil
}

// writeRandom writes size bytes of random data to path and returns their
// SHA-256.
func writeRandom(path string, size int64) ([]byte, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("making the file to copy: %w", err)
	}
	h := sha256.New()
	_, err = io.CopyN(io.MultiWriter(f, h), rand.Reader, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return h.Sum(nil), nil
}

// checkFile checks that path has size bytes with this SHA-256.
func checkFile(path string, size int64, sum []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if n != size || !bytes.Equal(h.Sum(nil), sum) {
		return fmt.Errorf("%s has %d bytes and another SHA-256 than what was sent (%d bytes)", path, n, size)
	}
	return nil
}

// apiUpload streams the local file from into the sandbox at to.
func apiUpload(ctx context.Context, files *client.Files, from, to string) error {
	f, err := os.Open(from)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = files.Write(ctx, to, f, client.WriteOptions{})
	return err
}

// apiDownload streams the sandbox's file from into the local file to.
func apiDownload(ctx context.Context, files *client.Files, from, to string) error {
	rc, err := files.Open(ctx, from)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("downloading %s: %w", from, err)
	}
	return f.Close()
}

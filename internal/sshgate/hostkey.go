package sshgate

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/errdefs"
)

// loadOrCreateHostKey reads the host key at path, or makes an ed25519 key
// there (OpenSSH format, mode 0600) if the file does not exist. The new
// file appears complete or not at all, and two daemons starting at once end
// up with the same key.
func loadOrCreateHostKey(path string, log *slog.Logger) (ssh.Signer, error) {
	if path == "" {
		return nil, fmt.Errorf("ssh gateway: no host key path: %w", errdefs.ErrInvalidArgument)
	}
	key, err := readHostKey(path, log)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating an SSH host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "runtools ssh gateway")
	if err != nil {
		return nil, fmt.Errorf("encoding the SSH host key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("making the SSH host key directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".ssh_host_key-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("writing the SSH host key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(pem.EncodeToMemory(block))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing the SSH host key %s: %w", tmp.Name(), err)
	}
	// Link rather than rename: if another process made the key meanwhile,
	// keep and use that one.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("saving the SSH host key %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	key, err = readHostKey(path, log)
	if err == nil {
		log.Info("generated the SSH host key", "path", path, "fingerprint", ssh.FingerprintSHA256(key.PublicKey()))
	}
	return key, err
}

func readHostKey(path string, log *slog.Logger) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the SSH host key: %w", err)
	}
	key, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("parsing the SSH host key %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the SSH host key can be read by others than its owner; chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
	}
	return key, nil
}

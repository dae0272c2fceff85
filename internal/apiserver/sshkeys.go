package apiserver

import (
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/store"
)

func wireSSHKey(k store.SSHKey) client.SSHKey {
	return client.SSHKey{ID: k.ID, Name: k.Name, Fingerprint: k.Fingerprint, PublicKey: k.PublicKey, CreatedAt: k.CreatedAt}
}

func (s *Server) sshKeyStore() (SSHKeys, error) {
	if s.sshKeys == nil {
		return nil, fmt.Errorf("%w: the SSH gateway is off on this server (--ssh-listen)", errdefs.ErrUnavailable)
	}
	return s.sshKeys, nil
}

func (s *Server) addSSHKey(w http.ResponseWriter, r *http.Request) error {
	var req client.AddSSHKeyRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !keyNamePattern.MatchString(req.Name) {
		return invalid("SSH key name %q must be 1-63 letters, digits, dots, dashes or underscores", req.Name)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(req.PublicKey)))
	if err != nil {
		return invalid("public_key is not an OpenSSH public key (the one line of ~/.ssh/id_ed25519.pub): %v", err)
	}
	keys, err := s.sshKeyStore()
	if err != nil {
		return err
	}
	k := store.SSHKey{
		ID: "sshkey-" + auth.Random(12), TeamID: identity(r.Context()).TeamID, Name: req.Name,
		Fingerprint: ssh.FingerprintSHA256(pub), PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))),
		CreatedAt: s.now().UTC(),
	}
	if err := keys.CreateSSHKey(r.Context(), k); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, wireSSHKey(k))
}

func (s *Server) listSSHKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.sshKeyStore()
	if err != nil {
		return err
	}
	list, err := keys.SSHKeys(r.Context(), identity(r.Context()).TeamID)
	if err != nil {
		return err
	}
	return writeList(w, "ssh_keys", list, wireSSHKey)
}

func (s *Server) removeSSHKey(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.sshKeyStore()
	if err != nil {
		return err
	}
	if err := keys.DeleteSSHKey(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

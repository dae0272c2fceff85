package sshgate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
)

// How a login's authorization travels from the authentication callbacks to
// the connection: in the ssh.Permissions that x/crypto keeps with the key
// or password that authenticated.
const (
	extSandbox     = "runtools-sandbox"
	extTeam        = "runtools-team"
	extUser        = "runtools-user"         // the login name the Backend answered for
	extMethod      = "runtools-method"       // methodKey or methodPassword
	extKey         = "runtools-key"          // SHA256 fingerprint of the key the Backend accepted
	extVerifiedKey = "runtools-verified-key" // fingerprint of the key whose signature was verified
)

const (
	methodKey      = "publickey"
	methodPassword = "password"
)

// errAuth is every authentication failure: the client learns nothing about
// why (x/crypto sends it the same SSH_MSG_USERAUTH_FAILURE whatever the
// error), and the log gets the reason.
var errAuth = errors.New("authentication failed")

// A login is who authenticated a connection and which sandbox it opens.
type login struct {
	Target
	user, method, key string
}

// serverConfig is the configuration for one connection: the callbacks
// carry the connection's context.
func (g *Gateway) serverConfig(ctx context.Context) *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		MaxAuthTries:              g.maxTries,
		PublicKeyCallback:         func(m ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) { return g.keyAuth(ctx, m, k) },
		VerifiedPublicKeyCallback: g.keyVerified,
		PasswordCallback:          func(m ssh.ConnMetadata, p []byte) (*ssh.Permissions, error) { return g.passwordAuth(ctx, m, p) },
		ServerVersion:             serverVersion,
		// NoClientAuth stays false and KeyboardInteractiveCallback nil:
		// only "publickey" and "password" are offered.
	}
	cfg.AddHostKey(g.hostKey)
	return cfg
}

// keyAuth answers for a public key, offered as a query or with a signature
// (x/crypto asks once per user and key, and checks the signature itself).
// The key is not proven yet: what it allows goes into the Permissions,
// which x/crypto only hands over with the key that signs.
func (g *Gateway) keyAuth(ctx context.Context, meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	start := time.Now()
	fp := ssh.FingerprintSHA256(key)
	log := g.log.With("user", meta.User(), "source", meta.RemoteAddr().String(), "key", fp)
	if _, ok := key.(*ssh.Certificate); ok {
		log.DebugContext(ctx, "refused an SSH certificate: only plain keys are registered")
		pad(start, g.keyFloor)
		return nil, errAuth
	}
	bctx, cancel := context.WithTimeout(ctx, backendTimeout)
	t, err := g.backend.KeyLogin(bctx, meta.User(), key)
	cancel()
	if err == nil && t.SandboxID == "" {
		err = fmt.Errorf("backend accepted the key for no sandbox")
	}
	if err != nil {
		log.DebugContext(ctx, "refused an SSH key", "err", err)
		pad(start, g.keyFloor)
		return nil, errAuth
	}
	return permissions(t, meta.User(), methodKey, fp), nil
}

// keyVerified runs once the client has signed with a key keyAuth accepted:
// perms must be the ones keyAuth made for that very key.
func (g *Gateway) keyVerified(meta ssh.ConnMetadata, key ssh.PublicKey, perms *ssh.Permissions, _ string) (*ssh.Permissions, error) {
	fp := ssh.FingerprintSHA256(key)
	if perms == nil || perms.Extensions[extMethod] != methodKey || perms.Extensions[extKey] != fp ||
		perms.Extensions[extUser] != meta.User() {
		g.log.Error("SSH login refused: the permissions are not those of the key that signed",
			"user", meta.User(), "source", meta.RemoteAddr().String(), "key", fp)
		return nil, errAuth
	}
	perms.Extensions[extVerifiedKey] = fp
	return perms, nil
}

// passwordAuth checks a sandbox password. Every attempt under the rate
// limits reaches the Backend, known sandbox or not, and every failure takes
// at least passwordFloor, so neither the answer nor its timing tells an
// unknown sandbox from a wrong password.
func (g *Gateway) passwordAuth(ctx context.Context, meta ssh.ConnMetadata, password []byte) (perms *ssh.Permissions, err error) {
	start := time.Now()
	defer func() {
		if err != nil {
			pad(start, g.passwordFloor)
		}
	}()
	src := sourceKey(meta.RemoteAddr())
	log := g.log.With("user", meta.User(), "source", meta.RemoteAddr().String())
	if ok, first := g.bySource.allow(src, start); !ok {
		if first {
			log.WarnContext(ctx, "too many SSH password attempts from this source; refusing them for now", "limit_key", src)
		}
		return nil, errAuth
	}
	if ok, first := g.byUser.allow(userKey(meta.User()), start); !ok {
		if first {
			log.WarnContext(ctx, "too many SSH password attempts for this sandbox; refusing them for now")
		}
		return nil, errAuth
	}
	bctx, cancel := context.WithTimeout(ctx, backendTimeout)
	t, err := g.backend.PasswordLogin(bctx, meta.User(), string(password))
	cancel()
	if err == nil && t.SandboxID == "" {
		err = fmt.Errorf("backend accepted the password for no sandbox")
	}
	if err != nil {
		log.InfoContext(ctx, "SSH password refused", "err", err)
		return nil, errAuth
	}
	return permissions(t, meta.User(), methodPassword, ""), nil
}

func permissions(t Target, user, method, key string) *ssh.Permissions {
	ext := map[string]string{
		extSandbox: t.SandboxID,
		extTeam:    t.TeamID,
		extUser:    user,
		extMethod:  method,
	}
	if key != "" {
		ext[extKey] = key
	}
	return &ssh.Permissions{Extensions: ext}
}

// loginOf reads the login of an authenticated connection, and checks that
// its Permissions came from the credential that was proven: for a key, the
// one keyVerified saw signing.
func loginOf(conn *ssh.ServerConn) (login, error) {
	if conn.Permissions == nil {
		return login{}, errors.New("no permissions")
	}
	ext := conn.Permissions.Extensions
	l := login{
		Target: Target{SandboxID: ext[extSandbox], TeamID: ext[extTeam]},
		user:   ext[extUser],
		method: ext[extMethod],
		key:    ext[extKey],
	}
	switch {
	case l.SandboxID == "":
		return login{}, errors.New("no sandbox")
	case l.user != conn.User():
		return login{}, fmt.Errorf("authorized for user %q, logged in as %q", l.user, conn.User())
	case l.method == methodKey && (l.key == "" || ext[extVerifiedKey] != l.key):
		return login{}, fmt.Errorf("authorized for key %s, verified key %q", l.key, ext[extVerifiedKey])
	case l.method == methodPassword && (l.key != "" || ext[extVerifiedKey] != ""):
		return login{}, errors.New("password login carrying a key")
	case l.method != methodKey && l.method != methodPassword:
		return login{}, fmt.Errorf("unknown method %q", l.method)
	}
	return l, nil
}

// pad sleeps until floor has passed since start.
func pad(start time.Time, floor time.Duration) {
	if d := time.Until(start.Add(floor)); d > 0 {
		time.Sleep(d)
	}
}

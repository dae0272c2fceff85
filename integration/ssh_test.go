package integration

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/sshgate/sshgatetest"
)

func TestSSH(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, 5*time.Minute)
	sb := create(t, s, client.CreateRequest{Name: "sshbox", Password: "correct-horse-42"})
	if sb.SSH == nil || sb.SSH.Port == 0 || sb.SSH.User != sb.ID {
		t.Fatalf("sandbox's SSH access: %+v", sb.SSH)
	}
	me := newSSHUser(t, s, "me")
	if _, err := s.client().AddSSHKey(ctx, "me", me.pub); err != nil {
		t.Fatal(err)
	}

	t.Run("key login and exit codes", func(t *testing.T) {
		for _, login := range []string{sb.ID, "sshbox"} {
			out, errOut, code := me.run(login, "echo hello; echo oops >&2; exit 7")
			if out != "hello\n" || !strings.Contains(errOut, "oops") || code != 7 {
				t.Errorf("as %s: %q %q exit %d", login, out, errOut, code)
			}
		}
		if _, _, code := me.run(sb.ID, "true"); code != 0 {
			t.Errorf("true: exit %d", code)
		}
		if _, errOut, code := me.run(sb.ID, "no-such-command-xyz"); code != 127 || !strings.Contains(errOut, "not found") {
			t.Errorf("unknown command: exit %d, %q", code, errOut)
		}
		// Stdin reaches the command, and its end ends it.
		c := me.cmd(sb.ID)
		c.Args = append(c.Args, "wc -c")
		c.Stdin = strings.NewReader(strings.Repeat("x", 100000))
		if out, _, code := runCmd(t, c); strings.TrimSpace(out) != "100000" || code != 0 {
			t.Errorf("wc -c of stdin: %q exit %d", out, code)
		}
	})

	t.Run("environment", func(t *testing.T) {
		out, _, code := me.run(sb.ID, `echo "$MY_SETTING|$LC_ALL|$LD_PRELOAD|$PATH"`,
			"-o", "SetEnv=MY_SETTING=on LC_ALL=C.UTF-8 LD_PRELOAD=/tmp/evil.so PATH=/evil")
		if code != 0 || !strings.HasPrefix(out, "on|C.UTF-8||") || strings.Contains(out, "/evil") {
			t.Errorf("env: %q exit %d", out, code)
		}
	})

	t.Run("password", func(t *testing.T) {
		askpass := filepath.Join(t.TempDir(), "askpass")
		login := func(password string) (string, int) {
			os.WriteFile(askpass, []byte("#!/bin/sh\necho '"+password+"'\n"), 0o755)
			c := me.cmd(sb.ID, "-o", "BatchMode=no", "-o", "PubkeyAuthentication=no",
				"-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1")
			c.Args = append(c.Args, "echo in by password")
			c.Env = append(os.Environ(), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=none")
			out, errOut, code := runCmd(t, c)
			return out + errOut, code
		}
		if out, code := login("correct-horse-42"); code != 0 || !strings.Contains(out, "in by password") {
			t.Errorf("right password: exit %d, %q", code, out)
		}
		if out, code := login("wrong-horse-42"); code != 255 || !strings.Contains(out, "Permission denied") {
			t.Errorf("wrong password: exit %d, %q", code, out)
		}
	})

	t.Run("refused keys", func(t *testing.T) {
		stranger := newSSHUser(t, s, "stranger")
		_, wrongKey, code := stranger.run(sb.ID, "true")
		if code != 255 || !strings.Contains(wrongKey, "Permission denied") {
			t.Errorf("unregistered key: exit %d, %q", code, wrongKey)
		}
		// An unknown sandbox gets the very same answer.
		_, unknown, _ := me.run("sandbox-doesnotexist0", "true")
		if strings.ReplaceAll(unknown, "sandbox-doesnotexist0", sb.ID) != wrongKey {
			t.Errorf("unknown sandbox answered %q, wrong key %q", unknown, wrongKey)
		}
		// A revoked key works until it is removed, then not.
		later := newSSHUser(t, s, "later")
		if _, err := s.client().AddSSHKey(ctx, "later", later.pub); err != nil {
			t.Fatal(err)
		}
		if out, _, code := later.run(sb.ID, "echo ok"); out != "ok\n" || code != 0 {
			t.Fatalf("before revoking: %q exit %d", out, code)
		}
		if err := s.client().RemoveSSHKey(ctx, "later"); err != nil {
			t.Fatal(err)
		}
		if _, errOut, code := later.run(sb.ID, "echo ok"); code != 255 || !strings.Contains(errOut, "Permission denied") {
			t.Errorf("revoked key: exit %d, %q", code, errOut)
		}
	})

	t.Run("other team", func(t *testing.T) {
		if _, err := s.client().CreateTeam(ctx, "rivals"); err != nil {
			t.Fatal(err)
		}
		k, err := s.client().CreateKey(ctx, client.CreateKeyRequest{Name: "rival", Team: "rivals"})
		if err != nil {
			t.Fatal(err)
		}
		rivals := s.clientWithKey(k.Secret)
		rival := newSSHUser(t, s, "rival")
		if _, err := rivals.AddSSHKey(ctx, "rival", rival.pub); err != nil {
			t.Fatal(err)
		}
		theirs, err := rivals.Create(ctx, client.CreateRequest{Name: "sshbox"})
		if err != nil {
			t.Fatal(err)
		}
		defer rivals.Destroy(ctx, theirs.ID)
		if _, errOut, code := rival.run(sb.ID, "true"); code != 255 || !strings.Contains(errOut, "Permission denied") {
			t.Errorf("rival's key into our sandbox: exit %d, %q", code, errOut)
		}
		if _, errOut, code := me.run(theirs.ID, "true"); code != 255 || !strings.Contains(errOut, "Permission denied") {
			t.Errorf("our key into the rival's sandbox: exit %d, %q", code, errOut)
		}
		// The name is per team: each key reaches its own team's "sshbox".
		if _, _, code := rival.run("sshbox", "true"); code != 0 {
			t.Errorf("rival into its own sshbox: exit %d", code)
		}

		// CVE-2024-45337: offer our key (its public half is no secret),
		// prove the rival's: refused.
		signer, err := ssh.ParsePrivateKey(mustRead(t, rival.key))
		if err != nil {
			t.Fatal(err)
		}
		ours, _, _, _, err := ssh.ParseAuthorizedKey([]byte(me.pub))
		if err != nil {
			t.Fatal(err)
		}
		c, err := ssh.Dial("tcp", s.ssh, &ssh.ClientConfig{
			User:            sb.ID,
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(sshgatetest.Impostor(ours, signer))},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(),
			Timeout:         30 * time.Second,
		})
		if err == nil {
			c.Close()
			t.Error("offering our key and proving the rival's opened our sandbox")
		}
	})

	t.Run("pty", func(t *testing.T) { sshPTY(t, me, sb) })

	t.Run("cli", func(t *testing.T) {
		home := t.TempDir()
		os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
		// ssh looks for keys in the passwd entry's home, not $HOME: point it
		// at this one. BatchMode: a host key prompt would fail the login.
		t.Setenv("RUNTOOLS_SSH_COMMAND", "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none -i "+filepath.Join(home, ".ssh", "id_ed25519"))
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(home, ".ssh", "id_ed25519")).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
		if out, errOut, code := s.cliHome(t, home, "", "ssh-key", "add", "laptop"); code != 0 || !strings.Contains(out, "SHA256:") {
			t.Fatalf("ssh-key add: exit %d, %q %q", code, out, errOut)
		}
		if out, _, code := s.cliHome(t, home, "", "ssh-key", "list"); code != 0 || !strings.Contains(out, "laptop") {
			t.Errorf("ssh-key list: exit %d, %q", code, out)
		}
		// No host key prompt: the CLI knows the gateway's key from the server.
		if out, errOut, code := s.cliHome(t, home, "", "sandbox", "ssh", "sshbox", "--", "echo via-cli; exit 3"); out != "via-cli\n" || code != 3 {
			t.Errorf("sandbox ssh: exit %d, %q %q", code, out, errOut)
		}
		if _, errOut, code := s.cliHome(t, home, "", "ssh-key", "remove", "laptop"); code != 0 {
			t.Errorf("ssh-key remove: exit %d, %q", code, errOut)
		}
		if _, errOut, code := s.cliHome(t, home, "", "sandbox", "ssh", "sshbox", "--", "true"); code != 255 || !strings.Contains(errOut, "Permission denied") {
			t.Errorf("sandbox ssh after remove: exit %d, %q", code, errOut)
		}
	})

	t.Run("scp and sftp", func(t *testing.T) {
		dir := t.TempDir()
		data := make([]byte, 50<<20)
		rand.Read(data)
		sum := sha256.Sum256(data)
		local := filepath.Join(dir, "data.bin")
		if err := os.WriteFile(local, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, legacy := range []bool{false, true} {
			name := fmt.Sprintf("/root/up-%v.bin", legacy)
			start := time.Now()
			me.scp(legacy, local, me.remote(sb.ID, name))
			up := time.Since(start)
			res := sh(t, sb, "sha256sum "+name)
			if got := strings.Fields(string(res.Stdout)); len(got) == 0 || got[0] != hex.EncodeToString(sum[:]) {
				t.Fatalf("uploaded (legacy %v) checksum %q", legacy, res.Stdout)
			}
			back := filepath.Join(dir, fmt.Sprintf("back-%v.bin", legacy))
			start = time.Now()
			me.scp(legacy, me.remote(sb.ID, name), back)
			down := time.Since(start)
			got, _ := os.ReadFile(back)
			if sha256.Sum256(got) != sum {
				t.Fatalf("downloaded (legacy %v) %d bytes, checksum differs", legacy, len(got))
			}
			t.Logf("scp 50 MiB (legacy %v): up %v, down %v", legacy, up.Round(time.Millisecond), down.Round(time.Millisecond))
		}

		batch := filepath.Join(dir, "batch")
		os.WriteFile(batch, []byte("ls -l /root\nmkdir /root/made-by-sftp\n"), 0o644)
		host, port := me.hostPort()
		c := exec.Command("sftp", append(me.opts(), "-P", port, "-b", batch, sb.ID+"@"+host)...)
		out, errOut, code := runCmd(t, c)
		if code != 0 || !strings.Contains(out, "up-false.bin") || !strings.Contains(out, "up-true.bin") {
			t.Errorf("sftp ls: exit %d, %q %q", code, out, errOut)
		}
		if res := sh(t, sb, "test -d /root/made-by-sftp && echo yes"); string(res.Stdout) != "yes\n" {
			t.Errorf("sftp mkdir: %q", res.Stdout)
		}
	})

	t.Run("port forward", func(t *testing.T) {
		// A server on the sandbox's loopback only, as dev servers start by default.
		startNode(t, s, sb, 4000, `require("http").createServer((q,r)=>r.end("forwarded "+q.url)).listen(4000,"127.0.0.1")`)
		local := freeAddr(t)
		_, lport, _ := net.SplitHostPort(local)
		fwd := me.cmd(sb.ID, "-N", "-o", "ExitOnForwardFailure=yes", "-L", lport+":localhost:4000")
		var errb bytes.Buffer
		fwd.Stderr = &errb
		if err := fwd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { fwd.Process.Kill(); fwd.Wait() }()
		hc := &http.Client{Timeout: 10 * time.Second}
		var body string
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			resp, err := hc.Get("http://" + local + "/through-ssh")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body = string(b)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if body != "forwarded /through-ssh" {
			t.Fatalf("through -L: %q (ssh: %s)", body, errb.String())
		}
	})

	t.Run("agent port not forwarded", func(t *testing.T) {
		signer, err := ssh.ParsePrivateKey(mustRead(t, me.key))
		if err != nil {
			t.Fatal(err)
		}
		c, err := ssh.Dial("tcp", s.ssh, &ssh.ClientConfig{User: sb.ID, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, target := range []string{"localhost:49983", sb.IP + ":49983", "10.0.0.1:80", "169.254.169.254:80"} {
			if conn, err := c.Dial("tcp", target); err == nil {
				conn.Close()
				t.Errorf("forward to %s opened", target)
			}
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sshPTY drives an interactive ssh session on a real terminal: the size
// the shell sees, a resize, Ctrl-C, and the exit status.
func sshPTY(t *testing.T, u *sshUser, sb *client.Sandbox) {
	c := u.cmd(sb.ID, "-tt")
	ptmx, err := pty.StartWithSize(c, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	waitFor := func(re string) {
		t.Helper()
		rx := regexp.MustCompile(re)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			ok := rx.Match(screen.Bytes())
			mu.Unlock()
			if ok {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("terminal never showed %q:\n%q", re, screen.String())
	}
	say := func(s string) {
		if _, err := io.WriteString(ptmx, s); err != nil {
			t.Fatal(err)
		}
	}
	// tty: the shell is on a terminal; stty size: rows cols.
	say("tty >/dev/null && echo ON-A-TTY; stty size\n")
	waitFor(`ON-A-TTY\r?\n24 80\r?\n`)
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 50, Cols: 132}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // ssh sends window-change on SIGWINCH
	say("stty size\n")
	waitFor(`[\r\n]50 132\r?\n`)
	// Ctrl-C interrupts the foreground command, not the session.
	say("sleep 60\n")
	time.Sleep(500 * time.Millisecond)
	say("\x03")
	say("echo AFTER-$((40+2))\n")
	waitFor(`AFTER-42`)
	say("exit 5\n")
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 5 {
			t.Errorf("interactive session ended with %v, want exit 5", err)
		}
	case <-time.After(30 * time.Second):
		c.Process.Kill()
		t.Fatal("ssh did not end after exit")
	}
}

// An SSH session keeps its sandbox from idling into a pause, and a login
// wakes a paused sandbox.
func TestSSHActivityAndWake(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, 3*time.Minute)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(2)})
	me := newSSHUser(t, s, "me")
	if _, err := s.client().AddSSHKey(ctx, "me", me.pub); err != nil {
		t.Fatal(err)
	}
	// An open session, doing nothing for longer than the timeout.
	if out, _, code := me.run(sb.ID, "sleep 6; echo still here"); out != "still here\n" || code != 0 {
		t.Fatalf("long session: %q exit %d", out, code)
	}
	waitState(t, s, sb.ID, "paused", 15*time.Second)
	start := time.Now()
	out, _, code := me.run(sb.ID, "echo awake")
	if out != "awake\n" || code != 0 {
		t.Fatalf("login to a paused sandbox: %q exit %d", out, code)
	}
	t.Logf("ssh to a paused sandbox: %v", time.Since(start).Round(time.Millisecond))
}

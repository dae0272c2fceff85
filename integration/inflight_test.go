package integration

import (
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// TestCallsEndWithTheSandbox: an exec in flight when its sandbox is
// destroyed, or when the sandbox's gVisor process is killed, ends within
// a second or two with a conflict that says why, not minutes later when
// its connection would have timed out.
func TestCallsEndWithTheSandbox(t *testing.T) {
	s := startServer(t)
	for name, end := range map[string]func(t *testing.T, sb *client.Sandbox){
		"destroyed": func(t *testing.T, sb *client.Sandbox) {
			if err := s.client().Destroy(ctxT(t, time.Minute), sb.ID); err != nil {
				t.Fatal(err)
			}
		},
		"killed": func(t *testing.T, sb *client.Sandbox) {
			out, err := exec.Command("/usr/local/lib/runtools/runsc", "--root="+filepath.Join(s.dataDir, "runsc"), "kill", sb.ID, "KILL").CombinedOutput()
			if err != nil {
				t.Fatalf("runsc kill: %v %s", err, out)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			sb := create(t, s, client.CreateRequest{})
			ended := make(chan error, 1)
			go func() {
				_, err := s.client().Exec(ctxT(t, 5*time.Minute), sb.ID, client.ExecRequest{Cmd: []string{"sleep", "300"}})
				ended <- err
			}()
			time.Sleep(time.Second)
			at := time.Now()
			end(t, sb)
			select {
			case err := <-ended:
				t.Logf("the exec ended %v after the sandbox: %v", time.Since(at).Round(time.Millisecond), err)
				if !errors.Is(err, client.ErrConflict) {
					t.Errorf("the exec ended with %v, want a conflict", err)
				}
				if d := time.Since(at); d > 3*time.Second {
					t.Errorf("the exec ended %v after the sandbox did", d)
				}
			case <-time.After(time.Minute):
				t.Fatal("the exec still runs a minute after its sandbox ended")
			}
		})
	}
}

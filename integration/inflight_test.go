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
// its connection would have timed out; so does one that is waking the
// sandbox from a pause when the destroy comes.
func TestCallsEndWithTheSandbox(t *testing.T) {
	s := startServer(t)
	destroy := func(t *testing.T, sb *client.Sandbox) {
		if err := s.client().Destroy(ctxT(t, time.Minute), sb.ID); err != nil {
			t.Fatal(err)
		}
	}
	kill := func(t *testing.T, sb *client.Sandbox) {
		out, err := exec.Command("/usr/local/lib/runtools/runsc", "--root="+filepath.Join(s.dataDir, "runsc"), "kill", sb.ID, "KILL").CombinedOutput()
		if err != nil {
			t.Fatalf("runsc kill: %v %s", err, out)
		}
	}
	for _, tc := range []struct {
		name   string
		paused bool          // the exec wakes the sandbox
		after  time.Duration // from the exec's start to the sandbox's end
		end    func(t *testing.T, sb *client.Sandbox)
	}{
		{"destroyed", false, time.Second, destroy},
		{"killed", false, time.Second, kill},
		{"destroyed while it wakes", true, 200 * time.Millisecond, destroy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := create(t, s, client.CreateRequest{})
			if tc.paused {
				if _, err := s.client().Pause(ctxT(t, time.Minute), sb.ID); err != nil {
					t.Fatal(err)
				}
			}
			ended := make(chan error, 1)
			go func() {
				_, err := s.client().Exec(ctxT(t, 5*time.Minute), sb.ID, client.ExecRequest{Cmd: []string{"sleep", "300"}})
				ended <- err
			}()
			time.Sleep(tc.after)
			at := time.Now()
			tc.end(t, sb)
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

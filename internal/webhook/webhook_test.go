package webhook

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// TestBackoffSchedule: the waits double from the first, at most
// MaxBackoff, and the default 17 attempts span about a day.
func TestBackoffSchedule(t *testing.T) {
	var got []time.Duration
	var total time.Duration
	for n := 1; n < 17; n++ {
		d := Backoff(n, 10*time.Second)
		got = append(got, d)
		total += d
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 320 * time.Second,
		640 * time.Second, 1280 * time.Second, 2560 * time.Second, 5120 * time.Second, 10240 * time.Second, MaxBackoff, MaxBackoff, MaxBackoff, MaxBackoff, MaxBackoff}
	if !slices.Equal(got, want) {
		t.Errorf("schedule %v\nwant %v", got, want)
	}
	if total < 20*time.Hour || total > 30*time.Hour {
		t.Errorf("17 attempts span %s, want about a day", total)
	}
	if d := Backoff(1000, time.Second); d != MaxBackoff {
		t.Errorf("Backoff(1000) = %s", d)
	}
}

func TestParseEvents(t *testing.T) {
	all, err := ParseEvents(nil)
	if err != nil || len(all) != 7 {
		t.Errorf("default: %v, %v", all, err)
	}
	got, err := ParseEvents([]string{"limit", " created", "limit"})
	if err != nil || !slices.Equal(got, []string{"created", "limit"}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := ParseEvents([]string{"crashed"}); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "created, paused, resumed") {
		t.Errorf("unknown event: %v", err)
	}
}

func TestValidateURL(t *testing.T) {
	g := Guard{AllowPrivate: true, Deny: []netip.Prefix{netip.MustParsePrefix("10.123.0.0/16")}}
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://example.com/hook", true},
		{"http://127.0.0.1:9000/hook", true},
		{"http://[::1]:9000/", true},
		{"http://192.168.1.10/hook", true},
		{"ftp://example.com/", false},
		{"example.com/hook", false},
		{"http:///nohost", false},
		{"http://user:pw@example.com/", false},
		{"http://169.254.169.254/latest/meta-data", false},
		{"http://[fd00:ec2::254]/", false},
		{"http://[fe80::1]/", false},
		{"http://10.123.0.5:3000/", false},
		{"http://0.0.0.0/", false},
	} {
		err := ValidateURL(tt.url, g)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
	if err := ValidateURL("http://127.0.0.1/", Guard{}); err == nil {
		t.Error("loopback accepted without AllowPrivate")
	}
}

package quota

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
)

func TestOr(t *testing.T) {
	def := Limits{Sandboxes: 5, VCPUs: 10, MemoryMB: 8192, DiskBytes: 1 << 30, Builds: 2}
	if got := NoOverride.Or(def); got != def {
		t.Errorf("no override: %+v", got)
	}
	own := Limits{Sandboxes: 0, VCPUs: Unset, MemoryMB: 1024, DiskBytes: Unset, Builds: 1}
	if got, want := own.Or(def), (Limits{0, 10, 1024, 1 << 30, 1}); got != want {
		t.Errorf("own.Or(def) = %+v, want %+v", got, want)
	}
}

func TestCheckStart(t *testing.T) {
	l := Limits{Sandboxes: 3, VCPUs: 6, MemoryMB: 4096}
	for _, c := range []struct {
		used          Usage
		vcpus, mem    int64
		name          string // "" fits
		usedN, limitN int64
	}{
		{Usage{}, 2, 1024, "", 0, 0},
		{Usage{Sandboxes: 2, VCPUs: 4, MemoryMB: 3072}, 2, 1024, "", 0, 0}, // exactly at every limit
		{Usage{Sandboxes: 3, VCPUs: 2, MemoryMB: 512}, 1, 128, Sandboxes, 3, 3},
		{Usage{Sandboxes: 1, VCPUs: 5, MemoryMB: 512}, 2, 128, VCPUs, 5, 6},
		{Usage{Sandboxes: 1, VCPUs: 1, MemoryMB: 3584}, 1, 1024, MemoryMB, 3584, 4096},
	} {
		err := CheckStart("acme", l, c.used, c.vcpus, c.mem)
		if c.name == "" {
			if err != nil {
				t.Errorf("%+v + %d vCPUs, %d MB: %v", c.used, c.vcpus, c.mem, err)
			}
			continue
		}
		var q *errdefs.QuotaError
		if !errors.As(err, &q) || !errors.Is(err, errdefs.ErrResourceExhausted) || q.Name != c.name || q.Used != c.usedN ||
			q.Limit != c.limitN || q.Stored || q.Requested == 0 {
			t.Errorf("%+v + %d vCPUs, %d MB: %#v", c.used, c.vcpus, c.mem, err)
			continue
		}
		if !strings.Contains(q.Message, "runtools team update acme --max-") || !strings.Contains(q.Hint, "pause") {
			t.Errorf("the message does not say what to do: %s", q.Message)
		}
	}
	if err := CheckStart("acme", Unlimited, Usage{Sandboxes: 1000, VCPUs: 1000, MemoryMB: 1 << 30}, 8, 16384); err != nil {
		t.Errorf("no limits: %v", err)
	}
}

func TestCheckDiskAndBuild(t *testing.T) {
	l := Limits{DiskBytes: 10 << 30, Builds: 1}
	if err := CheckDisk("acme", l, Usage{Disk: Disk{Snapshots: 9 << 30}}); err != nil {
		t.Errorf("under the disk limit: %v", err)
	}
	err := CheckDisk("acme", l, Usage{Disk: Disk{Paused: 4 << 30, Snapshots: 5 << 30, Volumes: 1 << 30}})
	var q *errdefs.QuotaError
	if !errors.As(err, &q) || q.Name != DiskBytes || !q.Stored || q.Used != 10<<30 ||
		!strings.Contains(q.Message, "10 GB of 10 GB in use") || !strings.Contains(q.Hint, "--max-disk SIZE") {
		t.Errorf("at the disk limit: %#v", err)
	}
	if err := CheckBuild("acme", l, Usage{}); err != nil {
		t.Errorf("the first build: %v", err)
	}
	if err := CheckBuild("acme", l, Usage{Builds: 1}); !errors.As(err, &q) || q.Name != Builds || q.Stored {
		t.Errorf("a second build at once: %v", err)
	}
}

func TestReport(t *testing.T) {
	items := Report(Limits{Sandboxes: 2, DiskBytes: 100}, Usage{Sandboxes: 1, VCPUs: 2, MemoryMB: 1024, Builds: 1,
		Disk: Disk{Paused: 10, Snapshots: 20, Volumes: 30, Templates: 40}})
	want := []Item{{Sandboxes, "sandboxes", 1, 2}, {VCPUs, "vcpus", 2, 0}, {MemoryMB, "MB", 1024, 0},
		{DiskBytes, "bytes", 100, 100}, {Builds, "builds", 1, 0}}
	if len(items) != len(want) {
		t.Fatalf("%+v", items)
	}
	for i := range want {
		if items[i] != want[i] {
			t.Errorf("item %d: %+v, want %+v", i, items[i], want[i])
		}
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KB", 1536: "1.5 KB", 8 << 30: "8 GB", 150 << 20: "150 MB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// fakeTeams is one team's records.
type fakeTeams struct {
	own    Limits
	stored Disk
}

func (f *fakeTeams) TeamQuota(_ context.Context, id string) (string, Limits, error) {
	if id != "team-a" {
		return "", Limits{}, errdefs.ErrNotFound
	}
	return "a", f.own, nil
}
func (f *fakeTeams) SetTeamQuota(_ context.Context, _ string, own Limits) error {
	f.own = own
	return nil
}
func (f *fakeTeams) StoredBytes(context.Context, string) (Disk, error) { return f.stored, nil }

type fakeRunner Usage

func (f fakeRunner) Running(context.Context, string) (Usage, error) { return Usage(f), nil }

type fakeVolumes int64

func (f fakeVolumes) VolumeBytes(context.Context, string) (int64, error) { return int64(f), nil }

func TestBook(t *testing.T) {
	ctx := context.Background()
	teams := &fakeTeams{own: NoOverride, stored: Disk{Snapshots: 100, Templates: 50}}
	b := New(Limits{Sandboxes: 4, Builds: 2, DiskBytes: 1000}, teams)
	b.SetRunner(fakeRunner{Sandboxes: 1, VCPUs: 2, MemoryMB: 512, Disk: Disk{Paused: 25}})
	u, err := b.Usage(ctx, "team-a")
	if want := (Usage{Sandboxes: 1, VCPUs: 2, MemoryMB: 512, Disk: Disk{Paused: 25, Snapshots: 100, Templates: 50}}); err != nil || u != want {
		t.Errorf("usage %+v, %v; want %+v", u, err, want)
	}
	b.SetVolumes(fakeVolumes(7))
	if u, _ = b.Usage(ctx, "team-a"); u.Disk.Volumes != 7 || u.Disk.Total() != 182 {
		t.Errorf("volumes: %+v", u.Disk)
	}
	if err := b.SetOwn(ctx, "team-a", Limits{Sandboxes: 1, VCPUs: Unset, MemoryMB: Unset, DiskBytes: Unset, Builds: 3}); err != nil {
		t.Fatal(err)
	}
	if name, l, err := b.Limits(ctx, "team-a"); err != nil || name != "a" || l != (Limits{1, 0, 0, 1000, 3}) {
		t.Errorf("limits: %q %+v %v", name, l, err)
	}

	// Concurrent builds never go over the limit, and each done frees one.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var dones []func()
	refused := 0
	for range 8 {
		wg.Go(func() {
			done, err := b.StartBuild(ctx, "team-a")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				refused++
				return
			}
			dones = append(dones, done)
		})
	}
	wg.Wait()
	if len(dones) != 3 || refused != 5 {
		t.Fatalf("%d builds started, %d refused; want 3 and 5", len(dones), refused)
	}
	if u, _ = b.Usage(ctx, "team-a"); u.Builds != 3 {
		t.Errorf("builds under way: %d", u.Builds)
	}
	dones[0]()
	dones[0]() // a second call changes nothing
	if u, _ = b.Usage(ctx, "team-a"); u.Builds != 2 {
		t.Errorf("builds under way after one ended: %d", u.Builds)
	}
	teams.stored.Snapshots = 1000
	if _, err := b.StartBuild(ctx, "team-a"); !errors.Is(err, errdefs.ErrResourceExhausted) {
		t.Errorf("a build over the disk limit: %v", err)
	}
	if err := b.CheckDisk(ctx, "team-a"); err == nil {
		t.Error("CheckDisk over the disk limit took it")
	}
}

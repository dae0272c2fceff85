package disk

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/stats"
)

// workload is one piece of real work, as shell scripts that run alike in
// a sandbox and on the host. Every script gets $W, the system's work
// directory on the disk measured, and a run gets $I, its number. A run
// starts in a fresh directory, $W/run-$I, and prints each timed phase as
// a line "@phase NAME NANOSECONDS"; what it does before or after its
// phases is not timed.
type workload struct {
	key string
	// make, if set, runs once on the host, untimed, and leaves the file
	// made ($W-relative) there, which is copied into each sandbox's $W.
	make, made string
	prepare    string // once per system, untimed, after make; "" for none
	run        string // after prologue
	// offline is what a failed prepare means, such as "the npm registry
	// is unreachable"; "" for a plain failure.
	offline string
}

// Keys of the workloads, in the table's order.
const (
	keyNpm   = "npm"
	keyGit   = "git"
	keyPip   = "pip"
	keySmall = "small"
	keyFsync = "fsync"
)

// Sizes of the generated work, which the report quotes.
const (
	gitFiles     = 20000
	gitCommits   = 4
	smallFiles   = 10000
	smallDirs    = 100
	fileKiB      = 4
	fsyncFiles   = 1000
	npmPackages  = "express 4.21.2, lodash 4.17.21, typescript 5.7.3, react 18.3.1, react-dom 18.3.1"
	setupTimeout = 10 * time.Minute
)

// prologue starts every run: a fresh directory, and the phase timer
// (`date +%s%N`, the wall clock in nanoseconds).
const prologue = `set -eu
RUN="$W/run-$I"
rm -rf "$RUN"
mkdir -p "$RUN"
cd "$RUN"
now() { date +%s%N; }
lap() { echo "@phase $1 $(( $(now) - $2 ))"; }
`

// cleanup removes a run's directory, after the run, untimed.
const cleanup = `rm -rf "$W/run-$I"`

// workloads are the section's workloads, in the table's order.
func workloads() []workload {
	return []workload{
		{key: keyNpm, prepare: "npm ping --loglevel=error", run: npmRun, offline: "the npm registry is unreachable (`npm ping` failed)"},
		{key: keyGit, make: gitMake, made: gitBundle, prepare: gitPrepare, run: gitRun},
		{key: keyPip, prepare: pipPrepare, run: pipRun},
		{key: keySmall, run: smallRun},
		{key: keyFsync, run: fsyncRun},
	}
}

// npmRun installs a small project's dependencies with an empty cache of
// its own, so that every run downloads them.
const npmRun = `cat > package.json <<'EOF'
{"name": "bench-disk", "version": "1.0.0", "private": true,
 "dependencies": {"express": "4.21.2", "lodash": "4.17.21", "typescript": "5.7.3", "react": "18.3.1", "react-dom": "18.3.1"}}
EOF
t=$(now)
npm install --no-audit --no-fund --no-update-notifier --loglevel=error --cache "$RUN/.npm-cache" >/dev/null
lap total "$t"
test -f node_modules/typescript/package.json
`

// gitMake makes, on the host, $W/git-repo.bundle: a repository of 20 000
// small text files in 100 directories, added in 4 commits of 5 000, as a
// bundle (one file, one pack). Dates and names are fixed. Automatic gc is
// off: its background repack after a commit removed object directories
// under the next batch's `git add`.
const gitMake = `set -eu
cd "$W"
rm -rf git-src git-repo.bundle
git init -q -b main git-src
cd git-src
git config gc.auto 0
for c in 1 2 3 4; do
  python3 - "$c" <<'EOF'
import os, sys
c = int(sys.argv[1])
for i in range((c - 1) * 5000, c * 5000):
    d = "d%02d" % (i % 100)
    os.makedirs(d, exist_ok=True)
    with open("%s/f%05d.txt" % (d, i), "w") as f:
        f.writelines("file %05d, line %02d: some text of a small source file\n" % (i, k) for k in range(4 + i % 24))
EOF
  git add -A
  git commit -q -m "batch $c"
done
git bundle create -q "$W/git-repo.bundle" --all
cd ..
rm -rf git-src
`

// gitBundle is the file gitMake makes, relative to $W.
const gitBundle = "git-repo.bundle"

// gitPrepare makes $W/git/bare.git, a bare clone of the bundle (its one
// pack), on the disk measured.
const gitPrepare = `set -eu
rm -rf "$W/git"
mkdir -p "$W/git"
git clone -q --bare "$W/git-repo.bundle" "$W/git/bare.git"
test "$(git -C "$W/git/bare.git" rev-list --count HEAD)" = 4
`

// gitRun clones the bare repository with git's defaults: a local clone,
// which hard-links its pack, then checks out the 20 000 files.
const gitRun = `t=$(now)
git clone -q "$W/git/bare.git" work
lap total "$t"
test "$(ls work/d00 | wc -l)" = 200
`

// pipPrepare copies the template's pip and setuptools wheels to $W/wheels,
// from $WHEELS_FROM (the template's /usr/share/python-wheels).
const pipPrepare = `set -eu
mkdir -p "$W/wheels"
cp "$WHEELS_FROM"/pip-*.whl "$WHEELS_FROM"/setuptools-*.whl "$W/wheels/"
`

// pipRun installs pip and setuptools from the wheels into a directory of
// their own (pip compiles their .py files too, as it does by default).
const pipRun = `t=$(now)
python3 -m pip install -q --no-index --find-links "$W/wheels" --target "$RUN/site" --no-cache-dir --disable-pip-version-check pip setuptools
lap total "$t"
test -f site/pip/__init__.py
`

// smallRun creates 10 000 files of 4 KiB in 100 directories, syncs once,
// stats them all (listing each directory) and deletes them, in Python,
// timing each phase with its monotonic clock.
const smallRun = `python3 - <<'EOF'
import os, time
N, D, data = 10000, 100, b"x" * 4096
def lap(name, t):
    print("@phase %s %d" % (name, time.monotonic_ns() - t), flush=True)
t = time.monotonic_ns()
for d in range(D):
    os.mkdir("d%02d" % d)
for i in range(N):
    fd = os.open("d%02d/f%05d" % (i % D, i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, data)
    os.close(fd)
lap("create", t)
t = time.monotonic_ns()
os.sync()
lap("sync", t)
t = time.monotonic_ns()
n = 0
for d in range(D):
    with os.scandir("d%02d" % d) as it:
        for e in it:
            n += e.stat(follow_symlinks=False).st_size == 4096
lap("stat", t)
assert n == N, n
t = time.monotonic_ns()
for i in range(N):
    os.unlink("d%02d/f%05d" % (i % D, i))
for d in range(D):
    os.rmdir("d%02d" % d)
lap("delete", t)
EOF
`

// fsyncRun writes 1 000 files of 4 KiB, each fsynced before it is closed,
// as a database or a package manager that keeps its promises does.
const fsyncRun = `python3 - <<'EOF'
import os, time
data = b"x" * 4096
t = time.monotonic_ns()
for i in range(1000):
    fd = os.open("f%04d" % i, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, data)
    os.fsync(fd)
    os.close(fd)
print("@phase total %d" % (time.monotonic_ns() - t), flush=True)
EOF
`

// unavailable is what a failed prepare of w on a system means.
func (w workload) unavailable(err error) string {
	if w.offline != "" {
		return "N/A: " + w.offline + ": " + report.OneLine(err.Error())
	}
	return "failed to prepare: " + report.OneLine(err.Error())
}

// parsePhases reads the "@phase NAME NANOSECONDS" lines of a run's
// output, in order; other lines are ignored. A run must time something.
func parsePhases(out string) ([]stats.Phase, error) {
	var ph []stats.Phase
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "@phase" {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("malformed phase line %q", line)
		}
		ns, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || ns < 0 {
			return nil, fmt.Errorf("malformed phase line %q", line)
		}
		ph = append(ph, stats.Phase{Name: f[1], D: time.Duration(ns)})
	}
	if len(ph) == 0 {
		return nil, fmt.Errorf("the run timed nothing; its output: %q", report.OneLine(out))
	}
	return ph, nil
}

// total is the sum of a run's phases.
func total(ph []stats.Phase) time.Duration {
	var d time.Duration
	for _, p := range ph {
		d += p.D
	}
	return d
}

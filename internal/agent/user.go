package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/runtools/runtools/internal/errdefs"
)

// user is who a process runs as, resolved from the sandbox's own
// /etc/passwd and /etc/group (the agent has no cgo, so no NSS).
type user struct {
	Name   string
	UID    uint32
	GID    uint32
	Groups []uint32 // supplementary groups, including GID
	Home   string
	Shell  string
}

// userDB names the account files to read. With caches set, each file is
// parsed again when it changes (checked at most once per cacheTTL), so
// edits inside the sandbox (useradd) apply to the execs that follow.
type userDB struct {
	passwd  string
	group   string
	passwdC *cached[[]passwdEntry]
	groupC  *cached[[]groupEntry]
}

type passwdEntry struct {
	name        string
	uid, gid    uint32
	home, shell string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// lookup resolves spec: "" or "root", a user name, a numeric uid, or
// user:group where either side is a name or a number. A numeric uid that
// has no passwd entry runs with gid = uid (unless a group is given),
// HOME=/ and SHELL=/bin/sh. Unknown names are ErrInvalidArgument.
func (db userDB) lookup(spec string) (*user, error) {
	if spec == "" {
		spec = "root"
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" || (hasGroup && groupPart == "") {
		return nil, fmt.Errorf("%w: malformed user %q", errdefs.ErrInvalidArgument, spec)
	}
	u, pw, err := db.lookupUser(userPart)
	if err != nil {
		return nil, err
	}
	groups, err := db.groupC.get(db.group, readGroup)
	if err != nil {
		return nil, err
	}
	if hasGroup {
		if u.GID, err = groupID(groups, groupPart); err != nil {
			return nil, err
		}
	}
	u.Groups = []uint32{u.GID}
	if pw != nil {
		for _, g := range groups {
			if slices.Contains(g.members, pw.name) && !slices.Contains(u.Groups, g.gid) {
				u.Groups = append(u.Groups, g.gid)
			}
		}
	}
	return u, nil
}

// lookupUser resolves the user part of a spec, a name or a numeric uid,
// and returns its passwd entry too: nil for a uid that has none.
func (db userDB) lookupUser(spec string) (*user, *passwdEntry, error) {
	users, err := db.passwdC.get(db.passwd, readPasswd)
	if err != nil {
		return nil, nil, err
	}
	u := &user{Home: "/", Shell: "/bin/sh"}
	var pw *passwdEntry
	if id, ok := parseID(spec); ok {
		u.UID, u.GID, u.Name = id, id, spec
		if i := slices.IndexFunc(users, func(e passwdEntry) bool { return e.uid == id }); i >= 0 {
			pw = &users[i]
		}
	} else {
		if i := slices.IndexFunc(users, func(e passwdEntry) bool { return e.name == spec }); i >= 0 {
			pw = &users[i]
		}
		if pw == nil {
			if spec != "root" {
				return nil, nil, fmt.Errorf("%w: unknown user %q", errdefs.ErrInvalidArgument, spec)
			}
			// A sandbox image without /etc/passwd still has root.
			pw = &passwdEntry{name: "root", home: "/root", shell: "/bin/sh"}
		}
	}
	if pw == nil {
		if u.UID == 0 {
			u.Home = "/root"
		}
		return u, nil, nil
	}
	u.Name, u.UID, u.GID = pw.name, pw.uid, pw.gid
	if pw.home != "" {
		u.Home = pw.home
	}
	if pw.shell != "" {
		u.Shell = pw.shell
	}
	return u, pw, nil
}

// groupID resolves a group, a name or a numeric gid.
func groupID(groups []groupEntry, spec string) (uint32, error) {
	if gid, ok := parseID(spec); ok {
		return gid, nil
	}
	if i := slices.IndexFunc(groups, func(g groupEntry) bool { return g.name == spec }); i >= 0 {
		return groups[i].gid, nil
	}
	return 0, fmt.Errorf("%w: unknown group %q", errdefs.ErrInvalidArgument, spec)
}

func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// readAccounts returns the entries that parse makes of the records of the
// account file at path: its colon-separated lines with at least minFields
// fields, blank lines and comments skipped. A missing file has none.
func readAccounts[T any](path string, minFields int, parse func(fields []string) (T, bool)) ([]T, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < minFields {
			continue
		}
		if e, ok := parse(f); ok {
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func readPasswd(path string) ([]passwdEntry, error) {
	return readAccounts(path, 4, func(f []string) (passwdEntry, bool) {
		uid, ok1 := parseID(f[2])
		gid, ok2 := parseID(f[3])
		e := passwdEntry{name: f[0], uid: uid, gid: gid}
		if len(f) > 5 {
			e.home = f[5]
		}
		if len(f) > 6 {
			e.shell = f[6]
		}
		return e, ok1 && ok2
	})
}

func readGroup(path string) ([]groupEntry, error) {
	return readAccounts(path, 3, func(f []string) (groupEntry, bool) {
		gid, ok := parseID(f[2])
		g := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		return g, ok
	})
}

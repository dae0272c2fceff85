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
	users, err := db.passwdC.get(db.passwd, readPasswd)
	if err != nil {
		return nil, err
	}

	u := &user{Home: "/", Shell: "/bin/sh"}
	var pw *passwdEntry
	if id, ok := parseID(userPart); ok {
		u.UID, u.GID, u.Name = id, id, userPart
		for i := range users {
			if users[i].uid == id {
				pw = &users[i]
				break
			}
		}
	} else {
		for i := range users {
			if users[i].name == userPart {
				pw = &users[i]
				break
			}
		}
		if pw == nil {
			if userPart != "root" {
				return nil, fmt.Errorf("%w: unknown user %q", errdefs.ErrInvalidArgument, userPart)
			}
			// A sandbox image without /etc/passwd still has root.
			pw = &passwdEntry{name: "root", home: "/root", shell: "/bin/sh"}
		}
	}
	if pw != nil {
		u.Name, u.UID, u.GID = pw.name, pw.uid, pw.gid
		if pw.home != "" {
			u.Home = pw.home
		}
		if pw.shell != "" {
			u.Shell = pw.shell
		}
	}
	if u.UID == 0 && pw == nil {
		u.Home = "/root"
	}

	groups, err := db.groupC.get(db.group, readGroup)
	if err != nil {
		return nil, err
	}
	if hasGroup {
		gid, ok := parseID(groupPart)
		if !ok {
			found := false
			for _, g := range groups {
				if g.name == groupPart {
					gid, found = g.gid, true
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("%w: unknown group %q", errdefs.ErrInvalidArgument, groupPart)
			}
		}
		u.GID = gid
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

func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// readAccountFile returns the colon-separated records of path, skipping
// blank lines and comments. A missing file has no records.
func readAccountFile(path string, minFields int) ([][]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var recs [][]string
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
		recs = append(recs, f)
	}
	return recs, sc.Err()
}

func readPasswd(path string) ([]passwdEntry, error) {
	recs, err := readAccountFile(path, 4)
	if err != nil {
		return nil, err
	}
	var out []passwdEntry
	for _, f := range recs {
		uid, ok1 := parseID(f[2])
		gid, ok2 := parseID(f[3])
		if !ok1 || !ok2 {
			continue
		}
		e := passwdEntry{name: f[0], uid: uid, gid: gid}
		if len(f) > 5 {
			e.home = f[5]
		}
		if len(f) > 6 {
			e.shell = f[6]
		}
		out = append(out, e)
	}
	return out, nil
}

func readGroup(path string) ([]groupEntry, error) {
	recs, err := readAccountFile(path, 3)
	if err != nil {
		return nil, err
	}
	var out []groupEntry
	for _, f := range recs {
		gid, ok := parseID(f[2])
		if !ok {
			continue
		}
		g := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	}
	return out, nil
}

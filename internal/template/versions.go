package template

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Where a built rootfs records what is installed in it.
const (
	dpkgStatus     = "var/lib/dpkg/status"
	npmGlobalDir   = "usr/local/lib/node_modules"
	npmPackageFile = "package.json"
)

// installedVersions reads what a built rootfs holds: the version of every
// Debian package the recipe asked for or tracks, from dpkg's status file, and of
// every package installed globally with npm (node, npm, bun). It reads
// files only, so it runs nothing from the rootfs. Keys are "name" for
// Debian packages and "npm:name" for npm ones.
func installedVersions(rootfs string, r Recipe) (map[string]string, error) {
	debs, err := dpkgVersions(filepath.Join(rootfs, dpkgStatus))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range append(slices.Clone(r.Packages), r.Tracked...) {
		if v, ok := debs[p]; ok {
			out[p] = v
		}
	}
	npm, err := npmVersions(filepath.Join(rootfs, npmGlobalDir))
	if err != nil {
		return nil, err
	}
	for name, v := range npm {
		out["npm:"+name] = v
	}
	return out, nil
}

// dpkgVersions parses a dpkg status file into the versions of the packages
// it lists as installed.
func dpkgVersions(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading installed packages: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	var name, version, status string
	flush := func() {
		if name != "" && strings.HasSuffix(status, " installed") {
			out[name] = version
		}
		name, version, status = "", "", ""
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		key, value, ok := strings.Cut(line, ": ")
		if !ok {
			continue // continuation lines of long fields
		}
		switch key {
		case "Package":
			name = value
		case "Version":
			version = value
		case "Status":
			status = value
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}

// npmVersions reads the version of each package under a global
// node_modules directory, scoped ones (@scope/name) included.
func npmVersions(dir string) (map[string]string, error) {
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading npm packages: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "@") {
			names = append(names, e.Name())
			continue
		}
		scoped, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading npm packages: %w", err)
		}
		for _, s := range scoped {
			names = append(names, e.Name()+"/"+s.Name())
		}
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name, npmPackageFile))
		if err != nil {
			continue // not a package (.bin, a broken install)
		}
		var pkg struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(b, &pkg) == nil && pkg.Version != "" {
			out[name] = pkg.Version
		}
	}
	return out, nil
}

// KeyVersions renders the versions of the template's tracked packages on
// one line, e.g. "firefox-esr 153.8.0esr-1~deb12u1, chromium 156.0.8078.73-1":
// what a build or a test run says it ran against.
func (i Info) KeyVersions() string {
	var parts []string
	for _, p := range i.Tracked {
		if v, ok := i.Packages[p]; ok {
			parts = append(parts, strings.TrimPrefix(p, "npm:")+" "+v)
		}
	}
	return strings.Join(parts, ", ")
}

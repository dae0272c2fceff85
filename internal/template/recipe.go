package template

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"

	"github.com/runtools/runtools/internal/errdefs"
)

// formatVersion is part of every recipe hash. Bump it when the builder
// changes what it puts into a root filesystem (host trust setup,
// finalization, what meta.json records), so that every template is
// rebuilt. 2: meta.json records the installed package versions.
const formatVersion = 2

// Recipe describes how to build one template.
type Recipe struct {
	// Name is the canonical name, e.g. "base".
	Name string
	// Aliases are other names accepted for the template.
	Aliases []string
	// Description is shown by `runtools template list`.
	Description string

	// Suite is the Debian suite given to mmdebstrap, e.g. "bookworm".
	Suite string
	// Variant is mmdebstrap's --variant, e.g. "minbase".
	Variant string
	// Packages are installed by mmdebstrap (--include).
	Packages []string
	// DpkgOptions are passed as --dpkgopt (e.g. path-exclude rules).
	DpkgOptions []string
	// Steps run in order in the chroot after bootstrapping, with the host's
	// CA certificates and npm configuration already in place.
	Steps []Step

	// What sandboxes of the template get, none of which changes the bits:
	// MemoryMB is their default memory (0: the server's default), Ports
	// are exposed through the dev-server URLs on top of the defaults, and
	// Desktop says they run the desktop's services (VNC on DesktopVNCPort).
	MemoryMB int
	Ports    []int
	Desktop  bool

	// Dockerfile, when set, builds the template from a Dockerfile with the
	// custom-template machinery (Config.Dockerfile) in place of Debian's
	// bootstrap and steps.
	Dockerfile *Dockerfile

	// Tracked names the packages whose versions a build reports on one
	// line ("npm:name" for npm packages), e.g. the desktop's browsers:
	// the archive moves, and a test run says what it ran against.
	Tracked []string
}

// Dockerfile is a build context holding a Dockerfile whose FROM is the
// built-in template From.
type Dockerfile struct {
	From    string
	Context fs.FS
	// parent is the identity of From's current build, filled in by the
	// Manager: a new base makes a new build of the template.
	parent string
}

// digest is the sha256 of every file of the context, with its name.
func (d *Dockerfile) digest() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(d.Context, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(d.Context, p)
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// Step is one shell script run with `sh -eu` inside the chroot.
type Step struct {
	// Name is the progress label, e.g. "installing Node.js 22".
	Name string
	// Script is the shell script.
	Script string
}

// Hash returns the hex sha256 over everything that changes the built bits
// (suite, variant, packages, dpkg options, steps) and formatVersion. The
// description and aliases are left out: editing them needs no rebuild.
func (r Recipe) Hash() string {
	content := struct {
		Format      int      `json:"format"`
		Name        string   `json:"name"`
		Suite       string   `json:"suite"`
		Variant     string   `json:"variant"`
		Packages    []string `json:"packages"`
		DpkgOptions []string `json:"dpkgOptions"`
		Steps       []Step   `json:"steps"`
		Dockerfile  string   `json:"dockerfile,omitempty"`
	}{formatVersion, r.Name, r.Suite, r.Variant, r.Packages, r.DpkgOptions, r.Steps, ""}
	if d := r.Dockerfile; d != nil {
		sum, err := d.digest()
		if err != nil {
			panic(fmt.Sprintf("template: reading the build context of %q: %v", r.Name, err))
		}
		content.Dockerfile = d.From + "@" + d.parent + "/" + sum
	}
	b, err := json.Marshal(content)
	if err != nil {
		// Only strings and slices of strings: cannot happen.
		panic(fmt.Sprintf("template: hashing recipe %q: %v", r.Name, err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// validateRecipes checks names and aliases are well formed and unique.
func validateRecipes(recipes []Recipe) error {
	seen := map[string]string{}
	for _, r := range recipes {
		for _, n := range append([]string{r.Name}, r.Aliases...) {
			if !namePattern.MatchString(n) {
				return fmt.Errorf("template name %q: must match %s: %w", n, namePattern, errdefs.ErrInvalidArgument)
			}
			if other, ok := seen[n]; ok {
				return fmt.Errorf("template name %q used by both %q and %q: %w", n, other, r.Name, errdefs.ErrInvalidArgument)
			}
			seen[n] = r.Name
		}
		if len(r.Packages) > 0 && r.Suite == "" {
			return fmt.Errorf("template %q: packages without a suite: %w", r.Name, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

package template

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/runtools/runtools/internal/atomicfile"
)

// A template's generation counts its forced rebuilds (Rebuild). Debian's
// archive moves under an unchanged recipe, so a build from the same recipe
// a month later holds other versions: a forced rebuild makes a new build
// directory beside the old one, which stays until Prune finds it unused,
// so a sandbox running on the old build keeps its root filesystem.

func (m *Manager) generationPath(name string) string {
	return filepath.Join(m.dir, name+".generation")
}

// generation returns how many times name was rebuilt by force: 0 when it
// never was.
func (m *Manager) generation(name string) int {
	b, err := os.ReadFile(m.generationPath(name))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			m.log.Warn("reading template generation", "template", name, "err", err)
		}
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 {
		m.log.Warn("ignoring a bad template generation", "template", name, "content", string(b))
		return 0
	}
	return n
}

// setGeneration records name's generation once its build is in place.
func (m *Manager) setGeneration(name string, gen int) error {
	if err := atomicfile.WriteFile(m.generationPath(name), []byte(strconv.Itoa(gen)+"\n"), 0o644); err != nil {
		return fmt.Errorf("recording the generation of template %q: %w", name, err)
	}
	return nil
}

// hashAt returns the identity of r's build at generation gen: the recipe's
// own hash at 0, so that caches made before generations existed stay valid.
func hashAt(r Recipe, gen int) string {
	h := r.Hash()
	if gen == 0 {
		return h
	}
	sum := sha256.Sum256([]byte(h + "/" + strconv.Itoa(gen)))
	return hex.EncodeToString(sum[:])
}

// currentHash returns the identity of r's current build.
func (m *Manager) currentHash(r Recipe) string {
	return hashAt(r, m.generation(r.Name))
}

package template

import (
	"errors"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
)

func TestRecipeHash(t *testing.T) {
	base := baseRecipe()
	h := base.Hash()
	if len(h) != 64 || h != baseRecipe().Hash() {
		t.Fatalf("hash not stable: %q vs %q", h, baseRecipe().Hash())
	}
	changes := map[string]func(*Recipe){
		"package":    func(r *Recipe) { r.Packages = append(r.Packages, "htop") },
		"step":       func(r *Recipe) { r.Steps[0].Script += "\ntrue" },
		"step name":  func(r *Recipe) { r.Steps[0].Name = "x" },
		"suite":      func(r *Recipe) { r.Suite = "trixie" },
		"variant":    func(r *Recipe) { r.Variant = "apt" },
		"dpkg opts":  func(r *Recipe) { r.DpkgOptions = nil },
		"name":       func(r *Recipe) { r.Name = "other" },
		"step order": func(r *Recipe) { r.Steps[0], r.Steps[1] = r.Steps[1], r.Steps[0] },
	}
	for what, change := range changes {
		r := baseRecipe()
		change(&r)
		if r.Hash() == h {
			t.Errorf("changing the %s did not change the hash", what)
		}
	}
	r := baseRecipe()
	r.Description = "something else"
	r.Aliases = nil
	if r.Hash() != h {
		t.Errorf("description or aliases changed the hash")
	}
}

func TestBuiltinRecipesValid(t *testing.T) {
	if err := validateRecipes(Builtin()); err != nil {
		t.Fatal(err)
	}
	bad := append(Builtin(), Recipe{Name: "other", Aliases: []string{"base-ubuntu"}})
	if err := validateRecipes(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("duplicate alias: got %v", err)
	}
	if err := validateRecipes([]Recipe{{Name: "Bad_Name"}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("bad name: got %v", err)
	}
}

package sandbox

import (
	"os"
	"path/filepath"
	"testing"
)

// A seal interrupted by a crash may leave a manifest or its temporary file
// in the image; sealing again must not list them as image files.
func TestSealAfterInterruptedSeal(t *testing.T) {
	dir := t.TempDir()
	tmp, final := filepath.Join(dir, "pause.tmp"), filepath.Join(dir, "pause")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"checkpoint.img":      "pages",
		manifestName + ".tmp": `{"files":{}}`,
		manifestName:          `{"files":{"gone":{"size":1}}}`,
	} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	size, err := sealImage(tmp, final)
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(len("pages")) {
		t.Errorf("image size %d, want %d", size, len("pages"))
	}
	if err := verifyImage(final); err != nil {
		t.Errorf("the resealed image does not verify: %v", err)
	}
}

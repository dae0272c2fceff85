package cli

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/runtools/runtools/internal/tartest"
)

// FuzzExtractTar extracts an archive from a sandbox, written as a tartest
// spec, into a local destination that holds symlinks and a hard link to a
// directory next to it: a sandbox is not trusted, and whatever its archive
// holds, the extraction must not panic and must leave everything outside
// the destination as it was. rename picks no renaming, or downloadTree's
// into the destination's own name or its content only.
func FuzzExtractTar(f *testing.F) {
	for _, seed := range []string{
		"d proj/\nf proj/a.txt\nl proj/link -> a.txt\nh proj/hard -> proj/a.txt\nd700 proj/private/",
		"f proj/../../evil\nf ../evil\nf /abs-evil\nf proj/%2e%2e/evil\nf proj/..\\evil",
		"l proj -> ../outside\nf proj/pwned\nl proj/x -> /tmp\nf proj/x/pwned",
		"f abs-dir/pwned\nf rel-dir/pwned\nf file-link\nf up/pwned\nf sub/deep-link/pwned\nf hard",
		"d000 proj/\nf proj/x\nd4755 proj\nf6777 proj/setuid",
		"h proj/x -> ../outside/victim\nh proj/y -> hard\nf proj/y\nd abs-dir",
		"l proj/loop -> loop\nf proj/loop/x\nc proj/dev\nf proj/é/ü\nf proj/\nd proj/.",
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(1))
	}
	f.Fuzz(func(t *testing.T, spec string, rename uint8) {
		e := tartest.NewEscape(t)
		var fn func(string) (string, error)
		switch rename % 3 {
		case 1:
			fn = underBase("/root/proj", "proj", "proj")
		case 2:
			fn = underBase("/root/proj", "proj", ".")
		}
		_ = extractTar(bytes.NewReader(tartest.FromSpec(spec)), e.Dst, fn, &copyStats{}, func(string) {})
		e.Check(t, "archive "+strconv.Quote(spec))
	})
}

package agent

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/tartest"
)

// FuzzWriteArchive extracts an archive, written as a tartest spec, into a
// destination that holds symlinks and a hard link to a directory next to
// it. Whatever the archive, the handler must not panic, must answer 204
// or a 4xx error, and must leave everything outside the destination as
// it was.
func FuzzWriteArchive(f *testing.F) {
	for _, seed := range []string{
		"d ./\nd proj/\nf proj/a.txt\nl proj/link -> a.txt\nh proj/hard -> proj/a.txt\nd700 proj/private/",
		"f ../evil\nf a/../../evil\nf /abs-evil\nf %2e%2e/evil\nf ..\\evil",
		"l planted -> /tmp\nf planted/pwned\nl rel -> ../outside\nf rel/pwned",
		"f abs-dir/pwned\nf rel-dir/pwned\nf file-link\nf up/pwned\nf sub/deep-link/pwned\nf hard",
		"d000 sub/\nf sub/x\nd4755 .\nf6777 setuid",
		"h x -> ../outside/victim\nh y -> hard\nf y\nh z -> file-link\nd abs-dir",
		"l loop -> loop\nf loop/x\nl a -> b\nl b -> a\nf a/x",
		"c dev\nf \x00nul\nf é/ü\nf \nd .\nf ./.",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		e := tartest.NewEscape(t)
		req := httptest.NewRequest(http.MethodPut, "/files/archive?path="+url.QueryEscape(e.Dst), bytes.NewReader(tartest.FromSpec(spec)))
		rec := httptest.NewRecorder()
		fallible((&Server{}).handleWriteArchive).ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			var body agentapi.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code < 400 || rec.Code > 499 {
				t.Fatalf("archive %q: status %d: %s", spec, rec.Code, rec.Body.Bytes())
			}
		}
		e.Check(t, "archive "+strconv.Quote(spec))
	})
}

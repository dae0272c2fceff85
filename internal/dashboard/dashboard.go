// Package dashboard serves the web dashboard, the single-page app built
// from web/ by `make dashboard` and committed in dist/, which the binary
// embeds. Its files hold no data: the page asks the API for everything,
// with the key the user types in.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed dist
var dist embed.FS

// csp keeps the page to its own scripts and the API (its WebSockets, the
// terminal's and the desktop's, included), and to no frames.
const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Owns reports whether the dashboard serves path: the page and its assets.
func Owns(path string) bool {
	return path == "/" || path == "/index.html" || strings.HasPrefix(path, "/assets/")
}

// Handler serves the dashboard's files.
func Handler() http.Handler {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embedded tree always has dist
	}
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
}

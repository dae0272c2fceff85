package proxy

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// page writes the proxy's own answer: a small HTML page when the client
// prefers HTML (a browser), else one line of plain text. Text in backquotes
// is a command and shows as code.
func (p *Proxy) page(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if !prefersHTML(r.Header.Values("Accept")) {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s: %s\n", title, msg)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, pageHTML, title, title, codeSpans(html.EscapeString(msg)))
}

const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}
footer{margin-top:2rem;color:#777;font-size:.85rem}</style></head>
<body><h1>%s</h1><p>%s</p><footer>runtools sandbox proxy</footer></body></html>
`

// codeSpans turns `text` into <code>text</code> in escaped HTML.
func codeSpans(s string) string {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 { // an unpaired backquote: leave it be
		return s
	}
	var b strings.Builder
	for i, part := range parts {
		if i%2 == 1 {
			b.WriteString("<code>" + part + "</code>")
		} else {
			b.WriteString(part)
		}
	}
	return b.String()
}

// prefersHTML reports whether the Accept header ranks text/html above
// text/plain. "*/*" alone (curl) gets plain text.
func prefersHTML(accept []string) bool {
	htmlQ, plainQ := -1.0, -1.0
	for _, line := range accept {
		for item := range strings.SplitSeq(line, ",") {
			mediaType, params, _ := strings.Cut(item, ";")
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
				if strings.EqualFold(k, "q") {
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(mediaType)) {
			case "text/html":
				htmlQ = max(htmlQ, q)
			case "text/plain":
				plainQ = max(plainQ, q)
			}
		}
	}
	return htmlQ > 0 && htmlQ >= plainQ
}

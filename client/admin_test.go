package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Each progress line stands alone: a field one line sets must not show up
// in the next line that omits it.
func TestBuildTemplateProgressLinesStandAlone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = w.Write([]byte(`{"template":"base","step":"installing","detail":"Node.js 22","elapsed_ms":1000}` + "\n" +
			`{"template":"base","step":"done","elapsed_ms":2000,"done":true}` + "\n"))
	}))
	defer srv.Close()
	c, err := New(srv.URL, "k")
	if err != nil {
		t.Fatal(err)
	}
	var got []TemplateProgress
	if err := c.BuildTemplate(context.Background(), "base", func(p TemplateProgress) { got = append(got, p) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Detail != "" || !got[1].Done {
		t.Fatalf("progress = %+v", got)
	}
}

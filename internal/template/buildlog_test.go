package template

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestBuildLogLines(t *testing.T) {
	var got []string
	b := newBuildLog("t", func(p Progress) {
		if p.Detail != "" {
			got = append(got, p.Step+"|"+p.Detail)
		}
	})
	b.Step("one")
	fmt.Fprint(b, "I: a\nI: b")
	fmt.Fprint(b, "c\r\n\nprogress 1\rprogress 2\r")
	b.Step("two")
	fmt.Fprint(b, "tail without newline")
	err := b.fail(errors.New("boom"))
	want := []string{"one|I: a", "one|I: bc", "one|progress 1", "one|progress 2", "two|tail without newline"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("lines %q, want %q", got, want)
	}
	if !strings.HasPrefix(err.Error(), "two: boom; last output:\nI: a\n") {
		t.Fatalf("error %q", err)
	}
}

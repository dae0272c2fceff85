package interp

import (
	"strings"
	"testing"

	"github.com/runtools/runtools/client"
)

func relayAll(t *testing.T, in string) ([]client.CodeEvent, error) {
	t.Helper()
	var got []client.CodeEvent
	err := relay(strings.NewReader(in), func(ev client.CodeEvent) error { got = append(got, ev); return nil })
	return got, err
}

func TestRelayPassesTheWireOnly(t *testing.T) {
	got, err := relayAll(t, `{"type":"stdout","text":"hi\n","extra":1}
{"type":"bogus","text":"dropped"}
{"type":"result","result":{"is_main":true,"text":"2","png":"iVBOR"}}
{"type":"end","execution_count":3}
{"type":"stdout","text":"after the end"}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Text != "hi\n" || got[1].Result.PNG != "iVBOR" || got[2].ExecutionCount != 3 {
		t.Fatalf("got %+v", got)
	}
}

func TestRelayCutsOutput(t *testing.T) {
	line := `{"type":"stdout","text":"` + strings.Repeat("x", 1<<20) + `"}` + "\n"
	got, err := relayAll(t, strings.Repeat(line, 10)+`{"type":"stderr","text":"more"}`+"\n"+`{"type":"end"}`+"\n")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, ev := range got[:len(got)-1] {
		total += len(ev.Text)
	}
	last := got[len(got)-2]
	if total > MaxOutput+200 || !strings.Contains(last.Text, "[output cut") || got[len(got)-1].Type != client.CodeEventEnd {
		t.Fatalf("%d bytes of output in %d events; the last: %.80q", total, len(got), last.Text)
	}
}

func TestRelayWithoutEndIsAnError(t *testing.T) {
	if _, err := relayAll(t, `{"type":"stdout","text":"hi"}`+"\n"); err == nil || !strings.Contains(err.Error(), "stopped answering") {
		t.Fatalf("err = %v", err)
	}
	if _, err := relayAll(t, "not json\n"); err == nil {
		t.Fatal("a malformed event passed")
	}
}

func TestCheckRequest(t *testing.T) {
	for _, req := range []client.RunCodeRequest{{Language: "ruby"}, {Context: "../x"}, {TimeoutMS: -1}} {
		if CheckRequest(req) == nil {
			t.Errorf("%+v passed", req)
		}
	}
	if err := CheckRequest(client.RunCodeRequest{Language: "javascript", Context: "ctx-abc123"}); err != nil {
		t.Error(err)
	}
}

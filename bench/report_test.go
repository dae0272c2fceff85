package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// TestReportGolden renders whole reports from made-up numbers and
// compares them with testdata/*.md: the full run, and runs that take the
// templates' other branches. After a deliberate change to the report,
// run `go test ./bench -run TestReportGolden -update` and read the diff.
func TestReportGolden(t *testing.T) {
	for name, f := range map[string]func() *fixture{
		"full": fullFixture, "partial": partialFixture, "compare": compareFixture, "skipped": skippedFixture,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := f().markdown()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".md")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("the %s report differs from %s; rerun with -update and read the diff", name, golden)
			}
		})
	}
}

// update is TestReportGolden's -update.
var update = flag.Bool("update", false, "rewrite the golden reports in testdata")

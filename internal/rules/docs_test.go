package rules

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md from the registry")

// TestRulesDoc fails when docs/rules.md drifts from the registry; run with
// -update to regenerate it.
func TestRulesDoc(t *testing.T) {
	path := filepath.Join(repoRoot(t), "docs", "rules.md")
	want := Markdown(testRegistry(t).Rules())
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/rules -run TestRulesDoc -update)", err)
	}
	if string(got) != want {
		t.Errorf("docs/rules.md is out of date: run go test ./internal/rules -run TestRulesDoc -update")
	}
}

package plugin

import (
	"path/filepath"
	"strings"
	"testing"
)

// kustomize's warnings (deprecated fields, log messages) are -v notes on
// standard error, each once per kustomization file even when several
// overlays include it; without -v they are not printed, and never on
// standard output.
func TestLintVerboseKustomizeNotes(t *testing.T) {
	dir, err := filepath.Abs("../testdata/render/kustomize-deprecated")
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, dir, "", nil, "lint", "-v", ".")
	if code == 2 {
		t.Fatalf("exit 2:\n%s", stderr)
	}
	for note, want := range map[string]int{
		"base/kustomization.yaml:8: note: kustomize: 'commonLabels' is deprecated.":                  1,
		"overlays/a/kustomization.yaml:4: note: kustomize: 'bases' is deprecated.":                   1,
		"overlays/b/kustomization.yaml:6: note: kustomize: 'patchesStrategicMerge' is deprecated.":   1,
		"overlays/b/kustomization.yaml: note: kustomize: well-defined vars that were never replaced": 1,
	} {
		if got := strings.Count(stderr, note); got != want {
			t.Errorf("stderr has %q %d times, want %d:\n%s", note, got, want, stderr)
		}
	}
	if strings.Contains(stdout, "note: kustomize") || strings.Contains(stdout, "# Warning") {
		t.Errorf("a note reached standard output:\n%s", stdout)
	}
	_, quiet, _ := run(t, dir, "", nil, "lint", ".")
	if strings.Contains(quiet, "note: kustomize") || strings.Contains(quiet, "# Warning") {
		t.Errorf("notes printed without -v:\n%s", quiet)
	}
}

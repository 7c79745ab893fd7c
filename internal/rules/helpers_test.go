package rules

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// repoRoot is the module root, found from this file's location.
func repoRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate test file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func testRegistry(t testing.TB) *engine.Registry {
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// lint loads paths (relative to the repo root or absolute) and runs every
// rule on them as one set. Input errors fail the test unless allowErrors.
func lint(t testing.TB, reg *engine.Registry, s engine.Settings, disabled map[string]bool, paths ...string) ([]engine.Raw, []finding.InputError) {
	t.Helper()
	root := repoRoot(t)
	abs := make([]string, len(paths))
	for i, p := range paths {
		if filepath.IsAbs(p) {
			abs[i] = p
		} else {
			abs[i] = filepath.Join(root, p)
		}
	}
	res := manifest.LoadPaths(abs, manifest.Options{BaseDir: root, Workers: 1})
	e := &engine.Engine{Registry: reg, Settings: s, Disabled: disabled, Workers: 1}
	raws, errs := e.Run(res.Objects)
	raws, _ = engine.Pipeline(raws, engine.Sort{})
	return raws, append(res.Errors, errs...)
}

// ruleTags maps rule IDs to their tag sets.
func ruleTags(reg *engine.Registry) map[string]map[string]bool {
	m := map[string]map[string]bool{}
	for _, r := range reg.Rules() {
		tags := map[string]bool{}
		for _, t := range r.Tags {
			tags[t] = true
		}
		m[r.ID] = tags
	}
	return m
}

func testSettings() engine.Settings { return engine.Settings{} }

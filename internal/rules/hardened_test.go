package rules

import (
	"path/filepath"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// TestHardenedExample: a manifest set that follows every recommendation
// must not get a finding at medium or above (false alarms), nor an input
// error.
func TestHardenedExample(t *testing.T) {
	if res := manifest.LoadPaths([]string{filepath.Join(repoRoot(t), "testdata", "hardened")}, manifest.Options{}); len(res.Objects) < 19 {
		t.Fatalf("hardened example: %d objects loaded", len(res.Objects))
	}
	raws, errs := lint(t, testRegistry(t), testSettings(), nil, "testdata/hardened")
	for _, e := range errs {
		t.Errorf("input error: %s", e.Error())
	}
	if len(raws) == 0 {
		return
	}
	for _, r := range raws {
		if r.Severity >= finding.Medium {
			t.Errorf("%s %s %s: %s", r.Location(), r.Severity, r.RuleID(), r.Message)
		} else {
			t.Logf("%s %s %s: %s", r.Location(), r.Severity, r.RuleID(), r.Message)
		}
	}
}

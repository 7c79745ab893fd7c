package rules

import (
	"os"
	"strings"
	"testing"
)

// TestDump prints the findings for the paths in KS_DUMP (comma-separated,
// relative to the repository root): a debugging aid, skipped otherwise.
func TestDump(t *testing.T) {
	paths := os.Getenv("KS_DUMP")
	if paths == "" {
		t.Skip("set KS_DUMP to paths to lint")
	}
	raws, errs := lint(t, testRegistry(t), testSettings(), nil, strings.Split(paths, ",")...)
	for _, r := range raws {
		t.Logf("%s %s %s: %s", r.Location(), r.Severity, r.RuleID(), r.Message)
	}
	for _, e := range errs {
		t.Logf("error: %s", e.Error())
	}
}

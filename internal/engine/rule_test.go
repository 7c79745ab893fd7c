package engine_test

import (
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

func TestRegistryRejectsBadRules(t *testing.T) {
	ok := func(id string) *engine.Rule {
		return &engine.Rule{
			RuleInfo: finding.RuleInfo{ID: id, Title: "t", Severity: finding.Low, Rationale: "r", Remediation: "m"},
			Check:    func(*engine.Context, *manifest.Object) {},
		}
	}
	noCheck := ok("no-check")
	noCheck.Check = nil
	noSeverity := ok("no-severity")
	noSeverity.Severity = finding.SeverityUnknown
	for _, tc := range []struct {
		rules []*engine.Rule
		want  string
	}{
		{[]*engine.Rule{ok("a"), ok("a")}, `rule "a" registered twice`},
		{[]*engine.Rule{ok("Not_Kebab")}, "not kebab-case"},
		{[]*engine.Rule{noCheck}, "exactly one of Check and CheckSet"},
		{[]*engine.Rule{noSeverity}, "invalid severity"},
	} {
		if _, err := engine.NewRegistry(tc.rules...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	reg, err := engine.NewRegistry(ok("b"), ok("a"))
	if err != nil || reg.Rules()[0].ID != "a" {
		t.Errorf("registry %v %v", reg, err)
	}
}

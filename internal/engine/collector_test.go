package engine_test

import (
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// Streaming objects through Visit while loading must give exactly what
// checking them afterwards gives.
func TestCollectorVisitMatchesRun(t *testing.T) {
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	e := &engine.Engine{Registry: reg}
	paths := []string{"../../testdata/engine/mixed.yaml", "../../testdata/demo"}
	res := manifest.LoadPaths(paths, manifest.Options{})
	want, wantErrs := e.Run(res.Objects)

	c := e.NewCollector()
	streamed := manifest.LoadPaths(paths, manifest.Options{Visit: c.Visit})
	got, gotErrs := c.Finish(streamed.Objects)
	if len(got) == 0 || len(got) != len(want) || len(gotErrs) != len(wantErrs) {
		t.Fatalf("streamed %d findings/%d errors, batch %d/%d", len(got), len(gotErrs), len(want), len(wantErrs))
	}
	for i := range got {
		if got[i].Finding != want[i].Finding {
			t.Errorf("finding %d differs:\n%+v\n%+v", i, got[i].Finding, want[i].Finding)
		}
	}
	for _, o := range streamed.Objects {
		if _, err := engine.DecodeWorkload(o); err == nil && o.Kind == "Deployment" && !o.Released() {
			t.Errorf("workload %s kept its node tree", o.Ref())
		}
	}
}

// A set-level rule that reads workloads without declaring it fails loudly
// instead of silently seeing nothing.
func TestSetRuleMustDeclareNeedsWorkloads(t *testing.T) {
	mk := func(needs bool) *engine.Rule {
		return &engine.Rule{
			RuleInfo: finding.RuleInfo{ID: "count-workloads", Title: "t", Severity: finding.Low, Rationale: "r", Remediation: "m"},
			CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
				for _, o := range objs {
					if w := c.Workload(o); w != nil {
						c.Reportf(o, w.SpecPath, "%d containers", len(w.Containers))
					}
				}
			},
			NeedsWorkloads: needs,
		}
	}
	for _, needs := range []bool{false, true} {
		// A run releases node trees: each run gets freshly loaded objects.
		res := manifest.LoadPaths([]string{"../../testdata/demo"}, manifest.Options{})
		reg, err := engine.NewRegistry(mk(needs))
		if err != nil {
			t.Fatal(err)
		}
		raws, errs := (&engine.Engine{Registry: reg}).Run(res.Objects)
		if needs && (len(raws) != 1 || len(errs) != 0 || raws[0].Message != "2 containers") {
			t.Errorf("NeedsWorkloads: %+v %v", raws, errs)
		}
		if !needs && (len(errs) != 1 || !strings.Contains(errs[0].Message, "does not set NeedsWorkloads")) {
			t.Errorf("undeclared: errors %v", errs)
		}
	}
}

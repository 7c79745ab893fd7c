package engine_test

import (
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// A Prepare step sees whole workloads and its notes reach CheckSet after
// the workloads were slimmed; other rules' notes stay apart.
func TestPrepareNotesReachCheckSet(t *testing.T) {
	mk := func(id string, offset int) *engine.Rule {
		return &engine.Rule{
			RuleInfo: finding.RuleInfo{ID: id, Title: "t", Severity: finding.Low, Rationale: "r", Remediation: "m"},
			Prepare: func(c *engine.Context, o *manifest.Object) {
				if w := c.Workload(); w != nil {
					c.Note(len(w.Containers) + offset)
				}
			},
			CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
				for _, o := range objs {
					if n, ok := c.Note(o).(int); ok {
						if got := len(c.Workload(o).Containers); got != 0 {
							t.Errorf("workload not slimmed: %d containers", got)
						}
						c.Reportf(o, nil, "%d", n)
					}
				}
			},
		}
	}
	reg, err := engine.NewRegistry(mk("a", 0), mk("b", 100))
	if err != nil {
		t.Fatal(err)
	}
	c := (&engine.Engine{Registry: reg}).NewCollector()
	res := manifest.LoadBytes("x.yaml", []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: a, image: nginx}, {name: b, image: redis}]
`), manifest.Options{Visit: c.Visit})
	raws, errs := c.Finish(res.Objects)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := map[string]string{}
	for _, r := range raws {
		got[r.RuleID()] = r.Message
	}
	if got["a"] != "2" || got["b"] != "102" {
		t.Errorf("notes = %v, want a:2 b:102", got)
	}
	bad := &engine.Rule{RuleInfo: finding.RuleInfo{ID: "p", Title: "t", Severity: finding.Low, Rationale: "r", Remediation: "m"},
		Check: func(*engine.Context, *manifest.Object) {}, Prepare: func(*engine.Context, *manifest.Object) {}}
	if _, err := engine.NewRegistry(bad); err == nil {
		t.Error("Prepare on a per-object rule accepted")
	}
}

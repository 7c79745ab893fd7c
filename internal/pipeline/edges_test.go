package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

var runningRule = finding.RuleInfo{ID: "running-thing", Title: "t", Severity: finding.Medium, Category: "runtime", Rationale: "r", Remediation: "m"}

// edgeSource is a Source that also knows things beyond its objects, the
// way a cluster does.
type edgeSource struct {
	Source
	edges *Edges
}

func (s edgeSource) Edges() *Edges { return s.edges }

func newEdgeSource(t *testing.T) edgeSource {
	res := manifest.LoadBytes("pod.yaml", []byte(privilegedPod), manifest.Options{})
	if len(res.Objects) != 1 {
		t.Fatal("fixture")
	}
	obj := res.Objects[0]
	return edgeSource{
		Source: SourceFunc(func(context.Context, func(*manifest.Object)) *manifest.Result { return res }),
		edges: &Edges{
			Findings:     []engine.Raw{engine.NewRaw(&runningRule, obj, manifest.ParsePath("spec"), finding.Location{}, "app", "runs something")},
			NotEvaluated: []finding.NotEvaluated{{Resource: "pods", Namespace: "other", Reason: "forbidden", Rules: []string{"privileged-container"}}},
			Uncounted:    41,
			Decorate:     func(f *finding.Finding) { f.Message += " (2 running replicas)" },
		},
	}
}

// What a source adds goes through the same processors as the engine's
// findings, and its coverage and counts reach the summary.
func TestRunEdgeSource(t *testing.T) {
	p := newPolicy(t, nil, PolicyInput{ExtraRules: []finding.RuleInfo{runningRule}})
	out, err := Run(context.Background(), newEdgeSource(t), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := out.Result
	if ruleIDs(res)["running-thing"] != 1 || res.Summary.Objects != 42 || len(res.Summary.NotEvaluated) != 1 {
		t.Fatalf("findings %v, objects %d, not evaluated %v", ruleIDs(res), res.Summary.Objects, res.Summary.NotEvaluated)
	}
	documented := false
	for _, r := range res.Rules {
		documented = documented || r.ID == "running-thing"
	}
	for _, f := range res.Findings {
		if !strings.HasSuffix(f.Message, " (2 running replicas)") {
			t.Errorf("not decorated: %q", f.Message)
		}
	}
	if !documented {
		t.Error("the source's rule is not documented in the result")
	}

	// Disabled like any rule; an unknown ID is still an error.
	off := newPolicy(t, nil, PolicyInput{ExtraRules: []finding.RuleInfo{runningRule}, Disable: []string{"running-thing"}})
	out, err = Run(context.Background(), newEdgeSource(t), off, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ruleIDs(out.Result)["running-thing"] != 0 {
		t.Errorf("disabled source rule reported")
	}
	if _, err := NewPolicy(p.Registry, nil, PolicyInput{Disable: []string{"running-thing"}}); err == nil {
		t.Error("a source rule that was not declared was accepted")
	}
	// --enable selects source rules too.
	only := newPolicy(t, nil, PolicyInput{ExtraRules: []finding.RuleInfo{runningRule}, Enable: []string{"running-thing"}})
	out, err = Run(context.Background(), newEdgeSource(t), only, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ids := ruleIDs(out.Result); len(ids) != 1 || ids["running-thing"] != 1 {
		t.Errorf("--enable running-thing: %v", ids)
	}
}

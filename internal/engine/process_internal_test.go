package engine

import (
	"fmt"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

func TestDedupeKeepsDistinctFindingsAtOnePosition(t *testing.T) {
	rule := &finding.RuleInfo{ID: "r"}
	at := func(container, msg string, set bool) Raw {
		return Raw{Rule: rule, Message: msg, Container: container, Path: "spec.containers[0].x",
			File: "base.yaml", Line: 3, Column: 5, setLevel: set}
	}
	in := []Raw{
		at("app", "Deployment dev/dev-web …", false),
		at("app", "Deployment prod/prod-web …", false),   // the same base line through another overlay
		at("sidecar", "Deployment dev/dev-web …", false), // another container written at the same place (alias)
		at("", `namespace "dev" has no NetworkPolicy`, true),
		at("", `namespace "prod" has no NetworkPolicy`, true), // set-level: another namespace
		at("", `namespace "prod" has no NetworkPolicy`, true),
	}
	out, _ := Dedupe{}.Process(in)
	if len(out) != 4 {
		t.Fatalf("kept %d, want 4: %+v", len(out), out)
	}
}

// A long run of findings at one position takes the map path and keeps the
// same findings the pairwise path keeps.
func TestDedupeLongRun(t *testing.T) {
	rule := &finding.RuleInfo{ID: "r"}
	var in []Raw
	for i := range 100 {
		msg := fmt.Sprintf(`namespace "ns%d" has no NetworkPolicy`, i%40)
		in = append(in, Raw{Rule: rule, Message: msg, File: "f.yaml", Line: 1, Column: 1, setLevel: true})
		in = append(in, Raw{Rule: rule, Message: msg, File: "f.yaml", Line: 1, Column: 1, Container: "c", Path: "p"})
	}
	out, _ := Dedupe{}.Process(in)
	if len(out) != 41 { // 40 namespaces, and one per-object finding
		t.Fatalf("kept %d, want 41", len(out))
	}
}

// One base field reached through two overlays, one of which adds an env
// entry before it (env[0] in one, env[1] in the other), is one finding;
// two env entries of one object written by one line (a Helm range) stay
// two.
func TestDedupeIgnoresIndicesAcrossOverlays(t *testing.T) {
	rule := &finding.RuleInfo{ID: "r"}
	at := func(origin, path string) Raw {
		o := &manifest.Object{Kind: "Deployment", Name: "server", Origin: origin}
		return Raw{Rule: rule, Obj: o, Message: "m", Container: "app", Path: path, File: "base.yaml", Line: 28, Column: 17}
	}
	out, _ := Dedupe{}.Process([]Raw{
		at("kustomize a", "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef"),
		at("kustomize b", "spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef"),
	})
	if len(out) != 1 {
		t.Errorf("overlays: kept %d, want 1", len(out))
	}
	out, _ = Dedupe{}.Process([]Raw{
		at("helm chart c", "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef"),
		at("helm chart c", "spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef"),
	})
	if len(out) != 2 {
		t.Errorf("one render: kept %d, want 2", len(out))
	}
}

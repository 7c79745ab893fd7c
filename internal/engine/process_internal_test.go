package engine

import (
	"fmt"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
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

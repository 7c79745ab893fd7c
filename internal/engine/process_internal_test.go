package engine

import (
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

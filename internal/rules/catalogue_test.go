package rules

import (
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// TestCatalogueMetadata checks what every rule must document.
func TestCatalogueMetadata(t *testing.T) {
	reg := testRegistry(t)
	for _, r := range reg.Rules() {
		if r.Category == "" || r.Example == "" || len(r.References) == 0 {
			t.Errorf("%s: category, example and references are required", r.ID)
		}
		if r.Severity < finding.Low || r.Severity > finding.Critical {
			t.Errorf("%s: bad severity", r.ID)
		}
		if !strings.HasSuffix(r.Example, "\n") {
			t.Errorf("%s: example must end with a newline", r.ID)
		}
		pss := 0
		for _, tag := range r.Tags {
			if tag == "pss:baseline" || tag == "pss:restricted" {
				pss++
			}
		}
		if pss > 1 {
			t.Errorf("%s: carries both PSS level tags", r.ID)
		}
	}
	// The PSS-tagged rules are exactly the rules of the PSA controls, each
	// tagged with the level of its check.
	tab := pssTableOnce()
	want := map[string]string{}
	for _, ctrl := range pssControls() {
		for _, id := range ctrl.rules {
			want[id] = "pss:" + string(tab.level[ctrl.check])
		}
	}
	for _, r := range reg.Rules() {
		got := ""
		for _, tag := range r.Tags {
			if strings.HasPrefix(tag, "pss:") {
				got = tag
			}
		}
		if got != want[r.ID] {
			t.Errorf("%s: PSS tag %q, want %q", r.ID, got, want[r.ID])
		}
	}
	t.Logf("%d rules", len(reg.Rules()))
}

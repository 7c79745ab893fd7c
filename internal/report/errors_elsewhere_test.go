package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

func TestTextErrorsShownElsewhere(t *testing.T) {
	res := &finding.Result{Summary: finding.Summary{Files: 1, Errors: []finding.InputError{{File: "a.yaml", Line: 3, Message: "YAML syntax error: boom"}}}}
	for _, elsewhere := range []bool{false, true} {
		var b bytes.Buffer
		if err := Write(&b, "text", res, Options{ErrorsShownElsewhere: elsewhere}); err != nil {
			t.Fatal(err)
		}
		listed := strings.Contains(b.String(), "a.yaml:3: error")
		if listed == elsewhere || !strings.Contains(b.String(), "1 error") {
			t.Errorf("elsewhere=%v:\n%s", elsewhere, b.String())
		}
	}
}

// A run whose inputs could not all be read is never shown as a pass.
func TestMarkdownInputErrorsNeverPass(t *testing.T) {
	res := &finding.Result{Summary: finding.Summary{Files: 1, FailOn: finding.High, Errors: []finding.InputError{{File: "a.yaml", Line: 3, Message: "boom"}}}}
	var b bytes.Buffer
	if err := Write(&b, "markdown", res, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "✅") || !strings.Contains(b.String(), "❌ 1 input could not be read") {
		t.Errorf("markdown:\n%s", b.String())
	}
}

package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// Inputs outside the working directory ("lint ../x") and standard input
// get relative URIs in SARIF and relative files in annotations: never a
// machine's file:///… path nor an escaped <stdin>.
func TestReportPathsRelativeToWorkingDirectory(t *testing.T) {
	tmp := t.TempDir()
	work := filepath.Join(tmp, "repo", "sub")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	outside := filepath.Join(tmp, "repo", "x", "a b.yaml")
	res := &finding.Result{Findings: []finding.Finding{
		{RuleID: "r", Severity: finding.High, Message: "m", Location: finding.Location{File: outside, Line: 3, Column: 5}},
		{RuleID: "r", Severity: finding.High, Message: "m", Location: finding.Location{File: "<stdin>", Line: 7, Column: 1}},
		{RuleID: "r", Severity: finding.High, Message: "m", Location: finding.Location{File: "in/place.yaml", Line: 1, Column: 1}},
	}}
	res.Summary.Errors = []finding.InputError{{File: outside, Line: 2, Message: "bad"}}
	for format, wants := range map[string][]string{
		"sarif":  {`"uri": "../x/a%20b.yaml"`, `"uri": "stdin"`, `"uri": "in/place.yaml"`},
		"github": {"file=../x/a b.yaml,line=3", "file=stdin,line=7", "file=in/place.yaml,line=1", "file=../x/a b.yaml,line=2"},
	} {
		var b bytes.Buffer
		if err := Write(&b, format, res, Options{}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %s:\n%s", format, w, out)
			}
		}
		for _, bad := range []string{"file://", "%3Cstdin", "<stdin>", tmp} {
			if strings.Contains(out, bad) {
				t.Errorf("%s holds %s:\n%s", format, bad, out)
			}
		}
	}
	// With a source root, the same relative URIs are %SRCROOT%-based.
	var b bytes.Buffer
	if err := Write(&b, "sarif", res, Options{SrcRoot: work}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"uri": "../x/a%20b.yaml",`+"\n") && !strings.Contains(b.String(), `"uriBaseId": "%SRCROOT%"`) {
		t.Errorf("no %%SRCROOT%%-based URIs:\n%s", b.String())
	}
}

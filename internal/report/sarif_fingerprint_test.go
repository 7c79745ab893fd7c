package report

import (
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// GitHub code scanning takes results with equal partialFingerprints for
// one alert: the same rule on identically named objects in two files
// (apps/a/deploy.yaml and apps/b/deploy.yaml, both Deployment default/web)
// must not share one, while a finding that only moved lines keeps its
// own. The finding's fingerprint (JSON, baselines) stays file-free.
func TestSARIFFingerprintsIncludeTheFile(t *testing.T) {
	web := finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "web"}
	fp := finding.Fingerprint("KS001", web, "spec.template.spec.containers[app].securityContext.privileged")
	at := func(file string, line int) finding.Finding {
		return finding.Finding{
			RuleID: "KS001", Severity: finding.Critical, Message: "privileged", Object: web,
			Location: finding.Location{File: file, Line: line, Column: 5}, Fingerprint: fp,
		}
	}
	res := &finding.Result{ToolName: "kubectl-secure", Rules: fixture().Rules[:1],
		Findings: []finding.Finding{at("apps/a/deploy.yaml", 20), at("apps/b/deploy.yaml", 20)}}
	moved := &finding.Result{ToolName: "kubectl-secure", Rules: res.Rules,
		Findings: []finding.Finding{at("apps/a/deploy.yaml", 31)}}

	results := decodeSARIF(t, res, Options{}).Runs[0].Results
	a, b := results[0].PartialFingerprints[FingerprintKey], results[1].PartialFingerprints[FingerprintKey]
	if a == "" || a == b {
		t.Errorf("two files share one partial fingerprint: %v, %v", results[0].PartialFingerprints, results[1].PartialFingerprints)
	}
	if m := decodeSARIF(t, moved, Options{}).Runs[0].Results[0].PartialFingerprints[FingerprintKey]; m != a {
		t.Errorf("moving the finding within its file changed its partial fingerprint: %s → %s", a, m)
	}
	// The same with a source root: the file is named as GitHub sees it.
	withRoot := decodeSARIF(t, res, Options{SrcRoot: "/src"}).Runs[0].Results
	if withRoot[0].PartialFingerprints[FingerprintKey] != a {
		t.Errorf("a source root changed the partial fingerprint")
	}
	for _, f := range res.Findings {
		if f.Fingerprint != fp {
			t.Errorf("the finding's own fingerprint changed: %s", f.Fingerprint)
		}
	}
}

package report

import (
	"bytes"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// podSecurityResult is a scan result with a readiness table: a namespace
// that could enforce restricted today, one blocked by a pod, one already
// at restricted and one whose Namespace was not read.
func podSecurityResult() *finding.Result {
	res := clean()
	res.PodSecurity = []finding.PodSecurityNamespace{
		{Namespace: "api", Enforce: "baseline", EnforceVersion: "v1.30", Labelled: true, Pods: 4, Satisfies: "restricted"},
		{Namespace: "payments", Enforce: "restricted", EnforceVersion: "latest", Labelled: true, Pods: 2, Satisfies: "restricted"},
		{Namespace: "shop", Enforce: "privileged", EnforceVersion: "latest", Pods: 3, Satisfies: "baseline", Next: "restricted", Blockers: []finding.PodSecurityBlocker{
			{Object: finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, Controls: []string{"allowPrivilegeEscalation != false", "runAsNonRoot != true"}},
		}},
		{Namespace: "tools", Enforce: "unknown", Pods: 1, Satisfies: "privileged", Next: "baseline", Blockers: []finding.PodSecurityBlocker{
			{Object: finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "tools", Name: "debug|shell"}, Controls: []string{"host namespaces"}},
		}},
	}
	return res
}

func TestPodSecurityGolden(t *testing.T) {
	checkGolden(t, "podsecurity-text.golden", render(t, "text", podSecurityResult(), Options{}))
	checkGolden(t, "podsecurity-markdown.golden", render(t, "markdown", podSecurityResult(), Options{}))
}

func TestPodSecurityJSONSchema(t *testing.T) {
	sch := compileSchema(t, reportSchemaFile)
	out := render(t, "json", podSecurityResult(), Options{})
	if !bytes.Contains(out, []byte(`"podSecurity": [`)) {
		t.Fatalf("no podSecurity in\n%s", out)
	}
	if err := validate(t, sch, out); err != nil {
		t.Fatalf("does not validate: %v\n%s", err, out)
	}
	bad := bytes.Replace(out, []byte(`"satisfies": "baseline"`), []byte(`"satisfies": "strict"`), 1)
	if bytes.Equal(bad, out) {
		t.Fatal("satisfies not found")
	}
	if validate(t, sch, bad) == nil {
		t.Error("schema accepted an unknown level")
	}
	// Lint results have no table and no podSecurity key.
	if bytes.Contains(render(t, "json", clean(), Options{}), []byte("podSecurity")) {
		t.Error("podSecurity emitted without a table")
	}
}

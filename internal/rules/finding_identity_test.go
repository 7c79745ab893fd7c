package rules

import (
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// TestFindingIdentity pins what the engine's finding constructor derives
// from a path to the reference functions: Path is manifest.Path.String and
// Fingerprint is finding.Fingerprint of manifest.Path.Identity, which
// baselines persist.
func TestFindingIdentity(t *testing.T) {
	const doc = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx
        - name: side
          image: busybox
`
	res := manifest.LoadBytes("x.yaml", []byte(doc), manifest.Options{})
	if len(res.Objects) != 1 {
		t.Fatalf("%d objects, errors %v", len(res.Objects), res.Errors)
	}
	long := make([]string, 40)
	for i := range long {
		long[i] = "a-rather-long-key-name"
	}
	paths := []manifest.Path{
		nil,
		manifest.ParsePath("metadata.name"),
		manifest.ParsePath("spec.template.spec").Key("containers").Item(1, "side").Key("securityContext", "capabilities", "add").Item(0, "NET_RAW"),
		manifest.ParsePath("spec.template.spec").Key("containers").Item(12345, ""),
		manifest.ParsePath("spec.template.spec").Key("initContainers").Item(0, "ünïcode").Key("image"),
		manifest.Path{}.Key(long...).Item(7, "x"),
	}
	var rules []*engine.Rule
	for i, p := range paths {
		p := p
		rules = append(rules, &engine.Rule{
			RuleInfo: finding.RuleInfo{ID: "identity-" + string(rune('a'+i)), Title: "t", Rationale: "r", Remediation: "m", Severity: finding.Low},
			Check:    func(c *engine.Context, o *manifest.Object) { c.Report(p, "msg") },
		})
	}
	reg, err := engine.NewRegistry(rules...)
	if err != nil {
		t.Fatal(err)
	}
	raws, errs := (&engine.Engine{Registry: reg, Workers: 1}).Run(res.Objects)
	if len(errs) > 0 || len(raws) != len(paths) {
		t.Fatalf("%d findings, errors %v", len(raws), errs)
	}
	for i, r := range raws {
		p := paths[i]
		if r.Path != p.String() {
			t.Errorf("path %q, want %q", r.Path, p.String())
		}
		if want := finding.Fingerprint(r.RuleID(), r.Ref(), p.Identity()); r.Fingerprint() != want {
			t.Errorf("%s: fingerprint %s, want %s", p, r.Fingerprint(), want)
		}
	}
}

package rules

import (
	"os"
	"path/filepath"
	"testing"
)

// Install variants linted together (microservices-demo's kustomize/ and
// its tests/ overlays render the same base; only the tests add the
// network-policies component) each stand alone: a NetworkPolicy, quota
// or LimitRange of a variant that renders its own copy of a workload
// covers that copy, not the other variant's. A unit that holds no copy
// (a shared policies file, kubeflow's common/networkpolicies overlay)
// still covers every workload of its namespace.
func TestCoverageStaysInItsVariant(t *testing.T) {
	deploy := func(name string) string {
		return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ` + name + `
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: ` + name + `}
    spec:
      containers: [{name: app, image: "app:1.0"}]
---
`
	}
	const policies = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: q
  namespace: shop
spec:
  hard: {pods: "10"}
---
apiVersion: v1
kind: LimitRange
metadata:
  name: l
  namespace: shop
spec:
  limits: [{type: Container, default: {memory: 128Mi}}]
`
	files := map[string]string{
		"with-policies.yaml": deploy("web") + policies, // a variant with its policies
		"plain.yaml":         deploy("web"),            // the same workload without them
		"shared.yaml":        policies,                 // policies for every unit
	}
	check := func(names []string, wantIn map[string]int) {
		t.Helper()
		dir := t.TempDir()
		var paths []string
		for _, n := range names {
			p := filepath.Join(dir, n)
			if err := os.WriteFile(p, []byte(files[n]), 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
		raws, errs := lint(t, testRegistry(t), testSettings(), nil, paths...)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		got := map[string]int{}
		for _, r := range raws {
			switch r.RuleID() {
			case "namespace-missing-network-policy", "namespace-missing-resource-quota", "namespace-missing-limit-range":
				got[filepath.Base(r.Location().File)]++
			}
		}
		for n := range wantIn {
			if got[n] != wantIn[n] {
				t.Errorf("%v: %d coverage findings in %s, want %d (all: %v)", names, got[n], n, wantIn[n], got)
			}
		}
		if len(got) > len(wantIn) {
			t.Errorf("%v: coverage findings %v, want %v", names, got, wantIn)
		}
	}
	check([]string{"with-policies.yaml", "plain.yaml"}, map[string]int{"plain.yaml": 3})
	check([]string{"plain.yaml", "shared.yaml"}, map[string]int{})
	check([]string{"with-policies.yaml", "plain.yaml", "shared.yaml"}, map[string]int{})
}

package rules

// Tests of what findings say, where the fixtures only check where they are.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Namespace-level messages say which direction is open and list every
// affected workload, leaving out those that opted out.
func TestNamespaceFindingMessages(t *testing.T) {
	files := []string{
		filepath.Join("testdata", "rules", "namespace-missing-network-policy", "fail.yaml"),
		filepath.Join("testdata", "rules", "namespace-missing-network-policy", "directions.yaml"),
		filepath.Join("testdata", "rules", "namespace-missing-resource-quota", "per-workload.yaml"),
	}
	var got []string
	for _, f := range files {
		raws, errs := lint(t, testRegistry(t), testSettings(), nil, f)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, r := range raws {
			if r.RuleID() == filepath.Base(filepath.Dir(f)) {
				got = append(got, r.Message)
			}
		}
	}
	want := []string{
		`namespace "shop" has no NetworkPolicy restricting ingress and egress of Deployment worker; egress of Deployment web (no default deny)`,
		`namespace "billing" has no NetworkPolicy: ingress and egress of Job migrate unrestricted (no default deny)`,
		`namespace "shop" has no NetworkPolicy restricting ingress and egress of Deployment other; ingress of Deployment back; egress of Deployment front, Deployment cache (no default deny)`,
		`namespace "shop" has workloads but no ResourceQuota (Pod b)`,
		`namespace "billing" has workloads but no ResourceQuota (Pod d, Pod e)`,
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("messages:\n%q\nwant:\n%q", got, want)
	}
}

// run-as-non-root says what is missing when the user is already non-root.
func TestRunAsNonRootMessages(t *testing.T) {
	raws, errs := lint(t, testRegistry(t), testSettings(), nil, filepath.Join("testdata", "rules", "run-as-non-root", "uid-set.yaml"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, r := range raws {
		if r.RuleID() == "run-as-non-root" {
			got = append(got, r.Message)
		}
	}
	want := []string{
		`container "inherits" runs as user 1000 but neither it nor the pod sets runAsNonRoot: true, which the restricted Pod Security Standard requires so that the kubelet refuses to start it as root`,
		`container "own" runs as user 2000 but neither it nor the pod sets runAsNonRoot: true, which the restricted Pod Security Standard requires so that the kubelet refuses to start it as root`,
		`container "bare" runs as user 1000 but neither it nor the pod sets runAsNonRoot: true, which the restricted Pod Security Standard requires so that the kubelet refuses to start it as root`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("messages:\n%q\nwant:\n%q", got, want)
	}
}

// A workload rendered by several overlays is named once, and a service
// account written without a namespace has no "/" before its name.
func TestEscalationMessageNamesEachWorkloadOnce(t *testing.T) {
	raws, errs := lint(t, testRegistry(t), testSettings(), nil, filepath.Join("testdata", "rules", "rbac-subject-can-escalate", "overlays.yaml"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, r := range raws {
		if r.RuleID() == "rbac-subject-can-escalate" {
			got = append(got, r.Message)
		}
	}
	want := []string{
		`ServiceAccount controller (token mounted by Deployment controller) can read Secrets cluster-wide via ClusterRoleBinding controller → ClusterRole controller → rules[0] (testdata/rules/rbac-subject-can-escalate/overlays.yaml:18)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("messages:\n%q\nwant:\n%q", got, want)
	}
}

// Two install variants linted together (an ingress controller's aws/ and
// baremetal/ deploy.yaml) each define the same ClusterRole and binding: a
// binding resolves to the role of its own file, and names the workloads
// of its own file, not the other variant's.
func TestEscalationChainStaysInItsOwnFile(t *testing.T) {
	variant := func(verb, workload string) string {
		return `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ctl
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["` + verb + `"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ctl
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ctl}
subjects:
  - kind: ServiceAccount
    name: ctl
    namespace: ing
---
apiVersion: apps/v1
kind: ` + workload + `
metadata:
  name: ctl
  namespace: ing
spec:
  template:
    spec:
      serviceAccountName: ctl
      containers: [{name: app, image: "app:1.0"}]
`
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	if err := os.WriteFile(a, []byte(variant("get", "Deployment")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte(variant("list", "DaemonSet")), 0o644); err != nil {
		t.Fatal(err)
	}
	raws, errs := lint(t, testRegistry(t), testSettings(), nil, a, b)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, r := range raws {
		if r.RuleID() != "rbac-subject-can-escalate" {
			continue
		}
		own := filepath.Base(r.Location().File)
		other := map[string]string{"a.yaml": "b.yaml", "b.yaml": "a.yaml"}[own]
		if strings.Contains(r.Message, other) || strings.Contains(r.Message, "Deployment") && strings.Contains(r.Message, "DaemonSet") {
			t.Errorf("%s: %s", own, r.Message)
		}
	}
}

// host-path-sensitive names the path and what it gives: a socket matched by
// name is the sensitive path itself; a directory names what it contains.
func TestHostPathSensitiveMessages(t *testing.T) {
	raws, errs := lint(t, testRegistry(t), testSettings(), nil, filepath.Join("testdata", "rules", "host-path-sensitive", "prefixes.yaml"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, r := range raws {
		if r.RuleID() == "host-path-sensitive" {
			got = append(got, r.Message)
		}
	}
	for _, want := range []string{
		`volume "docker-sock" mounts the sensitive host path "/custom/run/docker.sock" (the container runtime socket: it starts privileged containers) into`,
	} {
		if !slices.ContainsFunc(got, func(m string) bool { return strings.HasPrefix(m, want) }) {
			t.Errorf("no message starting %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
}

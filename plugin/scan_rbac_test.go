package plugin

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// Effective RBAC on a real API server: a service account bound to
// cluster-admin and mounted by a running Deployment (critical), one that
// reads Secrets in another namespace through an aggregated ClusterRole
// (the API server alone never fills the aggregated rules in: the
// resolution does), and system:authenticated allowed to create pods. The
// API server's own bootstrap bindings are not reported.
func TestScanEffectiveRBAC(t *testing.T) {
	srv := clustertest.Shared(t)
	objs := srv.Create(t, `
apiVersion: v1
kind: Namespace
metadata: {name: rbac-ci}
---
apiVersion: v1
kind: Namespace
metadata: {name: rbac-shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: runner, namespace: rbac-ci}
spec:
  selector: {matchLabels: {app: runner}}
  template:
    metadata: {labels: {app: runner}}
    spec:
      serviceAccountName: deployer
      containers: [{name: app, image: "runner:1.0"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: rbac-ci-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: rbac-ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: rbac-monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac-test/aggregate-to-monitoring: "true"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: rbac-secret-reader
  labels: {rbac-test/aggregate-to-monitoring: "true"}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: scraper, namespace: rbac-shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rbac-monitoring}
subjects:
- {kind: ServiceAccount, name: scraper, namespace: rbac-monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: rbac-pod-maker}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: rbac-everyone-makes-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rbac-pod-maker}
subjects:
- {kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}
`)
	srv.Create(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata:
  name: runner-1
  namespace: rbac-ci
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: runner, uid: %s, controller: true}]
spec:
  serviceAccountName: deployer
  containers: [{name: app, image: "runner:1.0"}]
status:
  phase: Running
`, objs[2].GetUID()))

	kc := srv.Kubeconfig(t, clustertest.AdminUser, "")
	out, errOut, _ := run(t, "", "", nil, "scan", "-o", "json", "--no-config", "--kubeconfig", kc)
	validateReportSchema(t, []byte(out))
	var rep struct{ Findings []finding.Finding }
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	got := map[string]string{}
	sev := map[string]finding.Severity{}
	for _, f := range rep.Findings {
		if f.RuleID != "rbac-subject-can-escalate" {
			continue
		}
		key := f.Object.Kind + "/" + f.Object.Namespace + "/" + f.Object.Name
		got[key], sev[key] = f.Message, f.Severity
		if strings.HasPrefix(f.Object.Name, "system:") || f.Object.Name == "cluster-admin" {
			t.Errorf("bootstrap binding reported: %s %s", f.Object.Name, f.Message)
		}
	}
	for key, want := range map[string][]string{
		"ClusterRoleBinding//rbac-ci-admin":            {"ServiceAccount rbac-ci/deployer (token mounted by Deployment runner) can do anything (* on *) cluster-wide via ClusterRoleBinding rbac-ci-admin → ClusterRole cluster-admin → rules[0]"},
		"RoleBinding/rbac-shop/scraper":                {"ServiceAccount rbac-monitoring/scraper can read Secrets in namespace rbac-shop via RoleBinding rbac-shop/scraper → ClusterRole rbac-monitoring (aggregating ClusterRole rbac-secret-reader) → rules[0]"},
		"ClusterRoleBinding//rbac-everyone-makes-pods": {"Group system:authenticated can create pods or workloads", "cluster-wide"},
	} {
		msg, ok := got[key]
		if !ok {
			t.Errorf("no rbac-subject-can-escalate finding on %s (stderr %s)", key, errOut)
			continue
		}
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not contain %q", key, msg, w)
			}
		}
	}
	// The mounted superuser is critical, creating pods medium.
	if s := sev["ClusterRoleBinding//rbac-ci-admin"]; s != finding.Critical {
		t.Errorf("mounted cluster-admin service account: severity %s", s)
	}
	if s := sev["ClusterRoleBinding//rbac-everyone-makes-pods"]; s != finding.Medium {
		t.Errorf("create pods: severity %s", s)
	}
}

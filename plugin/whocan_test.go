package plugin

import (
	"encoding/json"
	"strings"
	"testing"
)

const whoCanRBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: {aggregate-to-monitoring: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-reader
  labels: {aggregate-to-monitoring: "true"}
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: scraper
  namespace: shop
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects:
  - kind: ServiceAccount
    name: scraper
    namespace: monitoring
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: scraper
  namespace: billing
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects:
  - kind: Group
    name: billing-oncall
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ops
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - kind: User
    name: ops@example.com
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: one-secret
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    resourceNames: ["tls"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: one-secret
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: one-secret}
subjects:
  - kind: User
    name: narrow
`

func TestWhoCanFilesText(t *testing.T) {
	dir := writeFiles(t, map[string]string{"rbac.yaml": whoCanRBAC})
	out, errOut, code := run(t, dir, "", nil, "who-can", "get", "secrets", "-n", "shop", "-f", "rbac.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 subjects (ops cluster-wide, scraper in shop; not billing's group, not the resourceNames rule):\n%s", out)
	}
	// Subjects sorted by kind: the service account first. The chain
	// points at the binding's subject and at the aggregated role's rule.
	want := "rbac.yaml:28: RoleBinding shop/scraper → ClusterRole monitoring (aggregating ClusterRole secret-reader) → rules[0] (rbac.yaml:16)"
	if !strings.Contains(lines[1], "monitoring/scraper") || !strings.Contains(lines[1], " shop ") || !strings.Contains(lines[1], want) {
		t.Errorf("scraper line: %s\nwant chain %s", lines[1], want)
	}
	if !strings.Contains(lines[2], "User") || !strings.Contains(lines[2], "ops@example.com") || !strings.Contains(lines[2], "cluster-wide") || !strings.Contains(lines[2], "rbac.yaml:48: ClusterRoleBinding ops → ClusterRole cluster-admin (built-in)") {
		t.Errorf("ops line: %s", lines[2])
	}
}

func TestWhoCanFilesJSON(t *testing.T) {
	dir := writeFiles(t, map[string]string{"rbac.yaml": whoCanRBAC})
	out, errOut, code := run(t, dir, "", nil, "who-can", "list", "secrets", "-f", "rbac.yaml", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Verb, Resource string
		Subjects       []struct {
			SubjectKind, Subject, SubjectNamespace, Scope, Role, AggregatedFrom string
			Rule                                                                int
			Binding                                                             struct{ Kind, Namespace, Name string }
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var subjects []string
	for _, s := range got.Subjects {
		subjects = append(subjects, s.SubjectKind+":"+s.Subject+"@"+s.Scope)
		if s.Subject == "billing-oncall" && (s.AggregatedFrom != "ClusterRole/secret-reader" || s.Role != "ClusterRole/monitoring" || s.Binding.Namespace != "billing") {
			t.Errorf("billing-oncall chain: %+v", s)
		}
	}
	if strings.Join(subjects, " ") != "Group:billing-oncall@billing ServiceAccount:scraper@shop User:ops@example.com@" {
		t.Errorf("subjects %v", subjects)
	}
}

func TestWhoCanErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"rbac.yaml": whoCanRBAC, "bad.yaml": "kind: [\n"})
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"who-can", "get"}, 2, "needs VERB and RESOURCE"},
		{[]string{"who-can", "get", "widgets", "-f", "rbac.yaml"}, 2, "RESOURCE.GROUP"},
		// Without -f the cluster is asked; an unreachable one is exit 2.
		{[]string{"who-can", "get", "secrets", "--server", "https://127.0.0.1:1", "--kubeconfig", "/dev/null"}, 2, "127.0.0.1:1"},
		{[]string{"who-can", "get", "secrets", "-f", "rbac.yaml", "-o", "yaml"}, 2, "text or json"},
		// A broken file is reported; the others still answer.
		{[]string{"who-can", "get", "secrets", "-f", "rbac.yaml,bad.yaml"}, 2, "bad.yaml"},
	} {
		out, errOut, code := run(t, dir, "", nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
		if strings.Contains(tc.want, "bad.yaml") && !strings.Contains(out, "ops@example.com") {
			t.Errorf("%v: no answer from the readable file:\n%s", tc.args, out)
		}
	}
	out, _, code := run(t, dir, "", nil, "who-can", "escalate", "clusterroles", "-f", "rbac.yaml")
	if code != 0 || !strings.Contains(out, "ops@example.com") {
		t.Errorf("escalate clusterroles: exit %d\n%s", code, out)
	}
	out, _, code = run(t, dir, "", nil, "who-can", "get", "certificates.cert-manager.io", "-n", "billing", "-f", "rbac.yaml")
	if code != 0 || !strings.Contains(out, "ops@example.com") || strings.Contains(out, "billing-oncall") {
		t.Errorf("CRD resource: exit %d\n%s", code, out)
	}
}

// A binding to a role that was not read is said, not silently dropped.
func TestWhoCanUnresolvedRole(t *testing.T) {
	dir := writeFiles(t, map[string]string{"rb.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs-edit, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
  - {kind: Group, name: devs}
`})
	out, _, code := run(t, dir, "", nil, "who-can", "create", "deployments", "-n", "shop", "-f", "rb.yaml")
	if code != 0 || !strings.Contains(out, "No subject can create deployments.apps in namespace shop") || !strings.Contains(out, "Unresolved: RoleBinding shop/devs-edit refers to ClusterRole/edit, which was not read") {
		t.Errorf("exit %d\n%s", code, out)
	}
	out, _, _ = run(t, dir, "", nil, "who-can", "create", "deployments", "-n", "other", "-f", "rb.yaml")
	if strings.Contains(out, "Unresolved") {
		t.Errorf("a binding of another namespace is out of scope:\n%s", out)
	}
}

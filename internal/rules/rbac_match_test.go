package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// The effective-rules API follows binding → role → rule chains, through
// aggregated ClusterRoles, with the scope of each grant.
func TestRBACServiceAccountGrants(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rbac.yaml")
	writeFile(t, file, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: view-all}
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: {agg: view}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pods-view, labels: {agg: view}}
rules:
  - {apiGroups: [""], resources: [pods], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: unrelated, labels: {agg: other}}
rules:
  - {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-view, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view-all}
subjects: [{kind: ServiceAccount, name: web}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: all-sa}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: "system:serviceaccounts:shop"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: elsewhere, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: not-in-set}
subjects: [{kind: ServiceAccount, name: web}]
`)
	res := manifest.LoadPaths([]string{file}, manifest.Options{})
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	rs := NewRBAC(res.Objects)
	grants, unresolved, direct := rs.ServiceAccountGrants("shop", "web")
	var got []string
	for _, g := range grants {
		role := "built-in"
		if g.Rule.Role != nil {
			role = g.Rule.Role.Name
		}
		got = append(got, fmt.Sprintf("%s %s → %s → %s rule %d in %q", g.Subject.Kind, g.Subject.Name, g.Binding.Obj.Name, role, g.Rule.Index, g.Namespace))
	}
	want := []string{
		`ServiceAccount web → web-view → pods-view rule 0 in "shop"`,
		`Group system:serviceaccounts:shop → all-sa → built-in rule -1 in ""`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("grants:\n%q\nwant:\n%q", got, want)
	}
	if !direct || len(unresolved) != 1 || unresolved[0].Binding.Obj.Name != "elsewhere" {
		t.Errorf("direct %v, unresolved %+v", direct, unresolved)
	}
	if !grants[1].Rule.Superuser() || grants[0].Rule.Superuser() {
		t.Errorf("superuser: %v %v", grants[0].Rule.Superuser(), grants[1].Rule.Superuser())
	}
	if ms := grants[0].Rule.Grants([]string{""}, []string{"pods"}, []string{"get", "list"}); len(ms) != 1 || ms[0].Resource != "pods" || ms[0].Verb != "get" || grants[0].Rule.Resources()[ms[0].ResourceIndex] != "pods" {
		t.Errorf("matches %+v", ms)
	}
	if ms := grants[0].Rule.Grants([]string{""}, []string{"secrets"}, []string{"get"}); len(ms) != 0 {
		t.Errorf("pods rule grants secrets: %+v", ms)
	}
	// Another namespace's accounts get nothing from these bindings.
	if g, u, d := rs.ServiceAccountGrants("other", "web"); len(g)+len(u) != 0 || d {
		t.Errorf("other namespace: %+v %+v %v", g, u, d)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

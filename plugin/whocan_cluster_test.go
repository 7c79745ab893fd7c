package plugin

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
)

// who-can against a real kube-apiserver: RBAC objects listed (nothing
// else), aggregated ClusterRoles resolved by their selectors (there is no
// controller manager to fill them in), what a limited caller may not read
// reported as not evaluated, and not a single write.
func TestWhoCanCluster(t *testing.T) {
	srv := clustertest.Start(t)
	admin := srv.Kubeconfig(t, clustertest.AdminUser, "")
	limited := srv.Kubeconfig(t, clustertest.LimitedUser, "shop")

	// Before any binding the limited user can read nothing.
	_, errOut, code := run(t, "", "", nil, "who-can", "get", "secrets", "--kubeconfig", limited)
	if code != 2 || !strings.Contains(errOut, "no RBAC object could be read") || !strings.Contains(errOut, "not evaluated: clusterroles.rbac.authorization.k8s.io") {
		t.Fatalf("limited, no permissions: exit %d\n%s", code, errOut)
	}

	srv.Create(t, `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: {aggregate-to-monitoring: "true"}
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
metadata: {name: scraper, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects:
  - {kind: ServiceAccount, name: scraper, namespace: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: rbac-reader, namespace: shop}
rules:
  - apiGroups: ["rbac.authorization.k8s.io"]
    resources: ["roles", "rolebindings"]
    verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: limited-reads-rbac, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: rbac-reader}
subjects:
  - {kind: User, name: limited}
`)

	out, errOut, code := run(t, "", "", nil, "who-can", "get", "secrets", "-n", "shop", "--kubeconfig", admin, "-o", "json")
	if code != 0 {
		t.Fatalf("admin: exit %d\n%s", code, errOut)
	}
	var got whoCanOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	found := map[string]string{}
	for _, s := range got.Subjects {
		found[s.SubjectKind+" "+s.SubjectNamespace+"/"+s.Subject] = s.Chain
	}
	if c := found["ServiceAccount monitoring/scraper"]; !strings.Contains(c, "RoleBinding shop/scraper → ClusterRole monitoring (aggregating ClusterRole secret-reader) → rules[0]") {
		t.Errorf("scraper through the aggregated role: %q\nall: %v", c, found)
	}
	if c := found["Group /system:masters"]; !strings.Contains(c, "ClusterRoleBinding cluster-admin → ClusterRole cluster-admin") {
		t.Errorf("the bootstrap cluster-admin binding: %q", c)
	}
	if len(got.NotEvaluated) != 0 {
		t.Errorf("admin could not read %v", got.NotEvaluated)
	}

	// The limited user reads shop's Roles and RoleBindings only: the
	// answer says it is incomplete and never claims nobody can.
	out, errOut, code = run(t, "", "", nil, "who-can", "list", "rolebindings", "--kubeconfig", limited)
	if code != 0 {
		t.Fatalf("limited: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "User  limited") && !strings.Contains(out, "limited") || !strings.Contains(out, "RoleBinding shop/limited-reads-rbac → Role shop/rbac-reader → rules[0]") {
		t.Errorf("limited sees its own grant:\n%s", out)
	}
	if !strings.Contains(out, "Incomplete") || !strings.Contains(errOut, "not evaluated: clusterrolebindings.rbac.authorization.k8s.io") {
		t.Errorf("limited: incompleteness not said:\n%s\n%s", out, errOut)
	}

	// Read-only: the limited user's requests are gets, lists and access
	// reviews.
	f, err := os.Open(srv.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	requests := 0
	for sc.Scan() {
		var ev struct {
			Verb       string `json:"verb"`
			User       struct{ Username string }
			ObjectRef  *struct{ Resource string }
			RequestURI string `json:"requestURI"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.User.Username != clustertest.LimitedUser {
			continue
		}
		requests++
		switch {
		case ev.Verb == "get" || ev.Verb == "list":
		case ev.Verb == "create" && ev.ObjectRef != nil && ev.ObjectRef.Resource == "selfsubjectaccessreviews":
		default:
			t.Errorf("who-can as limited made a %s request: %s", ev.Verb, ev.RequestURI)
		}
	}
	if requests == 0 {
		t.Error("no request of the limited user in the audit log")
	}
}

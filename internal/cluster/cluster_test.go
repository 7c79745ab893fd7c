package cluster_test

import (
	"context"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster"
	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
)

func TestMain(m *testing.M) { os.Exit(clustertest.Main(m)) }

func newClient(t *testing.T, srv *clustertest.Server, user string) *cluster.Client {
	t.Helper()
	c, err := cluster.New(srv.Config(user))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The admin reads everything everywhere; a user who may list pods in
// one namespace only gets that scope, and every other resource comes
// back as not read, with the server's reason.
func TestClusterAccessPlan(t *testing.T) {
	srv := clustertest.Shared(t)
	srv.Create(t, `
apiVersion: v1
kind: Namespace
metadata: {name: access-a}
---
apiVersion: v1
kind: Namespace
metadata: {name: access-b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: access-a}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: limited-pod-reader, namespace: access-a}
subjects:
- {kind: User, name: limited, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
`)
	want := []schema.GroupResource{{Resource: "pods"}, {Group: "apps", Resource: "deployments"}, {Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, {Group: "example.com", Resource: "widgets"}}
	ctx := context.Background()

	admin := &cluster.Lister{Client: newClient(t, srv, clustertest.AdminUser)}
	p, err := admin.Plan(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Read) != 3 || len(p.NotRead) != 0 || len(p.Missing) != 1 || p.Missing[0].Resource != "widgets" {
		t.Fatalf("admin plan: read %v, not read %v, missing %v", p.Read, p.NotRead, p.Missing)
	}
	for _, s := range p.Read {
		if s.Namespace != "" {
			t.Errorf("admin reads %s per namespace, want everywhere at once", s)
		}
	}

	limited := &cluster.Lister{Client: newClient(t, srv, clustertest.LimitedUser), Namespaces: cluster.Namespaces{Fallback: []string{"access-a"}}}
	p, err = limited.Plan(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Read) != 1 || p.Read[0].Resource.Resource != "pods" || p.Read[0].Namespace != "access-a" {
		t.Fatalf("limited user reads %v, want pods in access-a only", p.Read)
	}
	notRead := map[string]bool{}
	for _, n := range p.NotRead {
		notRead[n.Resource+"@"+n.Namespace] = true
		if n.Reason == "" {
			t.Errorf("%s in %q: no reason", n.Resource, n.Namespace)
		}
	}
	for _, k := range []string{"pods@*", "deployments.apps@access-a", "deployments.apps@*", "clusterroles.rbac.authorization.k8s.io@"} {
		if !notRead[k] {
			t.Errorf("not read: want %s among %v", k, notRead)
		}
	}
}

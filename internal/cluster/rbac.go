package cluster

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// RBACResources are the kinds RBAC resolution reads (who-can): nothing
// else is listed.
var RBACResources = []schema.GroupResource{
	gr("rbac.authorization.k8s.io", "clusterroles"),
	gr("rbac.authorization.k8s.io", "clusterrolebindings"),
	gr("rbac.authorization.k8s.io", "roles"),
	gr("rbac.authorization.k8s.io", "rolebindings"),
}

// ListRBAC lists the Roles, ClusterRoles and bindings the caller may read
// in ns, and says what it could not read.
func ListRBAC(ctx context.Context, c *Client, ns Namespaces) ([]*manifest.Object, []finding.NotEvaluated, error) {
	l := &Lister{Client: c, Namespaces: ns}
	plan, err := l.Plan(ctx, RBACResources)
	if err != nil {
		return nil, nil, err
	}
	var objs []*manifest.Object
	err = l.Stream(ctx, plan, func(it *Item) error {
		objs = append(objs, it.Object)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var notRead []finding.NotEvaluated
	for _, n := range plan.NotRead {
		notRead = append(notRead, finding.NotEvaluated{Resource: n.Resource, Namespace: n.Namespace, Reason: n.Reason})
	}
	return objs, notRead, nil
}

// Package cluster reads a live cluster for `kubectl secure scan`, and only
// reads it: discovery, SelfSubjectAccessReviews (what may be read), paged
// lists and gets. Objects come out as manifest.Objects, streamed page by
// page, so the engine checks them like objects from files; what could not
// be read is reported as coverage, never as "none found".
//
// The verbs it uses are get and list, plus create of
// selfsubjectaccessreviews (asking is not writing); the scan tests prove it
// from the API server's audit log.
package cluster

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes/scheme"
	authorizationv1 "k8s.io/client-go/kubernetes/typed/authorization/v1"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
)

// DefaultPageSize is the limit of each list request.
const DefaultPageSize = 500

// Client talks to one API server.
type Client struct {
	raw   rest.Interface
	disco *discovery.DiscoveryClient
	authz authorizationv1.AuthorizationV1Interface
	// PageSize is the limit of each list request (DefaultPageSize when 0).
	PageSize int64
	// Concurrency bounds parallel access reviews (8 when 0).
	Concurrency int
}

// New returns a client for cfg.
func New(cfg *rest.Config) (*Client, error) {
	c := rest.CopyConfig(cfg)
	if c.NegotiatedSerializer == nil {
		c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	}
	if c.UserAgent == "" {
		c.UserAgent = "kubectl-secure"
	}
	// Lists are paged and streamed; the defaults (5 QPS) would make a
	// large cluster wait on the client, not the server.
	if c.QPS == 0 {
		c.QPS, c.Burst = 50, 100
	}
	// A core/v1 client, used with absolute paths for every group.
	core, err := corev1.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("cluster client: %w", err)
	}
	raw := core.RESTClient()
	disco, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	authz, err := authorizationv1.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("authorization client: %w", err)
	}
	return &Client{raw: raw, disco: disco, authz: authz}, nil
}

func (c *Client) pageSize() int64 {
	if c.PageSize > 0 {
		return c.PageSize
	}
	return DefaultPageSize
}

func (c *Client) concurrency() int {
	if c.Concurrency > 0 {
		return c.Concurrency
	}
	return 8
}

// Resource is one kind the server serves, at its preferred version.
type Resource struct {
	Group, Version, Resource, Kind string
	Namespaced                     bool
}

// GroupResource returns the resource as kubectl names it: "pods",
// "deployments.apps".
func (r Resource) GroupResource() string {
	return schema.GroupResource{Group: r.Group, Resource: r.Resource}.String()
}

// APIVersion returns "v1" or "apps/v1".
func (r Resource) APIVersion() string {
	return schema.GroupVersion{Group: r.Group, Version: r.Version}.String()
}

// path is the list path of r in namespace ns ("" for all namespaces or
// cluster-scoped).
func (r Resource) path(ns string) string {
	p := "/apis/" + r.Group + "/" + r.Version
	if r.Group == "" {
		p = "/api/" + r.Version
	}
	if ns != "" && r.Namespaced {
		p += "/namespaces/" + ns
	}
	return p + "/" + r.Resource
}

// Discover resolves group/resources to what the server serves at its
// preferred versions, in the order asked; those it does not serve are
// returned as missing (an older server, an API that is not installed).
func (c *Client) Discover(ctx context.Context, want []schema.GroupResource) (found []Resource, missing []schema.GroupResource, err error) {
	lists, err := c.disco.ServerPreferredResourcesWithContext(ctx)
	if err != nil && len(lists) == 0 {
		// A partial failure (one aggregated API down) still returns the
		// rest; only nothing at all is an error.
		return nil, nil, fmt.Errorf("discovery: %w", err)
	}
	served := map[schema.GroupResource]Resource{}
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		for _, ar := range l.APIResources {
			gr := schema.GroupResource{Group: gv.Group, Resource: ar.Name}
			if _, dup := served[gr]; dup {
				continue
			}
			served[gr] = Resource{Group: gv.Group, Version: gv.Version, Resource: ar.Name, Kind: ar.Kind, Namespaced: ar.Namespaced}
		}
	}
	for _, gr := range want {
		if r, ok := served[gr]; ok {
			found = append(found, r)
		} else {
			missing = append(missing, gr)
		}
	}
	return found, missing, nil
}

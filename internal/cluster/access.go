package cluster

import (
	"context"
	"fmt"
	"sort"
	"sync"

	authv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Scope is one list to make: a resource in one namespace, or everywhere
// (Namespace "" for a namespaced resource means all namespaces).
type Scope struct {
	Resource  Resource
	Namespace string
}

// NotRead is a resource in a namespace (or "" everywhere / cluster-wide)
// that could not be read, and why.
type NotRead struct {
	Resource  string
	Namespace string
	Reason    string
}

// Namespaces selects where namespaced resources are read.
type Namespaces struct {
	// Only, when set, restricts the scan to these namespaces (-n).
	Only []string
	// Fallback is tried when the caller may neither list a resource in
	// every namespace nor list namespaces to ask one by one (typically the
	// namespace of the kubeconfig context).
	Fallback []string
}

// Access asks the server (SelfSubjectAccessReview, verb list) which
// scopes of resources the caller may read: cluster-wide first, then, for
// namespaced resources the caller may not list everywhere, namespace by
// namespace. Everything else comes back as NotRead.
func (c *Client) Access(ctx context.Context, resources []Resource, ns Namespaces) (read []Scope, notRead []NotRead, err error) {
	type ask struct {
		res Resource
		ns  string
	}
	var asks []ask
	for _, r := range resources {
		if !r.Namespaced || len(ns.Only) == 0 {
			asks = append(asks, ask{r, ""})
			continue
		}
		for _, n := range ns.Only {
			asks = append(asks, ask{r, n})
		}
	}
	answers, err := c.reviewAll(ctx, len(asks), func(i int) authv1.ResourceAttributes {
		return authv1.ResourceAttributes{Verb: "list", Group: asks[i].res.Group, Resource: asks[i].res.Resource, Namespace: asks[i].ns}
	})
	if err != nil {
		return nil, nil, err
	}
	// Namespaced resources the caller may not list everywhere: ask per
	// namespace, if the namespaces can be listed at all.
	var partial []Resource
	for i, a := range asks {
		switch {
		case answers[i].allowed:
			read = append(read, Scope{Resource: a.res, Namespace: a.ns})
		case a.res.Namespaced && a.ns == "":
			partial = append(partial, a.res)
		default:
			notRead = append(notRead, NotRead{Resource: a.res.GroupResource(), Namespace: a.ns, Reason: answers[i].reason})
		}
	}
	if len(partial) == 0 {
		return read, notRead, nil
	}
	names, nsReason := c.NamespaceNames(ctx)
	if names == nil {
		names = ns.Fallback
	}
	asks = asks[:0]
	for _, r := range partial {
		for _, n := range names {
			asks = append(asks, ask{r, n})
		}
	}
	answers, err = c.reviewAll(ctx, len(asks), func(i int) authv1.ResourceAttributes {
		return authv1.ResourceAttributes{Verb: "list", Group: asks[i].res.Group, Resource: asks[i].res.Resource, Namespace: asks[i].ns}
	})
	if err != nil {
		return nil, nil, err
	}
	for i, a := range asks {
		if answers[i].allowed {
			read = append(read, Scope{Resource: a.res, Namespace: a.ns})
		} else {
			notRead = append(notRead, NotRead{Resource: a.res.GroupResource(), Namespace: a.ns, Reason: answers[i].reason})
		}
	}
	for _, r := range partial {
		if nsReason != "" {
			// Namespaces that could not even be named are not read either.
			notRead = append(notRead, NotRead{Resource: r.GroupResource(), Namespace: "*", Reason: fmt.Sprintf("the caller may not list %s in every namespace, and %s", r.Resource, nsReason)})
		}
	}
	sortNotRead(notRead)
	return read, notRead, nil
}

func sortNotRead(n []NotRead) {
	sort.SliceStable(n, func(i, j int) bool {
		if n[i].Resource != n[j].Resource {
			return n[i].Resource < n[j].Resource
		}
		return n[i].Namespace < n[j].Namespace
	})
}

// NamespaceNames lists every namespace, or says why it cannot.
func (c *Client) NamespaceNames(ctx context.Context) ([]string, string) {
	nsRes := Resource{Version: "v1", Resource: "namespaces", Kind: "Namespace"}
	ans, err := c.reviewAll(ctx, 1, func(int) authv1.ResourceAttributes {
		return authv1.ResourceAttributes{Verb: "list", Resource: "namespaces"}
	})
	if err != nil {
		return nil, err.Error()
	}
	if !ans[0].allowed {
		return nil, "namespaces cannot be listed (" + ans[0].reason + ")"
	}
	var names []string
	err = c.List(ctx, Scope{Resource: nsRes}, ListOptions{MetadataOnly: true}, func(o *Item) error {
		names = append(names, o.Object.Name)
		return nil
	})
	if err != nil {
		return nil, "listing namespaces: " + err.Error()
	}
	return names, ""
}

type answer struct {
	allowed bool
	reason  string
}

// Allowed asks one SelfSubjectAccessReview.
func (c *Client) Allowed(ctx context.Context, attr authv1.ResourceAttributes) (bool, string, error) {
	a, err := c.reviewAll(ctx, 1, func(int) authv1.ResourceAttributes { return attr })
	if err != nil {
		return false, "", err
	}
	return a[0].allowed, a[0].reason, nil
}

// reviewAll asks n SelfSubjectAccessReviews, a few at a time.
func (c *Client) reviewAll(ctx context.Context, n int, attr func(i int) authv1.ResourceAttributes) ([]answer, error) {
	out := make([]answer, n)
	errs := make([]error, n)
	sem := make(chan struct{}, c.concurrency())
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			a := attr(i)
			r, err := c.authz.SelfSubjectAccessReviews().Create(ctx, &authv1.SelfSubjectAccessReview{
				Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &a},
			}, metav1.CreateOptions{})
			if err != nil {
				errs[i] = fmt.Errorf("asking whether %s %s may be read: %w", a.Verb, a.Resource, err)
				return
			}
			out[i].allowed = r.Status.Allowed && !r.Status.Denied
			switch {
			case out[i].allowed:
			case r.Status.Reason != "":
				out[i].reason = "forbidden: " + r.Status.Reason
			default:
				what := a.Resource
				if a.Subresource != "" {
					what += "/" + a.Subresource
				}
				out[i].reason = fmt.Sprintf("forbidden: the caller may not %s %s", a.Verb, what)
				if a.Namespace != "" {
					out[i].reason += " in namespace " + a.Namespace
				}
			}
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

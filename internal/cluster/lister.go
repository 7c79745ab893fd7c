package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Plan is what a scan will read: the resources the server serves, the
// scopes the caller may list, and what it may not.
type Plan struct {
	Resources []Resource
	Read      []Scope
	NotRead   []NotRead
	// Missing are resources the server does not serve (not an error:
	// an older server, an API that is not installed).
	Missing []schema.GroupResource
}

// Progress is reported after every page and at the end of each scope.
type Progress struct {
	Scope   Scope
	Objects int // objects so far, in every scope
	Elapsed time.Duration
}

// Lister streams the objects of the resources a scan needs, as far as
// the caller may read them.
type Lister struct {
	Client     *Client
	Namespaces Namespaces
	// Options returns how to list a resource (nil: whole objects).
	Options func(Resource) ListOptions
	// Progress, when set, is told how far the listing is.
	Progress func(Progress)
}

// Plan discovers want and asks what the caller may list.
func (l *Lister) Plan(ctx context.Context, want []schema.GroupResource) (*Plan, error) {
	found, missing, err := l.Client.Discover(ctx, want)
	if err != nil {
		return nil, err
	}
	read, notRead, err := l.Client.Access(ctx, found, l.Namespaces)
	if err != nil {
		return nil, err
	}
	// Owners before what they own: keep the order asked for, whether a
	// resource is read everywhere at once or namespace by namespace.
	order := map[Resource]int{}
	for i, r := range found {
		order[r] = i
	}
	slices.SortStableFunc(read, func(a, b Scope) int { return order[a.Resource] - order[b.Resource] })
	return &Plan{Resources: found, Read: read, NotRead: notRead, Missing: missing}, nil
}

// Stream lists every readable scope of p, in order, handing each object
// to fn. A scope whose list fails (the server refuses despite the
// review, a timeout) becomes NotRead with the error as reason and the
// rest is still read; an error from fn or the context stops everything.
func (l *Lister) Stream(ctx context.Context, p *Plan, fn func(*Item) error) error {
	start := time.Now()
	total := 0
	var failed []Scope
	for _, s := range p.Read {
		var opt ListOptions
		if l.Options != nil {
			opt = l.Options(s.Resource)
		}
		var fnErr error
		err := l.Client.List(ctx, s, opt, func(it *Item) error {
			total++
			if l.Progress != nil && total%DefaultPageSize == 0 {
				l.Progress(Progress{Scope: s, Objects: total, Elapsed: time.Since(start)})
			}
			fnErr = fn(it)
			return fnErr
		})
		switch {
		case fnErr != nil:
			return fnErr
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			failed = append(failed, s)
			p.NotRead = append(p.NotRead, NotRead{Resource: s.Resource.GroupResource(), Namespace: s.Namespace, Reason: err.Error()})
		}
		if l.Progress != nil {
			l.Progress(Progress{Scope: s, Objects: total, Elapsed: time.Since(start)})
		}
	}
	if len(failed) > 0 {
		kept := p.Read[:0:0]
		for _, s := range p.Read {
			if !containsScope(failed, s) {
				kept = append(kept, s)
			}
		}
		p.Read = kept
		sortNotRead(p.NotRead)
	}
	return nil
}

func containsScope(list []Scope, s Scope) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String describes a scope for progress lines.
func (s Scope) String() string {
	if s.Namespace == "" {
		return s.Resource.GroupResource()
	}
	return fmt.Sprintf("%s in %s", s.Resource.GroupResource(), s.Namespace)
}

package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/pager"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// ListOptions shape a list.
type ListOptions struct {
	// MetadataOnly asks the server for metadata only (a
	// PartialObjectMetadataList): names, labels, owners, no spec.
	MetadataOnly bool
	// Drop names top-level fields not to build (e.g. "status").
	Drop []string
	// FieldSelector restricts the list on the server (e.g.
	// "type=kubernetes.io/service-account-token" for secrets).
	FieldSelector string
}

// Item is one listed object. Object's tree has no positions and no
// managedFields.
type Item struct {
	Resource Resource
	Object   *manifest.Object
	UID      string
}

// page is one list response as the pager sees it: list metadata and the
// items already built into trees (on the pager's goroutine, so parsing
// the next page overlaps checking this one).
type page struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []pageItem
}

type pageItem struct{ obj *manifest.Object }

func (p *page) DeepCopyObject() runtime.Object { c := *p; return &c }

// GetObjectKind, DeepCopyObject: a pageItem is a runtime.Object only so
// that the pager can hand items over one by one.
func (i *pageItem) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (i *pageItem) DeepCopyObject() runtime.Object   { c := *i; return &c }

const metadataAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

// List streams the objects of one scope to fn, page by page (limit
// PageSize, continue tokens, through client-go's pager); each page is
// dropped once fn has seen its items. When the server expires a continue
// token mid-list (410 Gone), the list restarts from the beginning and
// items fn has already seen (by UID) are not repeated.
func (c *Client) List(ctx context.Context, s Scope, opt ListOptions, fn func(*Item) error) error {
	ropt := manifest.RemoteOptions{APIVersion: s.Resource.APIVersion(), Kind: s.Resource.Kind, Drop: opt.Drop}
	path := s.Resource.path(s.Namespace)
	pf := func(ctx context.Context, lo metav1.ListOptions) (runtime.Object, error) {
		req := c.raw.Get().AbsPath(path).Param("limit", fmt.Sprint(lo.Limit))
		if lo.Continue != "" {
			req = req.Param("continue", lo.Continue)
		}
		if opt.FieldSelector != "" {
			req = req.Param("fieldSelector", opt.FieldSelector)
		}
		if opt.MetadataOnly {
			req = req.SetHeader("Accept", metadataAccept)
		}
		body, err := req.Do(ctx).Raw()
		if err != nil {
			return nil, err
		}
		l, err := manifest.FromJSONList(body, ropt)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		p := &page{ListMeta: metav1.ListMeta{Continue: l.Continue, ResourceVersion: l.ResourceVersion}, Items: make([]pageItem, len(l.Items))}
		for i, o := range l.Items {
			if opt.MetadataOnly {
				// Metadata-only items are PartialObjectMetadata: say what
				// they are metadata of.
				o.APIVersion, o.Kind = ropt.APIVersion, ropt.Kind
			}
			p.Items[i].obj = o
		}
		return p, nil
	}
	seen := map[string]bool{}
	for attempt := 0; ; attempt++ {
		lp := pager.New(pf)
		lp.PageSize = c.pageSize()
		// One page read ahead while the current one is checked.
		lp.PageBufferSize = 1
		err := lp.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
			it := obj.(*pageItem)
			uid := objectUID(it.obj)
			if seen[uid] {
				return nil
			}
			seen[uid] = true
			return fn(&Item{Resource: s.Resource, Object: it.obj, UID: uid})
		})
		if err != nil && expired(err) && attempt < 3 {
			continue
		}
		if err != nil {
			return fmt.Errorf("listing %s: %w", describe(s), err)
		}
		return nil
	}
}

// expired reports a continue token the server no longer honours (410
// Gone, reason Expired — or no reason at all, as some responses carry).
func expired(err error) bool {
	var se apierrors.APIStatus
	return apierrors.IsResourceExpired(err) || apierrors.IsGone(err) || (errors.As(err, &se) && se.Status().Code == http.StatusGone)
}

func objectUID(o *manifest.Object) string {
	_, md := manifest.MapGet(o.Node, "metadata")
	return manifest.ScalarString(md, "uid")
}

func describe(s Scope) string {
	if s.Namespace != "" {
		return s.Resource.GroupResource() + " in namespace " + s.Namespace
	}
	return s.Resource.GroupResource()
}

// Get reads one object (or a subresource such as a node's proxied
// configz) by absolute API path and returns the raw body.
func (c *Client) Get(ctx context.Context, absPath ...string) ([]byte, error) {
	return c.raw.Get().AbsPath(absPath...).Do(ctx).Raw()
}

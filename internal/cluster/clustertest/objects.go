package clustertest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// Create creates every object of a multi-document YAML stream as the
// admin, in order. A document whose `status` is set gets it written
// through the status subresource afterwards (nothing else would: there
// is no controller manager). Objects that exist already are left alone.
// It returns the created objects (with their UIDs).
func (s *Server) Create(t testing.TB, manifests string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := s.CreateObjects(context.Background(), manifests)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// CreateObjects is Create without a test, for benchmarks and seeding.
func (s *Server) CreateObjects(ctx context.Context, manifests string) ([]*unstructured.Unstructured, error) {
	cfg := s.Config(AdminUser)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifests), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if err.Error() == "EOF" {
				return out, nil
			}
			return nil, fmt.Errorf("decoding manifests: %w", err)
		}
		if len(u.Object) == 0 {
			continue
		}
		created, err := s.createOne(ctx, dyn, mapper, u)
		if err != nil {
			return nil, err
		}
		out = append(out, created)
	}
}

func (s *Server) createOne(ctx context.Context, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gvk, err)
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == "namespace" {
		ns := u.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		ri = dyn.Resource(m.Resource).Namespace(ns)
	}
	status, hasStatus := u.Object["status"]
	created, err := ri.Create(ctx, u, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return ri.Get(ctx, u.GetName(), metav1.GetOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("creating %s %s/%s: %w", gvk.Kind, u.GetNamespace(), u.GetName(), err)
	}
	if hasStatus {
		created.Object["status"] = status
		created, err = ri.UpdateStatus(ctx, created, metav1.UpdateOptions{})
		if err != nil {
			return nil, fmt.Errorf("status of %s %s/%s: %w", gvk.Kind, u.GetNamespace(), u.GetName(), err)
		}
	}
	return created, nil
}

package engine

import (
	"reflect"
	"sync"

	"gopkg.in/yaml.v3"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// decodeObject decodes an object of a built-in kind into its Go type, as
// the API server would, and returns the first field of the wrong type
// (replicas: "x") as a *DecodeError with its full Kubernetes path. The pod
// template, which DecodeWorkload decodes already, is left out. Kinds the
// scheme does not know (CRDs) are not checked, and unknown fields are not
// errors (kubectl only warns about them).
//
// The scheme is client-go's table of k8s.io/api types; the package holds
// no REST machinery, so the engine stays pure.
func decodeObject(o *manifest.Object) error {
	pool := typedPool(o.APIVersion, o.Kind)
	if pool == nil {
		return nil
	}
	n := o.Node
	if meta, spec := templatePaths(o); spec != nil {
		if parent := spec[:len(spec)-1]; len(parent) > 0 {
			// A controller: its template holds only metadata and spec.
			n = without(n, parent)
		} else if n = without(without(n, spec), meta); onlyTypeMeta(n) {
			return nil // a Pod: the workload decode covered it all
		}
	}
	obj := pool.Get().(runtime.Object)
	defer func() {
		// Zeroed and reused: a Deployment's struct, pod template
		// included, is larger than the rest of what is decoded.
		reflect.ValueOf(obj).Elem().SetZero()
		pool.Put(obj)
	}()
	if err := manifest.DecodeInto(n, obj); err != nil {
		return decodeError(n, nil, err)
	}
	return nil
}

type typeKey struct{ apiVersion, kind string }

// typedPools maps an apiVersion and kind to a pool of its Go type, or to
// nil for kinds the scheme does not know.
var typedPools sync.Map

func typedPool(apiVersion, kind string) *sync.Pool {
	k := typeKey{apiVersion, kind}
	if p, ok := typedPools.Load(k); ok {
		return p.(*sync.Pool)
	}
	var pool *sync.Pool
	if gv, err := schema.ParseGroupVersion(apiVersion); err == nil {
		gvk := gv.WithKind(kind)
		if scheme.Scheme.Recognizes(gvk) {
			pool = &sync.Pool{New: func() any {
				obj, err := scheme.Scheme.New(gvk)
				if err != nil {
					panic(err) // recognized above
				}
				return obj
			}}
		}
	}
	p, _ := typedPools.LoadOrStore(k, pool)
	return p.(*sync.Pool)
}

// without returns n with the field at p removed, copying only the mappings
// along p: the object's own node tree is left as it is.
func without(n *yaml.Node, p manifest.Path) *yaml.Node {
	m := manifest.Resolve(n)
	if len(p) == 0 || p[0].Index >= 0 || m == nil || m.Kind != yaml.MappingNode {
		return n
	}
	cp := *m
	cp.Content = make([]*yaml.Node, 0, len(m.Content))
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == p[0].Key {
			if len(p) == 1 {
				continue
			}
			v = without(v, p[1:])
		}
		cp.Content = append(cp.Content, k, v)
	}
	return &cp
}

// onlyTypeMeta reports whether mapping n holds nothing but apiVersion and
// kind, which the loader has read already.
func onlyTypeMeta(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "apiVersion" && k != "kind" {
			return false
		}
	}
	return true
}

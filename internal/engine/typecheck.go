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

// decodeObject checks an object of a built-in kind against its Go type, as
// the API server's decoding would, and returns the first field of the
// wrong type (replicas: "x") as a *DecodeError with its full Kubernetes
// path. The pod template, which DecodeWorkload decodes already, is left
// out. Kinds the scheme does not know (custom resources) are not checked,
// and unknown fields are not errors (kubectl only warns about them).
//
// The scheme is client-go's table of k8s.io/api types; the package holds
// no REST machinery, so the engine stays pure.
func decodeObject(o *manifest.Object) error {
	t := builtinType(o.APIVersion, o.Kind)
	if t == nil {
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
	if err := manifest.CheckTypes(n, t); err != nil {
		return decodeError(n, nil, err)
	}
	return nil
}

// builtinKinds maps the kinds of k8s.io/api to their Go types. It is
// client-go's list put in a scheme of our own: other packages (Helm) add
// kinds to client-go's shared scheme, and what is checked must not depend
// on what happens to be linked in.
var builtinKinds = sync.OnceValue(func() map[schema.GroupVersionKind]reflect.Type {
	s := runtime.NewScheme()
	if err := scheme.AddToScheme(s); err != nil {
		return nil // not reached: client-go's own list
	}
	return s.AllKnownTypes()
})

type typeKey struct{ apiVersion, kind string }

// builtinTypes caches the Go type of an apiVersion and kind, nil for
// kinds the scheme does not know.
var builtinTypes sync.Map // typeKey → reflect.Type

func builtinType(apiVersion, kind string) reflect.Type {
	k := typeKey{apiVersion, kind}
	if t, ok := builtinTypes.Load(k); ok {
		t, _ := t.(reflect.Type)
		return t
	}
	var t reflect.Type
	if gv, err := schema.ParseGroupVersion(apiVersion); err == nil {
		t = builtinKinds()[gv.WithKind(kind)]
	}
	v, _ := builtinTypes.LoadOrStore(k, t)
	t, _ = v.(reflect.Type)
	return t
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

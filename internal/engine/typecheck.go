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
	var skip []manifest.Path
	if meta, spec := templatePaths(o); spec != nil {
		if parent := spec[:len(spec)-1]; len(parent) > 0 {
			// A controller: its template holds only metadata and spec.
			skip = []manifest.Path{parent}
		} else if onlyPodFields(o.Node) {
			return nil // a Pod: the workload decode covered it all
		} else {
			skip = []manifest.Path{meta, spec}
		}
	}
	if err := manifest.CheckTypes(o.Node, t, skip...); err != nil {
		return decodeError(o.Node, nil, err)
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

// onlyPodFields reports whether mapping n holds nothing but what the
// loader (apiVersion, kind) and the workload decode (metadata, spec) read.
func onlyPodFields(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "apiVersion", "kind", "metadata", "spec":
		default:
			return false
		}
	}
	return true
}

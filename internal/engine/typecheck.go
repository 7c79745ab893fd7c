package engine

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// decodeObject checks an object of a built-in kind against its Go type, as
// the API server's decoding would, and returns each field of the wrong
// type (replicas: "x") as a *DecodeError with its full Kubernetes path,
// joined. The pod template, which DecodeWorkload decodes already, is left
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
	// Every bad field, not only the first: each found one is dropped from
	// a copy of the tree (as decodeLenient does) before the next pass.
	var errs []error
	n := o.Node
	var last manifest.Path
	for range maxDroppedFields {
		err := manifest.CheckTypes(n, t, skip...)
		if err == nil {
			break
		}
		de := decodeError(n, nil, err)
		if len(errs) > 0 && slices.Equal(de.Path, last) {
			break
		}
		errs = append(errs, de)
		if last = de.Path; len(last) == 0 {
			break
		}
		if n = withoutField(n, last); n == nil {
			break
		}
	}
	return errors.Join(errs...)
}

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
		// client-go's shared scheme, built at start-up anyway; others
		// add their own kinds to it (Helm: CRDs), so only k8s.io/api's
		// are taken, whatever happens to be linked in.
		if kt, ok := scheme.Scheme.AllKnownTypes()[gv.WithKind(kind)]; ok && strings.HasPrefix(kt.PkgPath(), "k8s.io/api/") {
			t = kt
		}
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

package engine

import (
	"errors"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// CheckTypes must agree with decoding on every object of a built-in kind
// in the corpora, and on copies of the clean ones with one scalar
// replaced by a value of another type (a string, a number, a boolean, a
// mapping, a list): same verdict, and the error at the replaced value's
// line. (Decoding's own path is a guess when a list has several items
// that could be the bad one; CheckTypes knows.)
func TestCheckTypesAgreesWithDecode(t *testing.T) {
	res := manifest.LoadPaths([]string{"../../testdata/corpus", "../../testdata/engine", "../../testdata/demo", "../../testdata/hardened"}, manifest.Options{})
	replacements := []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "x"},
		{Kind: yaml.ScalarNode, Tag: "!!int", Value: "5"},
		{Kind: yaml.ScalarNode, Tag: "!!float", Value: "1.5"},
		{Kind: yaml.ScalarNode, Tag: "!!int", Value: "99999999999"},
		{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"},
		{Kind: yaml.ScalarNode, Value: "yes"},
		{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "a"}, {Kind: yaml.ScalarNode, Tag: "!!str", Value: "b"}}},
		{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"}}},
	}
	objects, mutants := 0, 0
	for _, o := range res.Objects {
		typ := builtinType(o.APIVersion, o.Kind)
		if typ == nil {
			continue
		}
		objects++
		if compare(t, o.Ref().String(), o.Node, typ) != nil {
			continue
		}
		// Mutate every 7th scalar of the object in turn.
		var leaves []*yaml.Node
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			switch n.Kind {
			case yaml.MappingNode:
				for i := 1; i < len(n.Content); i += 2 {
					walk(n.Content[i])
				}
			case yaml.SequenceNode:
				for _, c := range n.Content {
					walk(c)
				}
			case yaml.ScalarNode:
				leaves = append(leaves, n)
			}
		}
		walk(o.Node)
		for i := objects % 7; i < len(leaves); i += 7 {
			saved := *leaves[i]
			r := replacements[(i+objects)%len(replacements)]
			*leaves[i] = *r
			leaves[i].Line, leaves[i].Column = saved.Line, saved.Column
			var fe *manifest.FieldError
			if err := compare(t, o.Ref().String(), o.Node, typ); errors.As(err, &fe) && fe.Line != saved.Line {
				t.Errorf("%s: replacing %q at line %d with %q: error at line %d: %v", o.Ref(), saved.Value, saved.Line, r.Value, fe.Line, err)
			}
			*leaves[i] = saved
			mutants++
		}
	}
	if objects < 500 || mutants < 1000 {
		t.Fatalf("only %d objects and %d mutants checked", objects, mutants)
	}
	t.Logf("%d objects, %d mutants", objects, mutants)
}

// compare checks that CheckTypes and DecodeInto agree on n and returns
// CheckTypes' error.
func compare(t *testing.T, ref string, n *yaml.Node, typ reflect.Type) error {
	t.Helper()
	checked := manifest.CheckTypes(n, typ)
	decoded := manifest.DecodeInto(n, reflect.New(typ).Interface())
	if (checked == nil) != (decoded == nil) {
		t.Errorf("%s: CheckTypes says %v, decoding says %v", ref, checked, decoded)
	}
	return checked
}

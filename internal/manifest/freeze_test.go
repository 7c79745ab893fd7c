package manifest

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// shiftLocator stands for a renderer's locator: it places every field
// 100 lines further down another file, and explains some of them.
type shiftLocator struct {
	o     *Object
	notes map[string]string
}

func (l *shiftLocator) Locate(p Path) finding.Location {
	loc := NodeLocator{File: l.o.File, Root: l.o.Node}.Locate(p)
	loc.File = "templates/x.yaml"
	loc.Line += 100
	if p.String() == "spec.missing" {
		// A renderer may place a missing field elsewhere than its
		// parent (kustomize: in the base a patch left alone).
		loc.Line = 7
	}
	return loc
}

func (l *shiftLocator) Explain(p Path) string { return l.notes[p.String()] }

// Freezing a rendered object answers exactly as its renderer's locator
// did for every recorded path, present or missing, keeps its notes, and
// lets go of the tree and the locator.
func TestFreezeRenderedObject(t *testing.T) {
	src := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: ns\n  labels: {app: web}\nspec:\n  present: 1\n")
	res := LoadBytes("rendered.yaml", src, Options{})
	if len(res.Objects) != 1 {
		t.Fatalf("%+v", res)
	}
	o := res.Objects[0]
	l := &shiftLocator{o: o, notes: map[string]string{"spec.present": "from values.yaml key present"}}
	o.Locator = l
	paths := []Path{ParsePath("metadata.name"), ParsePath("spec.present"), ParsePath("spec.missing")}
	want := map[string]finding.Location{"": o.Locate(nil)}
	for _, p := range paths {
		want[p.String()] = o.Locate(p)
	}
	Freeze(o, paths)
	if o.Node != nil {
		t.Fatal("node tree kept")
	}
	if _, ok := o.Locator.(*FrozenLocator); !ok {
		t.Fatalf("locator %T", o.Locator)
	}
	for p, w := range want {
		if got := o.Locate(ParsePath(p)); got != w {
			t.Errorf("Locate(%q) = %v, want %v", p, got, w)
		}
	}
	ex := o.Locator.(interface{ Explain(Path) string })
	if got := ex.Explain(ParsePath("spec.present")); got != "from values.yaml key present" {
		t.Errorf("Explain(spec.present) = %q", got)
	}
	// An unrecorded path locates at its nearest recorded ancestor, but
	// never borrows that ancestor's note.
	if got := o.Locate(ParsePath("spec.present.deeper")); got != want["spec.present"] {
		t.Errorf("unrecorded path at %v", got)
	}
	if got := ex.Explain(ParsePath("spec.present.deeper")); got != "" {
		t.Errorf("unrecorded path explained as %q", got)
	}
	// Identity survives.
	if o.Name != "cm" || o.Namespace != "ns" || o.Labels["app"] != "web" || o.Kind != "ConfigMap" {
		t.Fatalf("identity %+v", o.Ref())
	}
	// Freezing twice changes nothing.
	before := *o.Locator.(*FrozenLocator)
	Freeze(o, nil)
	if after := *o.Locator.(*FrozenLocator); len(after.locs) != len(before.locs) {
		t.Errorf("second freeze re-recorded")
	}
}

// Detaching keeps the tree and answers, for every field of it and for the
// extra paths, what the renderer's locator answered; the locator itself
// is gone. Plain objects (no locator) are left as they are.
func TestDetachRenderedObject(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: r\nrules:\n")
	for i := range 20 { // enough fields for the indexed lookup
		fmt.Fprintf(&b, "  - apiGroups: [\"\"]\n    resources: [\"r%d\"]\n    verbs: [get, list]\n", i)
	}
	res := LoadBytes("role.yaml", []byte(b.String()), Options{})
	o := res.Objects[0]
	tree := o.Node
	o.Locator = &shiftLocator{o: o, notes: map[string]string{"rules[3].verbs[1]": "from values key verbs"}}
	var paths []Path
	var walk func(n *yaml.Node, p Path)
	walk = func(n *yaml.Node, p Path) {
		paths = append(paths, p)
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], p.Key(n.Content[i].Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, p.Item(i, ""))
			}
		}
	}
	walk(tree, nil)
	extra := []Path{ParsePath("spec.missing"), ParsePath("metadata.labels")}
	want := map[string]finding.Location{}
	for _, p := range append(paths, extra...) {
		want[p.String()] = o.Locate(p)
	}
	Detach(o, extra)
	fl, ok := o.Locator.(*FrozenLocator)
	if !ok || o.Node != tree {
		t.Fatalf("locator %T, tree kept %v", o.Locator, o.Node == tree)
	}
	if fl.index == nil {
		t.Error("a record of this size is not indexed")
	}
	for p, w := range want {
		if got := o.Locate(ParsePath(p)); got != w {
			t.Errorf("Locate(%q) = %v, want %v", p, got, w)
		}
	}
	if got := fl.Explain(ParsePath("rules[3].verbs[1]")); got != "from values key verbs" {
		t.Errorf("note %q", got)
	}
	plain := LoadBytes("p.yaml", []byte("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\n"), Options{}).Objects[0]
	Detach(plain, nil)
	if plain.Locator != nil || plain.Node == nil {
		t.Errorf("plain object changed: locator %T", plain.Locator)
	}
}

// A server object's locator places nothing and holds nothing: freezing
// or detaching it records no position (a scan reads thousands of roles
// and bindings, each with every field recorded for nothing), and it
// still answers every path as before.
func TestFreezeServerObject(t *testing.T) {
	data := []byte(`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r","namespace":"ns"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get"]}]}`)
	for _, detach := range []bool{false, true} {
		o, err := FromJSON(data, RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := o.Locate(ParsePath("rules[0].verbs"))
		if detach {
			Detach(o, []Path{ParsePath("metadata.labels")})
			if o.Node == nil {
				t.Fatal("detaching dropped the tree")
			}
		} else {
			Freeze(o, []Path{ParsePath("metadata.name")})
			if o.Node != nil {
				t.Fatal("freezing kept the tree")
			}
		}
		if _, ok := o.Locator.(remoteLocator); !ok {
			t.Errorf("detach=%v: locator %T, want the server object's own", detach, o.Locator)
		}
		if got := o.Locate(ParsePath("rules[0].verbs")); got != want {
			t.Errorf("detach=%v: located at %v, want %v", detach, got, want)
		}
	}
}

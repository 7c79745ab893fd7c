package manifest

import (
	"slices"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// NodeLocator resolves paths against a YAML node tree whose lines are
// positions in File.
type NodeLocator struct {
	File string
	Root *yaml.Node
}

// Locate implements Locator. For a field that exists it returns the span of
// its key (or, for sequence items, the item); for a missing field it returns
// the nearest existing ancestor, which is the object or container that lacks
// it.
func (l NodeLocator) Locate(p Path) finding.Location {
	key, val := walkKV(l.Root, p)
	return SpanOf(l.File, key, val)
}

// SpanOf returns the location of a mapping entry (key may be nil for
// sequence items or the root).
func SpanOf(file string, key, val *yaml.Node) finding.Location {
	loc := finding.Location{File: file}
	anchor := key
	if anchor == nil {
		anchor = val
	}
	if anchor == nil {
		loc.Line, loc.Column = 1, 1
		return loc
	}
	if anchor.Kind == yaml.MappingNode && len(anchor.Content) > 0 && key == nil {
		// A mapping has the position of its first key; point there.
		anchor = anchor.Content[0]
	}
	loc.Line, loc.Column = anchor.Line, anchor.Column
	if loc.Line == 0 {
		loc.Line = 1
	}
	if loc.Column == 0 {
		loc.Column = 1
	}
	end := anchor
	if key != nil && val != nil && val.Kind == yaml.ScalarNode && val.Line == key.Line {
		end = val
	}
	loc.EndLine = end.Line
	if loc.EndLine == 0 {
		loc.EndLine = loc.Line
	}
	loc.EndColumn = end.Column + scalarWidth(end)
	if loc.EndColumn <= loc.Column && loc.EndLine == loc.Line {
		loc.EndColumn = loc.Column + 1
	}
	return loc
}

func scalarWidth(n *yaml.Node) int {
	if n.Kind != yaml.ScalarNode {
		return 1
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return 1
	}
	w := utf8.RuneCountInString(n.Value)
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		w += 2
	}
	if w == 0 {
		w = 1
	}
	return w
}

// Walk follows p from root and returns the deepest node reached and how many
// path elements were matched. Aliases are followed.
func Walk(root *yaml.Node, p Path) (*yaml.Node, int) {
	_, v, d := walk(root, p)
	return v, d
}

// Lookup returns the node at p below root and, when p ends in a mapping
// key, that key's node (nil after a sequence index); both are nil when p
// is not all there.
func Lookup(root *yaml.Node, p Path) (key, val *yaml.Node) {
	k, v, d := walk(root, p)
	if d != len(p) {
		return nil, nil
	}
	return k, v
}

func walkKV(root *yaml.Node, p Path) (key, val *yaml.Node) {
	k, v, _ := walk(root, p)
	return k, v
}

func walk(root *yaml.Node, p Path) (key, val *yaml.Node, depth int) {
	cur := resolve(root)
	for i, e := range p {
		if cur == nil {
			return key, val, i
		}
		if e.Index >= 0 {
			if cur.Kind != yaml.SequenceNode || e.Index >= len(cur.Content) {
				return key, cur, i
			}
			key = nil
			cur = resolve(cur.Content[e.Index])
			val = cur
			continue
		}
		k, v := MapGet(cur, e.Key)
		if v == nil {
			return key, cur, i
		}
		key, val, cur = k, v, v
	}
	if len(p) == 0 {
		val = cur
	}
	return key, val, len(p)
}

// MapGet returns the key and (alias-resolved) value nodes of key k in a
// mapping node, or nils. Merge keys ("<<") are honoured.
func MapGet(m *yaml.Node, k string) (key, val *yaml.Node) {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	// The last occurrence wins, as in JSON; the loader reports duplicates.
	for i := len(m.Content) - 2; i >= 0; i -= 2 {
		if m.Content[i].Value == k && m.Content[i].Kind == yaml.ScalarNode {
			return m.Content[i], resolve(m.Content[i+1])
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "<<" && m.Content[i].Tag == "!!merge" {
			src := resolve(m.Content[i+1])
			if src == nil {
				continue
			}
			if src.Kind == yaml.SequenceNode {
				for _, s := range src.Content {
					if kk, vv := MapGet(s, k); vv != nil {
						return kk, vv
					}
				}
			} else if kk, vv := MapGet(src, k); vv != nil {
				return kk, vv
			}
		}
	}
	return nil, nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return resolve(n.Content[0])
	}
	return n
}

// Resolve follows aliases and unwraps a document node.
func Resolve(n *yaml.Node) *yaml.Node { return resolve(n) }

// ScalarString returns the value of a scalar node at key k of mapping m.
func ScalarString(m *yaml.Node, k string) string {
	_, v := MapGet(m, k)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

// FrozenLocator answers Locate (and, for a rendered object, Explain) from
// positions recorded in advance, so that an object's node tree — and a
// renderer's locator with the template index and source trees behind it —
// can be dropped. A path that was not recorded resolves to its nearest
// recorded ancestor, as NodeLocator does for missing fields.
type FrozenLocator struct {
	// Few entries per object, so a slice: far smaller than a map, and a
	// linear scan is as fast; index maps paths to entries in large ones.
	locs  []frozenLoc
	index map[string]int
}

type frozenLoc struct {
	path string
	loc  finding.Location
	// note is what the renderer's locator explained for path ("" for
	// plain YAML): the values key or patch the field came from.
	note string
}

// Explainer is implemented by the Locators of rendered objects (and by
// the record a frozen one keeps). Explain says how the field at p was
// produced, for the finding's message: the overlay patch or transform that
// wrote it ("set by patch overlays/dev/privileged.yaml"), or the Helm
// values key and the values file or flag that set it
// ("securityContext.privileged from values-debug.yaml"). It returns ""
// when the field is written plainly in the source the location points at.
type Explainer interface {
	Explain(p Path) string
}

var _ Explainer = (*FrozenLocator)(nil)

// Freeze records where each of paths (and the object itself) is, present
// or not, then drops the object's node tree and its renderer's locator,
// and makes it locate from the record. (Its identity, labels and
// annotations are copies, made when it was loaded.)
func Freeze(o *Object, paths []Path) {
	if o.Node == nil {
		return
	}
	if !treeFree(o.Locator) {
		o.Locator = record(o, paths)
	}
	o.Node = nil
}

// treeFree reports whether l answers without the object's tree: a record
// already, or a server object's locator, which places every field nowhere
// and would only be copied into a record of empty positions.
func treeFree(l Locator) bool {
	switch l.(type) {
	case *FrozenLocator, remoteLocator:
		return true
	}
	return false
}

// Detach is Freeze for an object whose tree set-level rules still read:
// it records where every field of the tree is (and each of extra, present
// or not) through the object's locator, then drops the locator — a
// renderer's, which holds the chart's template index or the overlay's
// source trees — and keeps the tree. Plain objects are left alone: their
// tree is their locator; so are server objects (treeFree).
func Detach(o *Object, extra []Path) {
	if o.Node == nil || o.Locator == nil || treeFree(o.Locator) {
		return
	}
	paths := slices.Clone(extra)
	var walk func(n *yaml.Node, p Path, depth int)
	walk = func(n *yaml.Node, p Path, depth int) {
		n = Resolve(n)
		if n == nil || depth > DefaultMaxDepth {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				c := p.Key(n.Content[i].Value)
				paths = append(paths, c)
				walk(n.Content[i+1], c, depth+1)
			}
		case yaml.SequenceNode:
			for i, it := range n.Content {
				c := p.Item(i, "")
				paths = append(paths, c)
				walk(it, c, depth+1)
			}
		}
	}
	walk(o.Node, nil, 0)
	o.Locator = record(o, paths)
}

// record asks o's locator where o and each of paths are, and what it
// explains of them: missing fields too, as a renderer's locator places a
// missing field by its own rules (the base a patch left alone), not
// always where its parent is.
func record(o *Object, paths []Path) *FrozenLocator {
	ex, _ := o.Locator.(Explainer)
	fl := &FrozenLocator{locs: make([]frozenLoc, 0, len(paths)+1)}
	add := func(p Path) {
		f := frozenLoc{path: p.String(), loc: o.Locate(p)}
		if ex != nil {
			f.note = ex.Explain(p)
		}
		fl.locs = append(fl.locs, f)
	}
	add(nil)
	for _, p := range paths {
		// In plain YAML a missing field is where its nearest present
		// ancestor is, which the record answers anyway: only a
		// renderer's placement of missing fields is worth keeping.
		if o.Locator == nil && o.Get(p) == nil {
			continue
		}
		add(p)
	}
	fl.locs = slices.Clip(fl.locs)
	if len(fl.locs) > indexFrozenAbove {
		fl.index = make(map[string]int, len(fl.locs))
		for i := len(fl.locs) - 1; i >= 0; i-- {
			fl.index[fl.locs[i].path] = i
		}
	}
	return fl
}

// indexFrozenAbove is the record size from which lookups use a map: a
// detached Role or NetworkPolicy records every field.
const indexFrozenAbove = 32

// Explain returns what the renderer's locator said of p when p was
// recorded, else "": an ancestor's note would name another field's source.
func (fl *FrozenLocator) Explain(p Path) string {
	if f := fl.find(p); f.path == p.String() {
		return f.note
	}
	return ""
}

// Locate implements Locator.
func (fl *FrozenLocator) Locate(p Path) finding.Location {
	return fl.find(p).loc
}

func (fl *FrozenLocator) find(p Path) *frozenLoc {
	for n := len(p); n > 0; n-- {
		s := p[:n].String()
		if fl.index != nil {
			if i, ok := fl.index[s]; ok {
				return &fl.locs[i]
			}
			continue
		}
		for i := range fl.locs {
			if fl.locs[i].path == s {
				return &fl.locs[i]
			}
		}
	}
	return &fl.locs[0]
}

package render

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// writer is one place that may have written a field of a rendered
// object: the source resource, a patch, or a kustomization transform.
type writer struct {
	file string // absolute
	// locate scores how much of p this writer wrote: 2*depth, plus one
	// when it wrote the whole path; -1 when it wrote none of it.
	locate func(p manifest.Path) (score int, key, val *yaml.Node)
	// note explains the writer in messages ("patch overlays/dev/x.yaml").
	note string
	// owns, when set, reports whether the writer replaced or removed p or
	// one of its ancestors as a whole: what earlier writers said about p
	// no longer holds.
	owns func(p manifest.Path) bool
}

// sourceLocator maps paths of one rendered object to positions in the
// files that wrote them. The last writer of the whole path wins; when no
// writer has the whole path (a missing field), the deepest ancestor
// wins, the earliest writer (the source resource) on ties.
type sourceLocator struct {
	writers  []writer
	fallback finding.Location
	display  func(string) string
}

func (l *sourceLocator) best(p manifest.Path) (w *writer, key, val *yaml.Node) {
	bestScore := -1
	full := 2*len(p) + 1
	// The last writer that replaced or removed p (or an ancestor) hides
	// every earlier one: the base lines below it are gone.
	start := 0
	for i := len(l.writers) - 1; i >= 0; i-- {
		if o := l.writers[i].owns; o != nil && o(p) {
			start = i
			break
		}
	}
	for i := start; i < len(l.writers); i++ {
		s, k, v := l.writers[i].locate(p)
		if s < 0 {
			continue
		}
		if s > bestScore || (s == bestScore && s == full) {
			bestScore, w, key, val = s, &l.writers[i], k, v
		}
	}
	return w, key, val
}

// Locate implements manifest.Locator.
func (l *sourceLocator) Locate(p manifest.Path) finding.Location {
	w, k, v := l.best(p)
	if w == nil {
		return l.fallback
	}
	return manifest.SpanOf(l.display(w.file), k, v)
}

// Explain names the patch or transform that wrote the field at p, or ""
// when it comes from the resource itself.
func (l *sourceLocator) Explain(p manifest.Path) string {
	w, _, _ := l.best(p)
	if w == nil {
		return ""
	}
	return w.note
}

// walkGuided follows p in src. Sequence items are matched by the name of
// the corresponding item of the rendered object when it has one (patches
// and bases list containers in different orders), else by index.
func walkGuided(src, rendered *yaml.Node, p manifest.Path) (key, val *yaml.Node, depth int) {
	cur := manifest.Resolve(src)
	r := manifest.Resolve(rendered)
	val = cur
	for i, e := range p {
		if cur == nil {
			return key, val, i
		}
		if e.Index >= 0 {
			if cur.Kind != yaml.SequenceNode {
				return key, val, i
			}
			var ritem *yaml.Node
			if r != nil && r.Kind == yaml.SequenceNode && e.Index < len(r.Content) {
				ritem = manifest.Resolve(r.Content[e.Index])
			}
			name := e.Name
			if name != "" && ritem != nil && !namedItem(ritem, name) {
				// Not the item's own name (envFrom[i] named by the Secret
				// under its secretRef): the rendered item's name or index.
				name = ""
			}
			if name == "" && ritem != nil && ritem.Kind == yaml.MappingNode {
				name = manifest.ScalarString(ritem, "name")
			}
			var next *yaml.Node
			if name != "" {
				for _, it := range cur.Content {
					if it = manifest.Resolve(it); namedItem(it, name) {
						next = it
						break
					}
				}
			} else if e.Index < len(cur.Content) {
				next = manifest.Resolve(cur.Content[e.Index])
			}
			if next == nil && name != "" && e.Index < len(cur.Content) {
				next = renamedItem(manifest.Resolve(cur.Content[e.Index]), name, r)
			}
			if next == nil {
				return key, val, i
			}
			key, val, cur, r = nil, next, next, ritem
			continue
		}
		k, v := manifest.MapGet(cur, e.Key)
		if v == nil {
			return key, val, i
		}
		key, val, cur = k, v, v
		if r != nil {
			_, r = manifest.MapGet(r, e.Key)
		}
	}
	return key, val, len(p)
}

// namedItem reports whether a list item is the one called name: by its
// name key, or for a scalar (a capability) by its value.
func namedItem(it *yaml.Node, name string) bool {
	return manifest.ScalarString(it, "name") == name || it != nil && it.Kind == yaml.ScalarNode && it.Value == name
}

// renamedItem returns the source item it when kustomize renamed it to
// name (namePrefix/nameSuffix reach a binding's subjects): its own name is
// part of the new one and no item of the rendered sequence r keeps it.
func renamedItem(it *yaml.Node, name string, r *yaml.Node) *yaml.Node {
	own := manifest.ScalarString(it, "name")
	if own == "" || !strings.Contains(name, own) || r == nil || r.Kind != yaml.SequenceNode {
		return nil
	}
	for _, ri := range r.Content {
		if manifest.ScalarString(ri, "name") == own {
			return nil
		}
	}
	return it
}

func score(depth, n int) int {
	s := 2 * depth
	if depth == n {
		s++
	}
	return s
}

// resourceWriter is the document a resource was read from.
func resourceWriter(file string, root, rendered *yaml.Node) writer {
	return writer{file: file, locate: func(p manifest.Path) (int, *yaml.Node, *yaml.Node) {
		k, v, d := walkGuided(root, rendered, p)
		return score(d, len(p)), k, v
	}}
}

// identityPath reports whether p is a field a strategic-merge patch
// writes only to select its target.
func identityPath(p manifest.Path) bool {
	if len(p) == 1 && p[0].Index < 0 && (p[0].Key == "apiVersion" || p[0].Key == "kind") {
		return true
	}
	return len(p) == 2 && p[0].Key == "metadata" && (p[1].Key == "name" || p[1].Key == "namespace")
}

// writer is the writer of a strategic-merge patch; see opWriters for JSON
// 6902 patches.
func (p *patchDoc) writer(rendered *yaml.Node, note string) writer {
	root := p.root
	return writer{file: p.file, note: note, locate: func(q manifest.Path) (int, *yaml.Node, *yaml.Node) {
		if len(q) == 0 || identityPath(q) {
			return -1, nil, nil
		}
		k, v, d := walkGuided(root, rendered, q)
		if d == 0 {
			return -1, nil, nil
		}
		return score(d, len(q)), k, v
	}}
}

// opWriters returns one writer per op of a JSON 6902 patch, in order: a
// later op may write inside what an earlier one replaced.
func (p *patchDoc) opWriters(rendered *yaml.Node, note string) []writer {
	var out []writer
	for i := range p.ops {
		op := &p.ops[i]
		out = append(out, writer{file: p.file, note: note,
			locate: func(q manifest.Path) (int, *yaml.Node, *yaml.Node) {
				s, k, v := op.locate(q, rendered)
				if s <= 0 {
					return -1, nil, nil
				}
				return s, k, v
			},
			owns: func(q manifest.Path) bool { return op.owns(q, rendered) },
		})
	}
	return out
}

// owns reports whether the op replaced or removed q or an ancestor of q
// as a whole (replace, add of a key or an item, remove of a key, the
// destination of move and copy, the source of move).
func (op *jsonOp) owns(q manifest.Path, rendered *yaml.Node) bool {
	switch op.op {
	case "add", "replace", "copy", "move":
		if ownsPrefix(op.segs, q, rendered, op.value, op.op == "add" || op.op == "replace") {
			return true
		}
		return op.op == "move" && removesPrefix(op.from, q)
	case "remove":
		return removesPrefix(op.segs, q)
	}
	return false
}

// removesPrefix reports whether removing the field at segs removed q: segs
// is a prefix of q ending in a key (a removed list item leaves the next
// one at its index).
func removesPrefix(segs []string, q manifest.Path) bool {
	n := len(segs)
	if n == 0 || n > len(q) || q[n-1].Index >= 0 {
		return false
	}
	for i := range n {
		if !segMatches(segs[i], q[i]) {
			return false
		}
	}
	return true
}

// ownsPrefix reports whether a write of value at segs covers q. A list
// item written by index (or appended with "-") is matched against the
// rendered item by name when both have one.
func ownsPrefix(segs []string, q manifest.Path, rendered, value *yaml.Node, hasValue bool) bool {
	n := len(segs)
	if n == 0 || n > len(q) {
		return false
	}
	for i := range n {
		if !segMatches(segs[i], q[i]) {
			return false
		}
	}
	if q[n-1].Index < 0 {
		return true
	}
	seq, d := manifest.Walk(rendered, q[:n-1])
	if d != n-1 || seq == nil || seq.Kind != yaml.SequenceNode || q[n-1].Index >= len(seq.Content) {
		return false
	}
	item := manifest.Resolve(seq.Content[q[n-1].Index])
	if hasValue && value != nil && item != nil {
		vn := manifest.ScalarString(value, "name")
		if rn := manifest.ScalarString(item, "name"); vn != "" && rn != "" {
			return vn == rn
		}
	}
	if segs[n-1] == "-" {
		return q[n-1].Index == len(seq.Content)-1
	}
	return true
}

func segMatches(seg string, e manifest.PathElem) bool {
	if e.Index >= 0 {
		return seg == "-" || seg == strconv.Itoa(e.Index)
	}
	return seg == e.Key
}

func (op *jsonOp) locate(q manifest.Path, rendered *yaml.Node) (int, *yaml.Node, *yaml.Node) {
	switch op.op {
	case "add", "replace", "copy", "move":
	case "remove":
		// A removed field (or anything below it) is missing because of
		// the op.
		if removesPrefix(op.segs, q) {
			return 2 * len(op.segs), op.pathKey, op.pathVal
		}
		return -1, nil, nil
	default:
		return -1, nil, nil
	}
	c := 0
	for c < len(op.segs) && c < len(q) && segMatches(op.segs[c], q[c]) {
		if op.segs[c] == "-" && !op.appendedAt(rendered, q[:c], q[c].Index) {
			break
		}
		c++
	}
	if c == 0 {
		return -1, nil, nil
	}
	switch {
	case c == len(op.segs) && (op.op == "add" || op.op == "replace") && op.value != nil:
		sub, _ := manifest.Walk(rendered, q[:c])
		k, v, d := walkGuided(op.value, sub, q[c:])
		if d == 0 {
			k, v = op.valueKey, op.value
		}
		return score(c+d, len(q)), k, v
	case c == len(op.segs):
		return score(c, len(q)), op.pathKey, op.pathVal
	case c == len(q):
		// The op writes inside the field asked about.
		return 2 * c, op.pathKey, op.pathVal
	default:
		return 2 * c, op.pathKey, op.pathVal
	}
}

// appendedAt reports whether item i of the rendered sequence at seq is the
// one an "add .../-" op appended: the last item equal to the op's value
// (later ops may append more), else the last item. The items before it
// are not the op's.
func (op *jsonOp) appendedAt(rendered *yaml.Node, seq manifest.Path, i int) bool {
	s, d := manifest.Walk(rendered, seq)
	if d != len(seq) || s == nil || s.Kind != yaml.SequenceNode || len(s.Content) == 0 {
		return true
	}
	if op.value != nil {
		var want any
		if op.value.Decode(&want) == nil {
			for j := len(s.Content) - 1; j >= 0; j-- {
				var got any
				if s.Content[j].Decode(&got) == nil && reflect.DeepEqual(got, want) {
					return i == j
				}
			}
		}
	}
	return i == len(s.Content)-1
}

// exactWriter writes exactly one path, at key/val of file.
func exactWriter(file, note string, match func(manifest.Path) bool, key, val *yaml.Node) writer {
	return writer{file: file, note: note, locate: func(q manifest.Path) (int, *yaml.Node, *yaml.Node) {
		if !match(q) {
			return -1, nil, nil
		}
		return 2*len(q) + 1, key, val
	}}
}

func pathIs(q manifest.Path, keys ...string) bool {
	if len(q) != len(keys) {
		return false
	}
	for i, k := range keys {
		if q[i].Index >= 0 || q[i].Key != k {
			return false
		}
	}
	return true
}

// imageRepo strips the tag and digest from an image reference.
func imageRepo(img string) string {
	if i := strings.IndexByte(img, '@'); i >= 0 {
		img = img[:i]
	}
	if i := strings.LastIndexByte(img, ':'); i >= 0 && !strings.Contains(img[i:], "/") {
		img = img[:i]
	}
	return img
}

// isContainerImagePath reports whether q is ...containers[i].image.
func isContainerImagePath(q manifest.Path) bool {
	n := len(q)
	if n < 3 || q[n-1].Key != "image" || q[n-1].Index >= 0 || q[n-2].Index < 0 {
		return false
	}
	switch q[n-3].Key {
	case "containers", "initContainers", "ephemeralContainers":
		return true
	}
	return false
}

// levelWriters returns the writers of kustomization k that apply to the
// resource id, in kustomize's order, and advances id past k (name
// prefix and suffix, namespace).
func levelWriters(k *kust, id *resIdentity, rendered *yaml.Node, disp func(string) string) []writer {
	var out []writer
	kdisp := disp(k.file)
	addPatches := func(stage int) {
		for _, p := range k.patches {
			if p.stage == stage && p.targets(id) {
				what := "patch"
				if p.json {
					what = "JSON patch"
				}
				note := fmt.Sprintf("set by %s %s", what, disp(p.file))
				if p.json {
					out = append(out, p.opWriters(rendered, note)...)
					continue
				}
				out = append(out, p.writer(rendered, note))
			}
		}
	}
	addPatches(stageSMP)
	addPatches(stagePatches)
	if k.namespace != nil {
		nk, nv := manifest.MapGet(k.node, "namespace")
		out = append(out, exactWriter(k.file, "namespace set by "+kdisp, func(q manifest.Path) bool { return pathIs(q, "metadata", "namespace") }, nk, nv))
		id.namespace = k.namespace.Value
	}
	if k.namePrefix != "" || k.nameSuffix != "" {
		last := id.names[len(id.names)-1]
		id.names = append(id.names, k.namePrefix+last+k.nameSuffix)
	}
	for _, lr := range k.labels {
		lr := lr
		field := "labels"
		if lr.annotation {
			field = "annotations"
		}
		out = append(out, exactWriter(k.file, field+" set by "+kdisp, func(q manifest.Path) bool {
			return pathIs(q, "metadata", field, lr.key) || lr.templates && pathIs(q, "spec", "template", "metadata", field, lr.key)
		}, lr.keyNode, lr.valNode))
	}
	addPatches(stageJSON6902)
	for _, r := range k.replicas {
		r := r
		for _, n := range id.names {
			if n == r.name {
				out = append(out, exactWriter(k.file, "replicas set by "+kdisp, func(q manifest.Path) bool { return pathIs(q, "spec", "replicas") }, r.keyN, r.countN))
				break
			}
		}
	}
	for _, ir := range k.images {
		ir := ir
		out = append(out, writer{file: k.file, note: "image set by " + kdisp, locate: func(q manifest.Path) (int, *yaml.Node, *yaml.Node) {
			if !isContainerImagePath(q) {
				return -1, nil, nil
			}
			v, d := manifest.Walk(rendered, q)
			if d != len(q) || v == nil || v.Kind != yaml.ScalarNode {
				return -1, nil, nil
			}
			repo := imageRepo(v.Value)
			if repo != ir.name && (ir.newName == "" || repo != ir.newName) {
				return -1, nil, nil
			}
			return 2*len(q) + 1, ir.atKey, ir.at
		}})
	}
	return out
}

// generatorWriter stands for the generator entry that made an object.
func generatorWriter(g *genEntry) writer {
	return writer{file: g.k.file, locate: func(q manifest.Path) (int, *yaml.Node, *yaml.Node) {
		if pathIs(q, "metadata", "name") {
			k, v := manifest.MapGet(g.node, "name")
			if v != nil {
				return 2*len(q) + 1, k, v
			}
		}
		if len(q) == 2 && q[1].Index < 0 && (q[0].Key == "data" || q[0].Key == "stringData" || q[0].Key == "binaryData") {
			key := q[1].Key
			for _, f := range []string{"literals", "files", "envs"} {
				_, seq := manifest.MapGet(g.node, f)
				for _, e := range seqScalars(seq) {
					v := e.Value
					if f == "literals" && strings.HasPrefix(v, key+"=") ||
						f == "files" && (strings.HasPrefix(v, key+"=") || filepath.Base(v) == key) {
						return 2*len(q) + 1, nil, e
					}
				}
				if seq != nil && f == "envs" {
					if _, s := manifest.MapGet(g.node, "envs"); s != nil && len(s.Content) > 0 {
						return 2*len(q) - 1, nil, s.Content[0]
					}
				}
			}
		}
		return 0, nil, g.node
	}}
}

// chainStep is one kustomization on the way from the root to the one that
// lists a resource; comp is the index of the step among its parent's
// components, or -1 when it is a resource of its parent.
type chainStep struct {
	k    *kust
	comp int
}

// findChain returns the kustomizations from root to the first (depth
// first, in file order) for which pred holds.
func findChain(root *kust, pred func(*kust) bool) []chainStep {
	seen := map[*kust]bool{}
	var rec func(k *kust, comp int) []chainStep
	rec = func(k *kust, comp int) []chainStep {
		if k == nil || seen[k] {
			return nil
		}
		seen[k] = true
		if pred(k) {
			return []chainStep{{k, comp}}
		}
		for _, r := range k.resources {
			if c := rec(r.sub, -1); c != nil {
				return append([]chainStep{{k, comp}}, c...)
			}
		}
		for i, r := range k.components {
			if c := rec(r.sub, i); c != nil {
				return append([]chainStep{{k, comp}}, c...)
			}
		}
		return nil
	}
	return rec(root, -1)
}

// applyOrder lists the kustomizations whose transformers apply to a
// resource listed by the last step of chain, in the order they run: at
// each level its components (those after the one the resource came
// through), then the level itself.
func applyOrder(chain []chainStep) []*kust {
	var out []*kust
	for i := len(chain) - 1; i >= 0; i-- {
		k := chain[i].k
		from := 0
		if i < len(chain)-1 && chain[i+1].comp >= 0 {
			from = chain[i+1].comp + 1
		}
		for _, c := range k.components[min(from, len(k.components)):] {
			if c.sub != nil && c.sub.node != nil {
				out = append(out, c.sub)
			}
		}
		out = append(out, k)
	}
	return out
}

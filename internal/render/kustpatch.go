package render

import (
	"bytes"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// patchDoc is one patch document: a strategic-merge patch (root) or a
// JSON 6902 patch (ops). Its nodes carry positions in file.
type patchDoc struct {
	k      *kust
	file   string // absolute path of the file the nodes are positioned in
	json   bool
	target *selector // nil: a strategic-merge patch names its own target
	root   *yaml.Node
	ops    []jsonOp
	// stage orders patches among kustomize's builtin transformers.
	stage int
}

// Transformer stages in kustomize's order.
const (
	stageSMP = iota
	stagePatches
	stageNamespace
	stageLabels
	stageJSON6902
	stageReplicas
	stageImages
)

type jsonOp struct {
	op       string
	segs     []string
	from     []string   // move's source
	node     *yaml.Node // the op mapping
	pathKey  *yaml.Node
	pathVal  *yaml.Node
	valueKey *yaml.Node
	value    *yaml.Node
}

// selector is a kustomize patch target.
type selector struct {
	group, version, kind, name, namespace string
	labelSelector, annotationSelector     string
}

func parseSelector(n *yaml.Node) *selector {
	n = manifest.Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	return &selector{
		group:              manifest.ScalarString(n, "group"),
		version:            manifest.ScalarString(n, "version"),
		kind:               manifest.ScalarString(n, "kind"),
		name:               manifest.ScalarString(n, "name"),
		namespace:          manifest.ScalarString(n, "namespace"),
		labelSelector:      manifest.ScalarString(n, "labelSelector"),
		annotationSelector: manifest.ScalarString(n, "annotationSelector"),
	}
}

// regexCache holds compiled anchored patterns; selectors are few and
// matched against every resource.
type regexCache struct {
	mu sync.Mutex
	m  map[string]*regexp.Regexp
}

var anchored = &regexCache{m: map[string]*regexp.Regexp{}}

// anchoredMatch matches s against kustomize's anchored regular expression
// pattern; an empty pattern matches everything.
func anchoredMatch(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	anchored.mu.Lock()
	re, ok := anchored.m[pattern]
	if !ok {
		re, _ = regexp.Compile("^(?:" + pattern + ")$")
		if len(anchored.m) < 4096 {
			anchored.m[pattern] = re
		}
	}
	anchored.mu.Unlock()
	if re == nil {
		return pattern == s
	}
	return re.MatchString(s)
}

// resIdentity is what patch targets are matched against.
type resIdentity struct {
	group, version, kind string
	names                []string // every name the resource had so far
	namespace            string
	labels, annotations  map[string]string
}

func (s *selector) matches(id *resIdentity) bool {
	if !anchoredMatch(s.group, id.group) || !anchoredMatch(s.version, id.version) || !anchoredMatch(s.kind, id.kind) {
		return false
	}
	if s.namespace != "" && !anchoredMatch(s.namespace, id.namespace) {
		return false
	}
	if s.name != "" {
		ok := false
		for _, n := range id.names {
			if anchoredMatch(s.name, n) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if s.labelSelector != "" {
		sel, err := labels.Parse(s.labelSelector)
		if err != nil || !sel.Matches(labels.Set(id.labels)) {
			return false
		}
	}
	if s.annotationSelector != "" {
		sel, err := labels.Parse(s.annotationSelector)
		if err != nil || !sel.Matches(labels.Set(id.annotations)) {
			return false
		}
	}
	return true
}

// targets reports whether the patch applies to the resource.
func (p *patchDoc) targets(id *resIdentity) bool {
	if p.target != nil {
		return p.target.matches(id)
	}
	if p.json || p.root == nil {
		return false
	}
	kind := manifest.ScalarString(p.root, "kind")
	if kind != id.kind {
		return false
	}
	if g, _ := splitAPIVersion(manifest.ScalarString(p.root, "apiVersion")); g != id.group {
		return false
	}
	_, md := manifest.MapGet(p.root, "metadata")
	name := manifest.ScalarString(md, "name")
	for _, n := range id.names {
		if n == name {
			return true
		}
	}
	return false
}

func splitAPIVersion(av string) (group, version string) {
	if i := strings.LastIndexByte(av, '/'); i >= 0 {
		return av[:i], av[i+1:]
	}
	return "", av
}

// parsePatches reads patchesStrategicMerge, patches and patchesJson6902.
func (t *kustTree) parsePatches(k *kust) {
	root := k.node
	_, psm := manifest.MapGet(root, "patchesStrategicMerge")
	for _, e := range seqScalars(psm) {
		if !strings.ContainsAny(e.Value, "\n:") {
			k.claim(e.Value)
			t.addPatchFile(k, e.Value, nil, stageSMP, false)
			continue
		}
		for _, d := range embeddedDocs(k, e) {
			k.patches = append(k.patches, &patchDoc{k: k, file: k.file, root: d, stage: stageSMP})
		}
	}
	for _, field := range []string{"patches", "patchesJson6902"} {
		_, seq := manifest.MapGet(root, field)
		seq = manifest.Resolve(seq)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		stage := stagePatches
		if field == "patchesJson6902" {
			stage = stageJSON6902
		}
		for _, it := range seq.Content {
			it = manifest.Resolve(it)
			if it == nil || it.Kind != yaml.MappingNode {
				continue
			}
			_, tn := manifest.MapGet(it, "target")
			target := parseSelector(tn)
			if p := manifest.ScalarString(it, "path"); p != "" {
				k.claim(p)
				t.addPatchFile(k, p, target, stage, field == "patchesJson6902")
			}
			if _, inline := manifest.MapGet(it, "patch"); inline != nil && inline.Kind == yaml.ScalarNode {
				for _, d := range embeddedDocs(k, inline) {
					k.patches = append(k.patches, newPatchDoc(k, k.file, d, target, stage, field == "patchesJson6902"))
				}
			}
		}
	}
}

func (t *kustTree) addPatchFile(k *kust, rel string, target *selector, stage int, forceJSON bool) {
	p := filepath.Join(k.dir, rel)
	data, err := t.readFile(p)
	if err != nil {
		return
	}
	for _, d := range decodeAll(data) {
		k.patches = append(k.patches, newPatchDoc(k, p, d, target, stage, forceJSON))
	}
}

func newPatchDoc(k *kust, file string, d *yaml.Node, target *selector, stage int, forceJSON bool) *patchDoc {
	pd := &patchDoc{k: k, file: file, target: target, stage: stage}
	if d.Kind == yaml.SequenceNode || forceJSON {
		pd.json = true
		pd.ops = parseOps(d)
		return pd
	}
	pd.root = d
	return pd
}

func parseOps(seq *yaml.Node) []jsonOp {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	var ops []jsonOp
	for _, it := range seq.Content {
		it = manifest.Resolve(it)
		if it == nil || it.Kind != yaml.MappingNode {
			continue
		}
		op := jsonOp{op: manifest.ScalarString(it, "op"), node: it}
		op.pathKey, op.pathVal = manifest.MapGet(it, "path")
		op.valueKey, op.value = manifest.MapGet(it, "value")
		if op.pathVal == nil || op.pathVal.Kind != yaml.ScalarNode {
			continue
		}
		op.segs = splitPointer(op.pathVal.Value)
		op.from = splitPointer(manifest.ScalarString(it, "from"))
		ops = append(ops, op)
	}
	return ops
}

// splitPointer splits a JSON pointer into unescaped reference tokens.
func splitPointer(p string) []string {
	if p == "" || p == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		s = strings.ReplaceAll(s, "~1", "/")
		parts[i] = strings.ReplaceAll(s, "~0", "~")
	}
	return parts
}

// decodeAll parses every YAML document in data; nodes keep positions in
// data. Documents that fail to parse end the list.
func decodeAll(data []byte) []*yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if err != io.EOF {
				return out
			}
			return out
		}
		if r := manifest.Resolve(&n); r != nil && !(r.Kind == yaml.ScalarNode && r.Tag == "!!null") {
			out = append(out, r)
		}
	}
}

// embeddedDocs parses YAML written inside a scalar of k's file (an inline
// patch) and moves the nodes' positions to where that text sits in the
// kustomization file.
func embeddedDocs(k *kust, s *yaml.Node) []*yaml.Node {
	docs := decodeAll([]byte(s.Value))
	if len(docs) == 0 {
		return nil
	}
	block := s.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
	indent := -1
	if block {
		indent = firstLineIndent(k.text, s.Line)
	}
	singleLine := !strings.Contains(strings.TrimRight(s.Value, "\n"), "\n")
	quoted := 0
	if s.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		quoted = 1
	}
	for _, d := range docs {
		shiftNodes(d, func(n *yaml.Node) {
			switch {
			case block && indent >= 0 && s.Style&yaml.LiteralStyle != 0:
				n.Line += s.Line
				n.Column += indent
			case singleLine && !block:
				n.Line = s.Line
				n.Column += s.Column - 1 + quoted
			default:
				n.Line, n.Column = s.Line, s.Column
			}
		})
	}
	return docs
}

func shiftNodes(n *yaml.Node, f func(*yaml.Node)) {
	seen := map[*yaml.Node]bool{}
	var rec func(*yaml.Node)
	rec = func(n *yaml.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		f(n)
		for _, c := range n.Content {
			rec(c)
		}
	}
	rec(n)
}

// parseTransforms reads images, labels, annotations and replicas.
func (k *kust) parseTransforms() {
	root := k.node
	for _, field := range []string{"images", "imageTags"} {
		_, seq := manifest.MapGet(root, field)
		seq = manifest.Resolve(seq)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		for _, it := range seq.Content {
			it = manifest.Resolve(it)
			if it == nil || it.Kind != yaml.MappingNode {
				continue
			}
			r := imageRule{name: manifest.ScalarString(it, "name"), newName: manifest.ScalarString(it, "newName")}
			for _, f := range []string{"digest", "newTag", "newName"} {
				if kn, vn := manifest.MapGet(it, f); vn != nil {
					r.atKey, r.at = kn, vn
					break
				}
			}
			if r.at == nil {
				continue // only a name: the entry changes nothing
			}
			k.images = append(k.images, r)
		}
	}
	addMap := func(m *yaml.Node, annotation, templates bool) {
		m = manifest.Resolve(m)
		if m == nil || m.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k.labels = append(k.labels, labelRule{annotation: annotation, key: m.Content[i].Value, templates: templates, keyNode: m.Content[i], valNode: m.Content[i+1]})
		}
	}
	_, cl := manifest.MapGet(root, "commonLabels")
	addMap(cl, false, true)
	_, ca := manifest.MapGet(root, "commonAnnotations")
	addMap(ca, true, true)
	_, ls := manifest.MapGet(root, "labels")
	if ls = manifest.Resolve(ls); ls != nil && ls.Kind == yaml.SequenceNode {
		for _, it := range ls.Content {
			_, pairs := manifest.MapGet(it, "pairs")
			tmpl := manifest.ScalarString(it, "includeTemplates") == "true" || manifest.ScalarString(it, "includeSelectors") == "true"
			addMap(pairs, false, tmpl)
		}
	}
	_, reps := manifest.MapGet(root, "replicas")
	if reps = manifest.Resolve(reps); reps != nil && reps.Kind == yaml.SequenceNode {
		for _, it := range reps.Content {
			kn, cn := manifest.MapGet(it, "count")
			if cn == nil {
				continue
			}
			k.replicas = append(k.replicas, replicaRule{name: manifest.ScalarString(it, "name"), keyN: kn, countN: cn})
		}
	}
}

// parseGenerators reads configMapGenerator and secretGenerator entries.
func (k *kust) parseGenerators() {
	for _, g := range []struct{ field, kind string }{{"configMapGenerator", "ConfigMap"}, {"secretGenerator", "Secret"}} {
		_, seq := manifest.MapGet(k.node, g.field)
		seq = manifest.Resolve(seq)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		for _, it := range seq.Content {
			it = manifest.Resolve(it)
			if it == nil || it.Kind != yaml.MappingNode {
				continue
			}
			k.generators = append(k.generators, &genEntry{kind: g.kind, name: manifest.ScalarString(it, "name"), node: it, k: k})
			for _, f := range []string{"files", "envs"} {
				_, fs := manifest.MapGet(it, f)
				for _, e := range seqScalars(fs) {
					v := e.Value
					if i := strings.IndexByte(v, '='); i >= 0 {
						v = v[i+1:]
					}
					k.claim(v)
				}
			}
			if e := manifest.ScalarString(it, "env"); e != "" {
				k.claim(e)
			}
		}
	}
}

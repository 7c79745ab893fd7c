package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// kustFileNames are the names kustomize recognises, in its order.
var kustFileNames = [...]string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// findKustFile returns the kustomization file in dir, or "".
func findKustFile(dir string) string {
	for _, n := range kustFileNames {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// isKustFileName reports whether base is a kustomization file name.
func isKustFileName(base string) bool {
	for _, n := range kustFileNames {
		if base == n {
			return true
		}
	}
	return false
}

// kust is one kustomization (or component) as written by the user, kept
// with its YAML nodes so that its fields have positions.
type kust struct {
	dir  string // absolute
	file string // absolute path of the kustomization file
	node *yaml.Node
	text []byte

	component bool
	// resources lists resources and bases in order; components lists
	// components.
	resources  []*kref
	components []*kref

	namePrefix, nameSuffix string
	namespace              *yaml.Node // the value node of namespace:, or nil

	// patches in the order kustomize applies them (strategic merge first,
	// then patches, then JSON 6902).
	patches    []*patchDoc
	images     []imageRule
	labels     []labelRule
	generators []*genEntry
	replicas   []replicaRule

	// claims are the local files this kustomization reads (not following
	// sub-kustomizations); remote are resources that need the network.
	claims []string
	remote []kref
	// parseErr is set when the file could not be parsed; krusty reports
	// the details.
	parseErr error
}

// kref is one entry of resources, bases or components.
type kref struct {
	value string
	node  *yaml.Node
	abs   string
	isDir bool
	sub   *kust
	// missing is set for a remote entry that does not look like a URL
	// but is not found on disk either.
	missing bool
}

// imageRule is one entry of images:.
type imageRule struct {
	name, newName string
	at            *yaml.Node // node the finding points at
	atKey         *yaml.Node
}

// labelRule is one label or annotation added by commonLabels, labels or
// commonAnnotations.
type labelRule struct {
	annotation bool
	key        string
	templates  bool // also written to pod templates
	keyNode    *yaml.Node
	valNode    *yaml.Node
}

// replicaRule is one entry of replicas:.
type replicaRule struct {
	name   string
	keyN   *yaml.Node
	countN *yaml.Node
}

// genEntry is one configMapGenerator or secretGenerator entry.
type genEntry struct {
	kind string // ConfigMap or Secret
	name string
	node *yaml.Node // the entry mapping
	k    *kust
}

// kustTree parses kustomizations once per Load.
type kustTree struct {
	mu     sync.Mutex
	byDir  map[string]*kust
	docsMu sync.Mutex
	docs   map[string]*cachedDocs
	cached int // source bytes behind docs
	clock  uint64
	// maxCached bounds cached (maxCachedSource).
	maxCached int
	// users counts, per resource file, the kustomizations still to render
	// that read it (retain, release): a file's parsed documents are kept
	// while one is pending and dropped after the last, so overlays of a
	// base parse it once and a Load over many repositories never holds
	// them all.
	users   map[string]int
	sandbox func(string) error // nil: no restriction
	maxSize int64
}

func newKustTree(sandbox func(string) error, maxSize int64) *kustTree {
	return &kustTree{byDir: map[string]*kust{}, sandbox: sandbox, maxSize: maxSize, maxCached: maxCachedSource}
}

// readFile reads a user file within the sandbox and size limit.
func (t *kustTree) readFile(p string) ([]byte, error) {
	if t.sandbox != nil {
		if err := t.sandbox(p); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := t.maxSize
	if limit <= 0 {
		limit = manifest.DefaultMaxFileSize
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is over the %d-byte limit", p, limit)
	}
	return data, nil
}

// fileDocs returns the documents of a source file. They are kept
// for the kustomizations still to render that read the file (retain), at
// most maxCached bytes of source at a time, least recently used out
// first: overlays of a base mostly parse it once, and a Load over many
// repositories holds a bounded amount.
func (t *kustTree) fileDocs(p string) []manifest.SourceDoc {
	t.docsMu.Lock()
	defer t.docsMu.Unlock()
	t.clock++
	if d, ok := t.docs[p]; ok {
		d.used = t.clock
		return d.docs
	}
	data, err := t.readFile(p)
	var docs []manifest.SourceDoc
	if err == nil {
		docs = manifest.SourceDocuments(data)
	}
	if t.users[p] > 0 {
		if t.docs == nil {
			t.docs = map[string]*cachedDocs{}
		}
		t.docs[p] = &cachedDocs{docs: docs, size: len(data), used: t.clock}
		t.cached += len(data)
		for t.cached > t.maxCached && len(t.docs) > 1 {
			t.evictOldest()
		}
	}
	return docs
}

// maxCachedSource bounds the source bytes whose documents are kept
// between kustomizations (their text; trees are parsed on demand).
const maxCachedSource = 16 << 20

type cachedDocs struct {
	docs []manifest.SourceDoc
	size int
	used uint64 // t.clock when last read
}

func (t *kustTree) evictOldest() {
	var oldest string
	for p, d := range t.docs {
		if oldest == "" || d.used < t.docs[oldest].used {
			oldest = p
		}
	}
	t.drop(oldest)
}

func (t *kustTree) drop(p string) {
	if d, ok := t.docs[p]; ok {
		t.cached -= d.size
		delete(t.docs, p)
	}
}

// resourceFiles lists, sorted, the resource files k reads through its
// bases and components.
func resourceFiles(k *kust) []string {
	var out []string
	walkKusts(k, func(k *kust) {
		for _, refs := range [][]*kref{k.resources, k.components} {
			for _, r := range refs {
				if r.sub == nil && !r.isDir && r.abs != "" {
					out = append(out, r.abs)
				}
			}
		}
	})
	slices.Sort(out)
	return out
}

// retain records that a kustomization to render reads files.
func (t *kustTree) retain(files []string) {
	t.docsMu.Lock()
	defer t.docsMu.Unlock()
	if t.users == nil {
		t.users = map[string]int{}
	}
	for _, f := range files {
		t.users[f]++
	}
}

// release records that a kustomization that read files has rendered,
// dropping the documents no pending kustomization reads.
func (t *kustTree) release(files []string) {
	t.docsMu.Lock()
	defer t.docsMu.Unlock()
	for _, f := range files {
		if t.users[f]--; t.users[f] <= 0 {
			delete(t.users, f)
			t.drop(f)
		}
	}
}

// load parses the kustomization in dir and, recursively, the local
// kustomizations it refers to. It never fails: problems are left for
// krusty to report, and remote references are recorded.
func (t *kustTree) load(dir string) *kust {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.loadDepth(dir, 0)
}

const maxKustDepth = 64

func (t *kustTree) loadDepth(dir string, depth int) *kust {
	dir = filepath.Clean(dir)
	if k, ok := t.byDir[dir]; ok {
		return k
	}
	k := &kust{dir: dir}
	t.byDir[dir] = k
	k.file = findKustFile(dir)
	if k.file == "" {
		k.parseErr = errors.New("no kustomization file")
		return k
	}
	data, err := t.readFile(k.file)
	if err != nil {
		k.parseErr = err
		return k
	}
	k.text = data
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		k.parseErr = err
		return k
	}
	root := manifest.Resolve(&doc)
	if root == nil || root.Kind != yaml.MappingNode {
		k.parseErr = errors.New("not a mapping")
		return k
	}
	k.node = root
	k.component = manifest.ScalarString(root, "kind") == "Component"
	k.namePrefix = manifest.ScalarString(root, "namePrefix")
	k.nameSuffix = manifest.ScalarString(root, "nameSuffix")
	if _, ns := manifest.MapGet(root, "namespace"); ns != nil && ns.Kind == yaml.ScalarNode && ns.Value != "" {
		k.namespace = ns
	}

	for _, field := range []string{"resources", "bases", "components"} {
		_, seq := manifest.MapGet(root, field)
		for _, e := range seqScalars(seq) {
			r := &kref{value: e.Value, node: e}
			local := filepath.Join(dir, e.Value)
			if filepath.IsAbs(e.Value) {
				local = filepath.Clean(e.Value)
			}
			st, statErr := os.Stat(local)
			switch {
			case looksRemote(e.Value) || statErr != nil:
				// kustomize tries anything it cannot find locally as a
				// remote target (cloning with git); refuse it instead.
				r.missing = !looksRemote(e.Value)
				k.remote = append(k.remote, *r)
				continue
			case st.IsDir():
				r.abs, r.isDir = local, true
				if depth < maxKustDepth {
					r.sub = t.loadDepth(local, depth+1)
				}
			default:
				r.abs = local
				k.claims = append(k.claims, local)
			}
			if field == "components" {
				k.components = append(k.components, r)
			} else {
				k.resources = append(k.resources, r)
			}
		}
	}
	k.claims = append(k.claims, k.file)

	// Other files the kustomization reads.
	for _, field := range []string{"crds", "configurations", "generators", "transformers", "validators"} {
		_, seq := manifest.MapGet(root, field)
		for _, e := range seqScalars(seq) {
			if !strings.Contains(e.Value, "\n") && !strings.Contains(e.Value, ":") {
				k.claim(e.Value)
			}
		}
	}
	if _, oa := manifest.MapGet(root, "openapi"); oa != nil {
		if p := manifest.ScalarString(oa, "path"); p != "" {
			k.claim(p)
		}
	}
	_, reps := manifest.MapGet(root, "replacements")
	if reps != nil && reps.Kind == yaml.SequenceNode {
		for _, it := range reps.Content {
			if p := manifest.ScalarString(it, "path"); p != "" {
				k.claim(p)
			}
		}
	}

	t.parsePatches(k)
	k.parseTransforms()
	k.parseGenerators()
	return k
}

func (k *kust) claim(rel string) {
	if rel == "" || looksRemote(rel) {
		return
	}
	p := rel
	if !filepath.IsAbs(p) {
		p = filepath.Join(k.dir, rel)
	}
	k.claims = append(k.claims, filepath.Clean(p))
}

// looksRemote reports whether a resource entry names a URL or a git
// repository rather than a local path.
func looksRemote(s string) bool {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "://"),
		strings.HasPrefix(l, "git@"),
		strings.HasPrefix(l, "git::"),
		strings.HasPrefix(l, "gh:"),
		strings.Contains(l, "?ref="),
		strings.Contains(l, "?version="),
		strings.Contains(l, "?timeout="),
		strings.Contains(l, "?submodules="):
		return true
	}
	// github.com/org/repo//path, gitlab.com/..., any host-looking first
	// segment followed by a path.
	first := l
	if i := strings.IndexByte(l, '/'); i > 0 {
		first = l[:i]
		if strings.Contains(first, ".") && first != "." && first != ".." && !strings.HasPrefix(first, ".") &&
			(strings.HasSuffix(first, ".com") || strings.HasSuffix(first, ".org") || strings.HasSuffix(first, ".io") ||
				strings.HasSuffix(first, ".net") || strings.Contains(l, "//")) {
			return true
		}
	}
	return false
}

// seqScalars returns the scalar items of a sequence node.
func seqScalars(seq *yaml.Node) []*yaml.Node {
	seq = manifest.Resolve(seq)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	var out []*yaml.Node
	for _, it := range seq.Content {
		it = manifest.Resolve(it)
		if it != nil && it.Kind == yaml.ScalarNode {
			out = append(out, it)
		}
	}
	return out
}

// walkKusts calls f for k and every kustomization below it, once each.
func walkKusts(k *kust, f func(*kust)) {
	seen := map[*kust]bool{}
	var rec func(*kust)
	rec = func(k *kust) {
		if k == nil || seen[k] {
			return
		}
		seen[k] = true
		f(k)
		for _, r := range k.resources {
			rec(r.sub)
		}
		for _, r := range k.components {
			rec(r.sub)
		}
	}
	rec(k)
}

// firstLineIndent returns the indentation of the first non-blank line
// after line (1-based) in text, or -1.
func firstLineIndent(text []byte, line int) int {
	lines := bytes.Split(text, []byte("\n"))
	for i := line; i < len(lines); i++ { // lines[line] is line+1
		l := bytes.TrimRight(lines[i], "\r")
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		return len(l) - len(bytes.TrimLeft(l, " "))
	}
	return -1
}

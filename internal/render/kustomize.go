package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Annotations kustomize adds for build metadata; rules never see them.
const (
	originAnnotation         = "config.kubernetes.io/origin"
	transformationAnnotation = "alpha.config.kubernetes.io/transformations"
)

// kustomizeMu serialises krusty runs: kustomize keeps its OpenAPI schema
// in a package variable.
var kustomizeMu sync.Mutex

// withOriginAnnotations adds originAnnotations to the buildMetadata of a
// kustomization file, the in-process equivalent of writing
// `buildMetadata: [originAnnotations]` in it.
func withOriginAnnotations(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return data, nil // let krusty report the syntax error
	}
	root := manifest.Resolve(&doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return data, nil
	}
	item := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: types.OriginAnnotations}
	if _, bm := manifest.MapGet(root, "buildMetadata"); bm != nil {
		if bm.Kind != yaml.SequenceNode {
			return data, nil
		}
		for _, it := range bm.Content {
			if it.Value == types.OriginAnnotations {
				return data, nil
			}
		}
		bm.Content = append(bm.Content, item)
	} else {
		root.Content = append(root.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "buildMetadata"},
			&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{item}})
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return data, nil
	}
	return out, nil
}

// kustomizerOptions configure krusty for untrusted input: builtin
// plugins only (no exec, container, Go or legacy plugins, no helm binary),
// files restricted to each kustomization's root, input order kept.
func kustomizerOptions() *krusty.Options {
	return &krusty.Options{
		Reorder:          krusty.ReorderOptionNone,
		LoadRestrictions: types.LoadRestrictionsRootOnly,
		PluginConfig:     types.DisabledPluginConfig(),
	}
}

// kustBuild renders one kustomization and locates its objects.
type kustBuild struct {
	dir  string // absolute
	root *kust
	tree *kustTree
	opt  *Options
	disp func(string) string
	// docs are the source files this build has read (fileDocs).
	docs map[string][]manifest.SourceDoc
}

// renderKustomization builds the kustomization in dir, handing each
// object to visit once it is located.
func (r *renderer) renderKustomization(ctx context.Context, dir string, visit func(*manifest.Object)) *manifest.Result {
	res := &manifest.Result{}
	abs, _ := filepath.Abs(dir)
	// Not the method value r.display: locators keep disp, and through
	// r they would keep every source tree of the Load alive.
	base := r.base
	disp := func(p string) string { return manifest.DisplayPath(p, base) }
	b := &kustBuild{dir: abs, tree: r.tree, opt: r.opt, disp: disp}
	b.root = r.tree.load(abs)
	name := r.display(abs)
	kfile := b.root.file
	if kfile == "" {
		kfile = filepath.Join(abs, kustFileNames[0])
	}
	fail := func(line int, format string, args ...any) *manifest.Result {
		res.Errors = append(res.Errors, finding.InputError{File: r.display(kfile), Line: line,
			Message: fmt.Sprintf("rendering kustomization %s: ", name) + fmt.Sprintf(format, args...)})
		return res
	}
	if err := b.precheck(); err != nil {
		var pe *posError
		if errors.As(err, &pe) {
			res.Errors = append(res.Errors, finding.InputError{File: r.display(pe.file), Line: pe.line,
				Message: fmt.Sprintf("rendering kustomization %s: %s", name, pe.msg)})
			return res
		}
		return fail(0, "%v", err)
	}
	walkKusts(b.root, func(k *kust) {
		res.Files = append(res.Files, r.display(k.file))
	})

	fs := &sandboxFS{disk: filesys.MakeFsOnDisk(), ctx: ctx, rootKust: b.root.file, limit: r.opt.maxOutput()}
	if !r.opt.AllowRemote {
		box, err := newSandbox(sandboxRoot(abs, r.roots))
		if err != nil {
			return fail(0, "%v", err)
		}
		fs.box = box
	}
	var notes []kustNote
	if r.opt.Log != nil {
		notes = b.deprecationNotes() // only -v shows them
	}
	kustomizeMu.Lock()
	var said []string
	m, err := func() (resmap.ResMap, error) {
		defer kustomizeMu.Unlock()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var m resmap.ResMap
		var err error
		said = captureKustomizeOutput(func() { m, err = krusty.MakeKustomizer(kustomizerOptions()).Run(fs, abs) })
		return m, err
	}()
	if r.opt.Log != nil {
		for _, n := range attributeKustomizeOutput(notes, said, r.display(kfile)) {
			r.opt.logf("%s", n)
		}
	}
	if err != nil {
		if d := fs.refusal(); d != nil {
			if errors.Is(d, context.DeadlineExceeded) {
				return fail(0, "timed out after %s (--render-timeout)", r.opt.timeout())
			}
			return fail(0, "%s", cleanKustomizeError(d, abs))
		}
		msg := cleanKustomizeError(err, abs)
		if file, line := b.root.patchErrorPos(err.Error()); file != "" {
			res.Errors = append(res.Errors, finding.InputError{File: r.display(file), Line: line,
				Message: fmt.Sprintf("rendering kustomization %s: %s", name, msg)})
			return res
		}
		return fail(0, "%s", msg)
	}

	var total int
	// Identical subtrees (a CRD's versions, one schema each) are shared
	// within the build; objects are checked and frozen one by one, so
	// nothing is shared beyond it.
	nodes := newNodeCache()
	for _, kr := range m.Resources() {
		origin, _ := kr.GetOrigin()
		// Straight from kustomize's tree (no YAML text in between).
		node, n := nodes.convert(kr.YNode())
		total += n
		if int64(total) > r.opt.maxOutput()/16 {
			return fail(0, "rendered output is over the %d-byte limit", r.opt.maxOutput())
		}
		srcFile := b.sourceFile(origin)
		lr := manifest.LoadNode(r.display(srcFile), 0, node, r.opt.Manifest)
		for _, e := range lr.Errors {
			// Lines of the rendered stream mean nothing to the user.
			e.Line = 0
			e.Message = fmt.Sprintf("rendering kustomization %s: rendered %s %s: %s", name, kr.GetKind(), kr.GetName(), e.Message)
			res.Errors = append(res.Errors, e)
		}
		for _, o := range lr.Objects {
			o.Locator = b.locator(origin, o)
			o.Origin = "kustomize " + name
			res.Objects = append(res.Objects, o)
			// Checked now, while its source documents are at hand: the
			// checks freeze it.
			visit(o)
		}
		for _, sk := range lr.Skipped {
			sk.Line = 0
			res.Skipped = append(res.Skipped, sk)
		}
	}
	return res
}

// posError is an error at a position of a user file.
type posError struct {
	file string
	line int
	msg  string
}

func (e *posError) Error() string { return e.msg }

// precheck refuses, before krusty runs, what would fetch from the network
// or run code.
func (b *kustBuild) precheck() error {
	var err error
	walkKusts(b.root, func(k *kust) {
		if err != nil {
			return
		}
		for _, r := range k.remote {
			if b.opt.AllowRemote && !r.missing {
				continue
			}
			msg := fmt.Sprintf("remote resource %q refused: rendering does not fetch remote bases or resources (pass --allow-remote to allow it)", r.value)
			if r.missing {
				msg = fmt.Sprintf("resource %q not found (kustomize would try it as a remote URL; refused)", r.value)
			}
			err = &posError{file: k.file, line: r.node.Line, msg: msg}
			return
		}
		if pe := missingInputFile(k); pe != nil {
			err = pe
			return
		}
		for _, f := range []string{"helmCharts", "helmChartInflationGenerator"} {
			if kn, v := manifest.MapGet(k.node, f); v != nil {
				err = &posError{file: k.file, line: kn.Line, msg: f + " runs the helm binary and is disabled; lint the chart directory itself instead"}
				return
			}
		}
		for _, f := range []string{"generators", "transformers", "validators"} {
			_, seq := manifest.MapGet(k.node, f)
			for _, e := range seqScalars(seq) {
				var docs []*yaml.Node
				if strings.Contains(e.Value, "\n") {
					docs = embeddedDocs(k, e)
				} else if data, rerr := b.tree.readFile(filepath.Join(k.dir, e.Value)); rerr == nil {
					docs = decodeAll(data)
				}
				for _, d := range docs {
					av := manifest.ScalarString(d, "apiVersion")
					kind := manifest.ScalarString(d, "kind")
					_, md := manifest.MapGet(d, "metadata")
					_, an := manifest.MapGet(md, "annotations")
					fn := manifest.ScalarString(an, "config.kubernetes.io/function")
					if av != "builtin" || fn != "" {
						err = &posError{file: k.file, line: e.Line, msg: fmt.Sprintf("%s plugin %s %s is disabled: only builtin generators and transformers run (exec, container and Go plugins would run code)", strings.TrimSuffix(f, "s"), av, kind)}
						return
					}
				}
			}
		}
	})
	return err
}

// missingInputFile finds a patch or generator input file k lists that
// does not exist, for an error at the line that lists it: kustomize's own
// message has no line and quotes its transformer configuration.
func missingInputFile(k *kust) *posError {
	missing := func(v *yaml.Node) bool {
		if v == nil || v.Value == "" || strings.ContainsAny(v.Value, "\n*?[") {
			return false
		}
		_, err := os.Stat(filepath.Join(k.dir, v.Value))
		return errors.Is(err, fs.ErrNotExist)
	}
	for _, v := range seqScalars(mapValue(k.node, "patchesStrategicMerge")) {
		if missing(v) {
			return &posError{file: k.file, line: v.Line, msg: fmt.Sprintf("patch file %q not found", v.Value)}
		}
	}
	for _, f := range []string{"patches", "patchesJson6902"} {
		for _, e := range seqItems(mapValue(k.node, f)) {
			if v := mapValue(e, "path"); v != nil && v.Kind == yaml.ScalarNode && missing(v) {
				return &posError{file: k.file, line: v.Line, msg: fmt.Sprintf("patch file %q not found", v.Value)}
			}
		}
	}
	for _, g := range []string{"configMapGenerator", "secretGenerator"} {
		for _, e := range seqItems(mapValue(k.node, g)) {
			srcs := append(seqScalars(mapValue(e, "files")), seqScalars(mapValue(e, "envs"))...)
			if v := mapValue(e, "env"); v != nil && v.Kind == yaml.ScalarNode {
				srcs = append(srcs, v)
			}
			for _, v := range srcs {
				file := *v
				if _, after, ok := strings.Cut(v.Value, "="); ok {
					file.Value = after // key=path
				}
				if missing(&file) {
					return &posError{file: k.file, line: v.Line, msg: fmt.Sprintf("file %q of %s not found", file.Value, g)}
				}
			}
		}
	}
	return nil
}

// mapValue is the resolved value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	_, v := manifest.MapGet(manifest.Resolve(n), key)
	return manifest.Resolve(v)
}

// seqItems lists the resolved items of a sequence node.
func seqItems(seq *yaml.Node) []*yaml.Node {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(seq.Content))
	for _, it := range seq.Content {
		out = append(out, manifest.Resolve(it))
	}
	return out
}

var (
	smpNoMatch  = regexp.MustCompile(`strategic merge patch "([^".]+)\.[^"/]*/([^"]+?)\.(?:\[noNs\]|[^."]+)"`)
	jsonPointer = regexp.MustCompile(`path: '?(/[^'\s:]*)`)
)

// patchErrorPos finds the patch a kustomize error is about, in k or the
// kustomizations it includes: a strategic-merge patch that matches no
// resource (by kind and name), or a JSON 6902 operation that does not
// apply (by its path). It returns the file and line of the patch's name
// or the operation's path, or "" when none is recognised.
func (k *kust) patchErrorPos(msg string) (file string, line int) {
	var kind, name, ptr string
	if m := smpNoMatch.FindStringSubmatch(msg); m != nil {
		kind, name = m[1], m[2]
	} else if m := jsonPointer.FindStringSubmatch(msg); m != nil {
		ptr = m[1]
	} else {
		return "", 0
	}
	walkKusts(k, func(sub *kust) {
		for _, p := range sub.patches {
			if file != "" {
				return
			}
			if ptr != "" {
				for _, op := range p.ops {
					if op.pathVal != nil && op.pathVal.Value == ptr {
						file, line = p.file, op.pathVal.Line
						return
					}
				}
				continue
			}
			if p.json || p.root == nil || manifest.ScalarString(p.root, "kind") != kind {
				continue
			}
			_, md := manifest.MapGet(p.root, "metadata")
			if nk, nv := manifest.MapGet(md, "name"); nv != nil && nv.Value == name {
				file, line = p.file, nk.Line
			}
		}
	})
	return file, line
}

// cleanKustomizeError shortens kustomize's error chains and absolute
// paths.
func cleanKustomizeError(err error, dir string) string {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, dir+string(filepath.Separator), "")
	if len(msg) > 2000 {
		msg = msg[:2000] + "..."
	}
	return msg
}

// sourceFile is the user file an object came from (the kustomization
// itself for generated objects).
func (b *kustBuild) sourceFile(o *resource.Origin) string {
	switch {
	case o == nil || o.Repo != "":
		return b.root.file
	case o.ConfiguredIn != "":
		return filepath.Join(b.dir, o.ConfiguredIn)
	case o.Path != "":
		return filepath.Join(b.dir, o.Path)
	}
	return b.root.file
}

// fileDocs returns the documents of a source file, parsed once per
// kustomization and mostly once per Load however many overlays reach it
// (kustTree.fileDocs); they are only read afterwards.
func (b *kustBuild) fileDocs(p string) []manifest.SourceDoc {
	if d, ok := b.docs[p]; ok {
		return d
	}
	d := b.tree.fileDocs(p)
	if b.docs == nil {
		b.docs = map[string][]manifest.SourceDoc{}
	}
	b.docs[p] = d
	return d
}

// locator builds the source locator of a rendered object.
func (b *kustBuild) locator(origin *resource.Origin, o *manifest.Object) manifest.Locator {
	loc := &sourceLocator{display: b.disp, fallback: finding.Location{File: b.disp(b.root.file), Line: 1, Column: 1, EndLine: 1, EndColumn: 2}}
	if origin == nil || origin.Repo != "" {
		return loc
	}
	group, version := splitAPIVersion(o.APIVersion)
	id := &resIdentity{group: group, version: version, kind: o.Kind, labels: o.Labels, annotations: o.Annotations}
	var chain []chainStep
	var src writer
	switch {
	case origin.ConfiguredIn != "":
		kf := filepath.Join(b.dir, origin.ConfiguredIn)
		chain = findChain(b.root, func(k *kust) bool { return k.file == kf })
		if chain == nil {
			return loc
		}
		gk := chain[len(chain)-1].k
		var best *genEntry
		for _, g := range gk.generators {
			if g.kind == o.Kind && strings.Contains(o.Name, g.name) && (best == nil || len(g.name) > len(best.name)) {
				best = g
			}
		}
		if best == nil {
			loc.fallback = manifest.SpanOf(b.disp(gk.file), nil, gk.node)
			return loc
		}
		id.names = []string{best.name}
		src = generatorWriter(best)
		loc.fallback = manifest.SpanOf(b.disp(gk.file), nil, best.node)
	case origin.Path != "":
		sf := filepath.Join(b.dir, origin.Path)
		chain = findChain(b.root, func(k *kust) bool {
			for _, r := range k.resources {
				if !r.isDir && r.abs == sf {
					return true
				}
			}
			return false
		})
		order := applyOrder(chain)
		doc := b.pickDoc(sf, o, order)
		if doc == nil {
			loc.fallback = finding.Location{File: b.disp(sf), Line: 1, Column: 1, EndLine: 1, EndColumn: 2}
			return loc
		}
		_, md := manifest.MapGet(doc, "metadata")
		id.names = []string{manifest.ScalarString(md, "name")}
		id.namespace = manifest.ScalarString(md, "namespace")
		src = resourceWriter(sf, doc, o.Node)
		loc.fallback = manifest.SpanOf(b.disp(sf), nil, doc)
	default:
		return loc
	}
	loc.writers = append(loc.writers, src)
	for _, k := range applyOrder(chain) {
		loc.writers = append(loc.writers, levelWriters(k, id, o.Node, b.disp)...)
	}
	return loc
}

// pickDoc finds the document of file p that became object o: same kind
// and group, and the name that the chain's prefixes and suffixes turn
// into o's name (else the longest name o's name contains). It is parsed
// for o alone, and goes when o's locator does.
func (b *kustBuild) pickDoc(p string, o *manifest.Object, order []*kust) *yaml.Node {
	group, _ := splitAPIVersion(o.APIVersion)
	var exact, contained, first *manifest.SourceDoc
	bestLen := -1
	docs := b.fileDocs(p)
	for i := range docs {
		d := &docs[i]
		if !d.Mapping || d.Kind != o.Kind {
			continue
		}
		if g, _ := splitAPIVersion(d.APIVersion); g != group {
			continue
		}
		if first == nil {
			first = d
		}
		full := d.Name
		for _, k := range order {
			full = k.namePrefix + full + k.nameSuffix
		}
		if full == o.Name && exact == nil {
			exact = d
		}
		if d.Name != "" && strings.Contains(o.Name, d.Name) && len(d.Name) > bestLen {
			contained, bestLen = d, len(d.Name)
		}
	}
	switch {
	case exact != nil:
		return exact.Parse()
	case contained != nil:
		return contained.Parse()
	case first != nil:
		return first.Parse()
	}
	return nil
}

// kustNote is a -v note about a kustomization file.
type kustNote struct {
	file string // display path
	line int
	msg  string // kustomize's words, without its "# Warning: " prefix
}

func (n kustNote) String() string {
	if n.line > 0 {
		return fmt.Sprintf("%s:%d: note: kustomize: %s", n.file, n.line, n.msg)
	}
	return fmt.Sprintf("%s: note: kustomize: %s", n.file, n.msg)
}

// deprecatedField is the field a kustomize deprecation warning names.
var deprecatedField = regexp.MustCompile(`^'([A-Za-z0-9]+)' is deprecated`)

// deprecationNotes asks kustomize which deprecated fields each
// kustomization of the build uses (its own check, so its own words), and
// places each warning at the field's line. krusty prints the same
// warnings, unattributed, on the process's standard error while it
// loads each file; captureKustomizeOutput swallows those.
func (b *kustBuild) deprecationNotes() []kustNote {
	var notes []kustNote
	walkKusts(b.root, func(k *kust) {
		if k.text == nil || k.parseErr != nil {
			return
		}
		var kz types.Kustomization
		if kz.Unmarshal(k.text) != nil {
			return
		}
		msgs := kz.CheckDeprecatedFields()
		if msgs == nil {
			return
		}
		for _, msg := range *msgs {
			n := kustNote{file: b.disp(k.file), msg: strings.TrimPrefix(msg, kustWarningPrefix)}
			if m := deprecatedField.FindStringSubmatch(n.msg); m != nil {
				if key, _ := manifest.MapGet(manifest.Resolve(k.node), m[1]); key != nil {
					n.line = key.Line
				}
			}
			notes = append(notes, n)
		}
	})
	return notes
}

// kustWarningPrefix starts kustomize's deprecation warnings.
const kustWarningPrefix = "# Warning: "

// attributeKustomizeOutput turns what krusty said while rendering into
// notes: its deprecation warnings are already in notes (attributed to
// their file and line); anything else it said — a warning about a file
// outside the tree, a log message — is attributed to the kustomization
// being rendered (root), so that nothing is lost.
func attributeKustomizeOutput(notes []kustNote, said []string, root string) []string {
	known := map[string]bool{}
	out := make([]string, 0, len(notes))
	for _, n := range notes {
		known[n.msg] = true
		out = append(out, n.String())
	}
	for _, line := range said {
		msg := strings.TrimPrefix(line, kustWarningPrefix)
		if known[msg] {
			continue
		}
		out = append(out, kustNote{file: root, msg: msg}.String())
	}
	return out
}

// logTimestamp is the date and time the standard logger puts before a
// message (log.LstdFlags, with or without microseconds).
var logTimestamp = regexp.MustCompile(`^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? `)

// kustomizeLogMessages start the messages kustomize and kyaml send to the
// standard logger. Helm logs through it too, from charts rendering at the
// same time: lines that are not kustomize's go on to the logger's own
// output, as before.
var kustomizeLogMessages = []string{
	"well-defined vars that were never replaced", "MakePrimitiveReplacer:", "Warning: Sorting order",
	"Warning: Forcing the git protocol", "ParseInt failed for value", "Invalid values count",
}

// captureKustomizeOutput runs run (a krusty build, under kustomizeMu) and
// returns the lines kustomize wrote meanwhile: to the process's standard
// error (it prints deprecation warnings with fmt.Fprintf(os.Stderr)) and
// to the standard logger. Both are process-wide: os.Stderr is swapped for
// a pipe and the logger's output for a filter only while run runs. Our
// own output is unaffected: it goes to the IOStreams the command was
// given, which hold the original file.
func captureKustomizeOutput(run func()) []string {
	var mu sync.Mutex
	var lines []string
	add := func(text string) {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
	}
	prevLog := log.Writer()
	log.SetOutput(&kustomizeLogFilter{add: add, next: prevLog})
	defer log.SetOutput(prevLog)

	pr, pw, err := os.Pipe()
	if err != nil {
		run() // no pipe: kustomize prints as it always did
		mu.Lock()
		defer mu.Unlock()
		return lines
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		b, _ := io.ReadAll(pr)
		pr.Close()
		add(string(b))
	}()
	stderr := os.Stderr
	os.Stderr = pw
	func() {
		// Restored even when run panics (renderUnit recovers).
		defer func() {
			os.Stderr = stderr
			pw.Close()
			<-drained
		}()
		run()
	}()
	mu.Lock()
	defer mu.Unlock()
	return lines
}

// kustomizeLogFilter takes kustomize's lines of the standard logger (one
// Write per message) and passes every other line on to next.
type kustomizeLogFilter struct {
	add  func(string)
	next io.Writer
}

func (f *kustomizeLogFilter) Write(p []byte) (int, error) {
	msg := logTimestamp.ReplaceAllString(string(p), "")
	for _, k := range kustomizeLogMessages {
		if strings.HasPrefix(msg, k) {
			f.add(msg)
			return len(p), nil
		}
	}
	return f.next.Write(p)
}

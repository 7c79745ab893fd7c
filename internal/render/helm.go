package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mitchellh/copystructure"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/ignore"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/strvals"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// valuesSource is one origin of user values, for messages.
type valuesSource struct {
	name string
	vals map[string]any
}

// userValues are the merged --values/--set* values and their sources in
// the order Helm applies them.
type userValues struct {
	merged  map[string]any
	sources []valuesSource
	err     error
}

// loadUserValues merges the Helm flags the way `helm template` does:
// values files in order, then --set, --set-string, --set-file. Files are
// read locally only (no URLs).
func (r *renderer) loadUserValues() *userValues {
	h := r.opt.Helm
	uv := &userValues{merged: map[string]any{}}
	readLocal := func(p string) ([]byte, error) {
		if strings.Contains(p, "://") {
			return nil, fmt.Errorf("%s: only local files are read", p)
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, errors.New(manifest.PathErrorMessage(err))
		}
		defer f.Close()
		limit := r.opt.Manifest.MaxFileSize
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
	for _, vf := range h.ValuesFiles {
		data, err := readLocal(vf)
		if err != nil {
			// Reported against the values file, like its syntax errors.
			uv.err = &posError{file: vf, msg: fmt.Sprintf("reading values file %s: %v", vf, err)}
			return uv
		}
		m := map[string]any{}
		if err := sigsyaml.Unmarshal(data, &m); err != nil {
			// Reported against the values file and line, not the chart.
			pe := &posError{file: vf, msg: fmt.Sprintf("values file %s: %v", r.display(vf), err)}
			if mm := valuesLineErr.FindStringSubmatch(err.Error()); mm != nil {
				pe.line, _ = strconv.Atoi(mm[1])
				pe.msg = fmt.Sprintf("values file %s: YAML syntax error: %s", r.display(vf), mm[2])
			}
			uv.err = pe
			return uv
		}
		if m == nil {
			m = map[string]any{}
		}
		uv.merged = mergeMaps(uv.merged, m)
		uv.sources = append(uv.sources, valuesSource{name: r.display(vf), vals: m})
	}
	fileReader := func(rs []rune) (any, error) {
		data, err := readLocal(string(rs))
		return string(data), err
	}
	for _, sf := range []struct {
		flag  string
		vals  []string
		parse func(s string, dest map[string]any) error
	}{
		{"--set", h.Set, strvals.ParseInto},
		{"--set-string", h.SetString, strvals.ParseIntoString},
		{"--set-file", h.SetFile, func(s string, dest map[string]any) error { return strvals.ParseIntoFile(s, dest, fileReader) }},
	} {
		for _, s := range sf.vals {
			if err := sf.parse(s, uv.merged); err != nil {
				uv.err = fmt.Errorf("parsing %s %s: %w", sf.flag, s, err)
				return uv
			}
			m := map[string]any{}
			_ = sf.parse(s, m)
			uv.sources = append(uv.sources, valuesSource{name: sf.flag + " " + s, vals: m})
		}
	}
	return uv
}

// mergeMaps deep-merges b over a, as Helm merges values files.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]any); ok {
			if bv, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(bv, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// chartInfo is one chart of a rendered chart tree.
type chartInfo struct {
	c *chart.Chart
	// prefix is where this chart's values sit in the root's values.
	prefix []string
	// chain lists the charts from the root down to this one.
	chain []*chartInfo
	// valuesFile is the display path of its values.yaml ("" inside an
	// archive).
	valuesFile string
	templates  map[string]*tmplFile
	archive    string
}

// chartRender is the state of one chart render.
type chartRender struct {
	r       *renderer
	archive string // display path of the archive when the chart is packaged
	user    *userValues
	values  map[string]any // the root chart's final values
	byPath  map[string]*chartInfo
	defines map[string]defineBody
	// defaults caches each chart's values.yaml as written.
	defaultsMu sync.Mutex
	defaults   map[*chart.Chart]map[string]any
}

// chartDefaults parses a chart's values.yaml from its raw files (Helm's
// processing may change Values in place, and copies charts for aliases;
// Raw is what the file said).
func (c *chartRender) chartDefaults(ch *chart.Chart) map[string]any {
	c.defaultsMu.Lock()
	defer c.defaultsMu.Unlock()
	if v, ok := c.defaults[ch]; ok {
		return v
	}
	var m map[string]any
	for _, f := range ch.Raw {
		if f.Name == chartutil.ValuesfileName {
			_ = sigsyaml.Unmarshal(f.Data, &m)
			break
		}
	}
	if c.defaults == nil {
		c.defaults = map[*chart.Chart]map[string]any{}
	}
	c.defaults[ch] = m
	return m
}

// chartValues returns the final values a chart's templates see.
func (c *chartRender) chartValues(ch *chartInfo) any {
	v, _ := lookupValues(c.values, ch.prefix)
	return v
}

// valuesSource names the flag or file that set key for chart ch, highest
// precedence first: --set-file, --set-string, --set, values files (last
// first), then the values.yaml of the charts from the root down.
func (c *chartRender) valuesSource(ch *chartInfo, key []string) string {
	full := append(append([]string{}, ch.prefix...), key...)
	if c.user != nil {
		for i := len(c.user.sources) - 1; i >= 0; i-- {
			if _, ok := lookupValues(c.user.sources[i].vals, full); ok {
				return c.user.sources[i].name
			}
		}
	}
	for _, anc := range ch.chain {
		rel := full[len(anc.prefix):]
		if _, ok := lookupValues(c.chartDefaults(anc.c), rel); ok {
			if anc.valuesFile != "" {
				return anc.valuesFile
			}
			return "values.yaml of " + anc.c.Name()
		}
	}
	return ""
}

// sourceRank orders values keys by the precedence of what set them: the
// user's flags and files (later higher) above the charts' values.yaml,
// and those above a key nothing sets (-1).
func (c *chartRender) sourceRank(ch *chartInfo, key []string) int {
	full := append(append([]string{}, ch.prefix...), key...)
	if c.user != nil {
		for i := len(c.user.sources) - 1; i >= 0; i-- {
			if _, ok := lookupValues(c.user.sources[i].vals, full); ok {
				return 1 + len(ch.chain) + i
			}
		}
	}
	for i := len(ch.chain) - 1; i >= 0; i-- {
		anc := ch.chain[i]
		if _, ok := lookupValues(c.chartDefaults(anc.c), full[len(anc.prefix):]); ok {
			// A parent's values.yaml overrides its subchart's.
			return 1 + len(ch.chain) - 1 - i
		}
	}
	return -1
}

// renderChart renders a chart directory or archive with Helm's engine,
// handing each object to visit once it is located.
func (r *renderer) renderChart(ctx context.Context, u unit, visit func(*manifest.Object)) *manifest.Result {
	res := &manifest.Result{}
	name := r.display(u.path)
	errFile := name
	if u.kind == unitChart {
		errFile = r.display(filepath.Join(u.path, "Chart.yaml"))
	}
	fail := func(err error) *manifest.Result {
		ie := finding.InputError{File: errFile, Message: fmt.Sprintf("rendering chart %s: %s", name, shortenTemplateError(err.Error()))}
		var pe *posError
		if errors.As(err, &pe) {
			ie.File, ie.Line = r.display(pe.file), pe.line
		} else if u.kind == unitChart {
			// Helm names the template and line ("web/templates/x.yaml:8");
			// point there, in the user's chart directory.
			if f, line := templateErrorPos(u.path, err.Error()); f != "" {
				ie.File, ie.Line = r.display(f), line
			}
		}
		res.Errors = append(res.Errors, ie)
		return res
	}
	var files []*loader.BufferedFile
	var err error
	if u.kind == unitChartArchive {
		files, err = r.readArchive(u.path)
	} else {
		files, err = r.readChartDir(u.path)
	}
	if err != nil {
		return fail(err)
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return fail(err)
	}
	if err := checkDependencies(ch, name); err != nil {
		return fail(err)
	}
	// Deterministic output for linting (see generators.go).
	origTemplates, generators := seedGenerators(ch)
	user := r.userValuesOnce()
	if user.err != nil {
		return fail(user.err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	vals := mergeMaps(map[string]any{}, user.merged)
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return fail(err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	h := r.opt.Helm
	kubeVersion := h.KubeVersion
	if kubeVersion == "" {
		kubeVersion = DefaultKubeVersion
	}
	full, err := ParseKubernetesVersion(kubeVersion)
	if err != nil {
		return fail(fmt.Errorf("--kubernetes-version: %w", err))
	}
	kv, _ := chartutil.ParseKubeVersion(full)
	caps.KubeVersion = *kv
	// What `helm install` and `helm template` check before rendering.
	if c := ch.Metadata.KubeVersion; c != "" && !chartutil.IsCompatibleRange(c, caps.KubeVersion.String()) {
		return fail(fmt.Errorf("Chart.yaml requires kubeVersion %s, which excludes the target Kubernetes %s (set --kubernetes-version to a version the chart supports)", c, caps.KubeVersion.String()))
	}
	// A new slice: Copy shares Helm's default set, which every chart of a
	// concurrent walk starts from.
	caps.APIVersions = slices.Concat(caps.APIVersions, servedByEveryCluster, h.APIVersions)
	release := h.ReleaseName
	if release == "" {
		release = DefaultReleaseName
	}
	ns := h.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	// Schema validation is skipped: it can fetch $refs over the network
	// and from any local file, and linting does not install.
	rv, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, chartutil.ReleaseOptions{Name: release, Namespace: ns, Revision: 1, IsInstall: true}, caps, true)
	if err != nil {
		return fail(err)
	}
	// No client: lookup returns an empty map and no cluster is contacted;
	// DNS lookups are off.
	out, err := engine.Engine{LintMode: false, EnableDNS: false}.Render(ch, freshValues(rv))
	if err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	// Which template lines executed, for positions (see helmtrace.go).
	trace := traceChart(ch, freshValues(rv), out)
	// The second render that tells generated fields apart; a failure
	// only means nothing is marked.
	var variant map[string]string
	if generators {
		setGeneratorVariant(ch, 1)
		variant, _ = engine.Engine{LintMode: false, EnableDNS: false}.Render(ch, freshValues(rv))
		dropGeneratorFile(ch)
	}
	for t, data := range origTemplates {
		t.Data = data
	}

	c := &chartRender{r: r, user: user, byPath: map[string]*chartInfo{}, defines: map[string]defineBody{}}
	if u.kind == unitChartArchive {
		c.archive = name
	}
	if v, ok := rv["Values"].(chartutil.Values); ok {
		c.values = v.AsMap()
	}
	onDisk := map[string][]byte{}
	for _, f := range files {
		onDisk[f.Name] = f.Data
	}
	root := u.path
	if u.kind == unitChartArchive {
		root = ""
	}
	c.index(ch, nil, nil, root, "", onDisk)

	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	origin := fmt.Sprintf("helm chart %s (release %s)", name, release)
	var total int64
	seenFile := map[string]bool{}
	for _, k := range keys {
		base := path.Base(k)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" || strings.TrimSpace(out[k]) == "" {
			continue
		}
		total += int64(len(out[k]))
		if total > r.opt.maxOutput() {
			return fail(fmt.Errorf("rendered output is over the %d-byte limit", r.opt.maxOutput()))
		}
		ci, tf := c.template(k)
		if tf == nil {
			continue
		}
		if !seenFile[tf.display] {
			seenFile[tf.display] = true
			res.Files = append(res.Files, tf.display)
		}
		lr := manifest.LoadBytes(tf.display, helmDocuments(out[k]), r.opt.Manifest)
		for _, e := range lr.Errors {
			e = c.outputError(e, trace, k, out[k])
			e.Message = fmt.Sprintf("rendering chart %s: output of %s: %s", name, tf.name, e.Message)
			res.Errors = append(res.Errors, e)
		}
		for _, s := range lr.Skipped {
			s.Line = 0
			res.Skipped = append(res.Skipped, s)
		}
		segs := tf.segments()
		ndocs := 0
		for _, o := range lr.Objects {
			ndocs = max(ndocs, o.Doc+1)
		}
		for _, s := range lr.Skipped {
			ndocs = max(ndocs, s.Doc+1)
		}
		var other []*manifest.Object
		if variant != nil {
			lv := manifest.LoadBytes(tf.display, helmDocuments(variant[k]), r.opt.Manifest)
			if len(lv.Objects) == len(lr.Objects) {
				other = lv.Objects
			}
		}
		kindSeen := map[string]int{}
		for i, o := range lr.Objects {
			if other != nil {
				o.Generated = generatedPaths(o.Node, other[i].Node)
			}
			lo, hi := tf.segmentFor(segs, ndocs, o.Doc, o.Kind, kindSeen[o.Kind])
			kindSeen[o.Kind]++
			o.Locator = &helmLocator{c: c, ch: ci, tf: tf, lo: lo, hi: hi, rendered: o.Node, trace: trace, out: k, doc: o.Doc}
			o.Origin = origin
			res.Objects = append(res.Objects, o)
			// Checked now, template by template: the checks freeze the
			// object and its rendered tree goes before the next
			// template's is parsed (a chart's output can be megabytes).
			visit(o)
		}
	}
	return res
}

// outputError points an error found in the rendered text of template out
// (its line counted in helmDocuments(text)) at the template line that
// wrote that line, and so a line the message names ("already defined at
// line 7"); without a trace it has no line: rendered lines mean nothing
// to the user.
func (c *chartRender) outputError(e finding.InputError, trace *execTrace, out, text string) finding.InputError {
	at := func(line int) (string, int, bool) {
		doc, start := 0, 1
		for _, d := range splitHelmDocs(text) {
			n := strings.Count(d, "\n") + 1
			if line < start+n {
				break
			}
			doc, start = doc+1, start+n+1 // the "---" line
		}
		tl, ok := trace.source(out, doc, line-start)
		if !ok {
			return "", 0, false
		}
		_, tf := c.template(tl.template)
		if tf == nil {
			return "", 0, false
		}
		// A line of actions only ("{{- end }}") writes no text of its
		// own: the rendered line came out of the emitting action above
		// it ("{{- toYaml . | nindent 4 }}").
		return tf.display, emitterAbove(tf, tl.line) + 1, true
	}
	if f, l, ok := at(e.Line); ok && e.Line > 0 {
		e.File, e.Line = f, l
	} else {
		e.Line = 0
	}
	e.Message = lineRef.ReplaceAllStringFunc(e.Message, func(m string) string {
		n, err := strconv.Atoi(lineRef.FindStringSubmatch(m)[1])
		if f, l, ok := at(n); err == nil && ok {
			return fmt.Sprintf(" at %s:%d", f, l)
		}
		return " in the rendered output"
	})
	return e
}

// emitterAbove returns the index of the nearest line above li, among the
// action-only lines right above it (li included), holding an action that
// emits YAML (toYaml, include, tpl, a values expression); li when none.
func emitterAbove(tf *tmplFile, li int) int {
	for j := min(li, len(tf.lines)-1); j >= 0 && tf.lines[j].actionOnly; j-- {
		for _, a := range tf.lines[j].actions {
			switch a.kind {
			case emitToYaml, emitInclude, emitTpl, emitValue:
				return j
			}
		}
	}
	return li
}

// lineRef is a line number a loader message gives besides its own.
var lineRef = regexp.MustCompile(` at line (\d+)`)

// freshValues gives one render its own copy of the values: templates may
// change .Values (`set .Values "_cert" (genSignedCert ...)` caches a
// generated certificate for the next include), and the trace and
// generator renders must start from the values the real render started
// from, or they take other branches and see no generated field.
func freshValues(rv chartutil.Values) chartutil.Values {
	out := make(chartutil.Values, len(rv))
	maps.Copy(out, rv)
	if v, err := copystructure.Copy(rv["Values"]); err == nil {
		out["Values"] = v
	}
	return out
}

func (r *renderer) userValuesOnce() *userValues {
	r.valuesOnce.Do(func() { r.user = r.loadUserValues() })
	return r.user
}

// checkDependencies reports dependencies listed in Chart.yaml that are
// missing from charts/, like `helm template` does.
func checkDependencies(ch *chart.Chart, name string) error {
	var missing []string
	for _, d := range ch.Metadata.Dependencies {
		found := false
		for _, sub := range ch.Dependencies() {
			if sub.Name() == d.Name {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("dependencies %s are listed in Chart.yaml but missing from charts/: run `helm dependency build %s` first", strings.Join(missing, ", "), name)
	}
	for _, sub := range ch.Dependencies() {
		if err := checkDependencies(sub, name+"/charts/"+sub.Name()); err != nil {
			return err
		}
	}
	return nil
}

// readArchive reads a packaged chart within Helm's size limits.
func (r *renderer) readArchive(p string) ([]*loader.BufferedFile, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, errors.New(manifest.PathErrorMessage(err))
	}
	if st.Size() > r.opt.maxOutput() {
		return nil, fmt.Errorf("archive is %d bytes, over the %d-byte limit", st.Size(), r.opt.maxOutput())
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, errors.New(manifest.PathErrorMessage(err))
	}
	return loader.LoadArchiveFiles(bytes.NewReader(data))
}

// readChartDir reads a chart directory like Helm's loader (honouring
// .helmignore) but refuses symbolic links that lead outside the chart,
// so a chart cannot read other files on the machine.
func (r *renderer) readChartDir(dir string) ([]*loader.BufferedFile, error) {
	box, err := newSandbox(dir)
	if err != nil {
		return nil, err
	}
	rules := ignore.Empty()
	if _, err := os.Stat(filepath.Join(dir, ignore.HelmIgnore)); err == nil {
		if rules, err = ignore.ParseFile(filepath.Join(dir, ignore.HelmIgnore)); err != nil {
			return nil, err
		}
	}
	rules.AddDefaults()
	var files []*loader.BufferedFile
	var total int64
	limit := r.opt.maxOutput()
	var walk func(real, rel string, depth int) error
	walk = func(real, rel string, depth int) error {
		if depth > 32 {
			return fmt.Errorf("%s: directories nested too deeply", rel)
		}
		entries, err := os.ReadDir(real)
		if err != nil {
			return errors.New(manifest.PathErrorMessage(err))
		}
		for _, e := range entries {
			n := path.Join(rel, e.Name())
			p := filepath.Join(real, e.Name())
			fi, err := os.Lstat(p)
			if err != nil {
				return errors.New(manifest.PathErrorMessage(err))
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				if err := box.check(p); err != nil {
					return fmt.Errorf("symbolic link %s points outside the chart directory", n)
				}
				if fi, err = os.Stat(p); err != nil {
					return errors.New(manifest.PathErrorMessage(err))
				}
			}
			if fi.IsDir() {
				if rules.Ignore(n, fi) {
					continue
				}
				if err := walk(p, n, depth+1); err != nil {
					return err
				}
				continue
			}
			if rules.Ignore(n, fi) {
				continue
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("cannot load irregular file %s", n)
			}
			if fi.Size() > loader.MaxDecompressedFileSize {
				return fmt.Errorf("chart file %s is larger than %d bytes", n, loader.MaxDecompressedFileSize)
			}
			total += fi.Size()
			if total > limit {
				return fmt.Errorf("chart is larger than %d bytes", limit)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return errors.New(manifest.PathErrorMessage(err))
			}
			files = append(files, &loader.BufferedFile{Name: n, Data: bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))})
		}
		return nil
	}
	if err := walk(dir, "", 0); err != nil {
		return nil, err
	}
	return files, nil
}

// index records the charts of the tree, their template outlines (with the
// file each was read from), and the named templates they define.
func (c *chartRender) index(ch *chart.Chart, parent *chartInfo, prefix []string, dir, rel string, onDisk map[string][]byte) {
	ci := &chartInfo{c: ch, prefix: prefix, templates: map[string]*tmplFile{}, archive: c.archive}
	if parent != nil {
		ci.chain = append(ci.chain, parent.chain...)
		if parent.archive != "" {
			ci.archive = parent.archive
		}
	}
	ci.chain = append(ci.chain, ci)
	inArchive := dir == "" || ci.archive != ""
	if !inArchive {
		if _, ok := onDisk[path.Join(rel, "values.yaml")]; ok {
			ci.valuesFile = c.r.display(filepath.Join(dir, filepath.FromSlash(rel), "values.yaml"))
		}
	}
	c.byPath[ch.ChartFullPath()] = ci
	for _, t := range ch.Templates {
		file := ""
		display := ci.archive
		if !inArchive && bytes.Equal(onDisk[path.Join(rel, t.Name)], t.Data) {
			file = filepath.Join(dir, filepath.FromSlash(path.Join(rel, t.Name)))
			display = c.r.display(file)
		}
		if display == "" {
			display = ch.Name() + "/" + t.Name
		}
		tf := parseTemplate(t.Name, file, display, string(t.Data))
		tf.full = ch.ChartFullPath() + "/" + t.Name
		ci.templates[t.Name] = tf
		for n, b := range tf.defines {
			if _, dup := c.defines[n]; !dup || parent == nil {
				c.defines[n] = defineBody{file: tf, lo: b[0], hi: b[1]}
			}
		}
	}
	for _, sub := range ch.Dependencies() {
		subRel, subArchive := findSubchartDir(sub, rel, onDisk)
		sp := append(append([]string{}, prefix...), sub.Name())
		saved := c.archive
		if subArchive != "" && ci.archive == "" && dir != "" {
			c.archive = c.r.display(filepath.Join(dir, filepath.FromSlash(subArchive)))
		}
		c.index(sub, ci, sp, dir, subRel, onDisk)
		c.archive = saved
	}
}

// findSubchartDir finds where a subchart's files sit below rel/charts/:
// a directory (returned as its relative path) or an archive (returned
// second).
func findSubchartDir(sub *chart.Chart, rel string, onDisk map[string][]byte) (string, string) {
	base := path.Join(rel, "charts") + "/"
	dirs := map[string]bool{}
	for n := range onDisk {
		if !strings.HasPrefix(n, base) {
			continue
		}
		restPath := strings.TrimPrefix(n, base)
		if i := strings.IndexByte(restPath, '/'); i > 0 {
			dirs[restPath[:i]] = true
		}
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		cand := base + d
		if cy, ok := onDisk[cand+"/Chart.yaml"]; ok {
			var md chart.Metadata
			if sigsyaml.Unmarshal(cy, &md) == nil && md.Name == sub.Name() {
				return cand, ""
			}
		}
	}
	for _, d := range names {
		cand := base + d
		for _, t := range sub.Templates {
			if bytes.Equal(onDisk[cand+"/"+t.Name], t.Data) {
				return cand, ""
			}
		}
	}
	for n := range onDisk {
		if strings.HasPrefix(n, base) && isChartArchive(n) && strings.HasPrefix(path.Base(n), sub.Name()) {
			return "", n
		}
	}
	return base + sub.Name(), ""
}

// template returns the chart and outline of a rendered template name
// ("web/charts/cache/templates/x.yaml").
func (c *chartRender) template(full string) (*chartInfo, *tmplFile) {
	best := ""
	for p := range c.byPath {
		if strings.HasPrefix(full, p+"/") && len(p) > len(best) {
			best = p
		}
	}
	ci := c.byPath[best]
	if ci == nil {
		return nil, nil
	}
	return ci, ci.templates[strings.TrimPrefix(full, best+"/")]
}

// segments splits a template at its "---" lines into line ranges.
func (tf *tmplFile) segments() [][2]int {
	var segs [][2]int
	start := 0
	for i := range tf.lines {
		if tf.lines[i].separator {
			segs = append(segs, [2]int{start, i})
			start = i + 1
		}
	}
	segs = append(segs, [2]int{start, len(tf.lines)})
	// Drop segments with no structure (a leading "---").
	out := segs[:0]
	for _, s := range segs {
		if tf.firstLevel(s[0], s[1]) >= 0 || hasActions(tf, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return [][2]int{{0, len(tf.lines)}}
	}
	return out
}

func hasActions(tf *tmplFile, s [2]int) bool {
	for i := s[0]; i < s[1]; i++ {
		if len(tf.lines[i].actions) > 0 {
			return true
		}
	}
	return false
}

// helmDocuments cuts a rendered template into documents with Helm's own
// splitter (releaseutil.SplitManifests, what `helm template` and install
// use), which splits at "---" even when a trim marker ate the newline
// after it, and joins them again with plain separators for the YAML
// loader.
func helmDocuments(text string) []byte {
	docs := splitHelmDocs(text)
	var b bytes.Buffer
	b.Grow(len(text) + 4*len(docs))
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.WriteString(stripFinalBlockNewline(d))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// blockHeader matches a line that opens a block scalar: "key: |",
// "- >+", "key: |2- # comment"; group 1 is the indicator's chomping.
var blockHeader = regexp.MustCompile(`(?:^\s*-|:)\s+[|>]([0-9]?[+-]?[0-9]?)\s*(?:#.*)?$`)

// stripFinalBlockNewline gives a block scalar that ends the document the
// "strip" chomping indicator: Helm trims every document it splits, so
// the scalar's final newline (and kept blank lines) are not in the
// manifest it applies, while this document, written back into a stream,
// would keep them.
func stripFinalBlockNewline(d string) string {
	lines := strings.Split(d, "\n")
	last := lines[len(lines)-1]
	ind := len(last) - len(strings.TrimLeft(last, " "))
	if ind == 0 {
		return d
	}
	// The header is the first line above, less indented than every line
	// after it, that opens a block scalar; content lines may be indented
	// more than the block's own indentation.
	for i := len(lines) - 2; i >= 0; i-- {
		l := lines[i]
		li := len(l) - len(strings.TrimLeft(l, " "))
		if strings.TrimSpace(l) == "" || li >= ind {
			continue
		}
		ind = li
		m := blockHeader.FindStringSubmatchIndex(l)
		if m == nil {
			continue
		}
		chomp := l[m[2]:m[3]]
		chomp = strings.NewReplacer("+", "", "-", "").Replace(chomp) + "-"
		lines[i] = l[:m[2]] + chomp + l[m[3]:]
		return strings.Join(lines, "\n")
	}
	return d
}

// splitHelmDocs returns the documents Helm's splitter finds, in order,
// without those holding only comments (so that document numbers agree
// with the loader's).
func splitHelmDocs(text string) []string {
	docs := releaseutil.SplitManifests(text)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if docHasContent(docs[k]) {
			out = append(out, docs[k])
		}
	}
	return out
}

// docHasContent reports whether a document has a line that is neither
// blank nor a comment.
func docHasContent(d string) bool {
	for _, l := range strings.Split(d, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

// segmentFor picks the template segment that produced rendered document
// doc of kind (the nth of that kind): by position when the counts agree,
// else by a literal "kind:" line.
func (tf *tmplFile) segmentFor(segs [][2]int, ndocs, doc int, kind string, nth int) (int, int) {
	if len(segs) == 1 {
		return segs[0][0], segs[0][1]
	}
	if len(segs) == ndocs && doc < len(segs) {
		return segs[doc][0], segs[doc][1]
	}
	var withKind [][2]int
	for _, s := range segs {
		for i := s[0]; i < s[1]; i++ {
			l := &tf.lines[i]
			if l.key == "kind" && strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l.text[l.keyCol+4:]), ":")) == kind {
				withKind = append(withKind, s)
				break
			}
		}
	}
	switch {
	case len(withKind) > nth:
		return withKind[nth][0], withKind[nth][1]
	case len(withKind) > 0:
		return withKind[0][0], withKind[0][1]
	}
	return 0, len(tf.lines)
}

// valuesLineErr finds the line in a values file's YAML error.
var valuesLineErr = regexp.MustCompile(`yaml: line (\d+): (.*)$`)

// shortenTemplateError collapses the chain of a recursive include
// ("error calling include: " repeated until Helm's depth limit) into one
// link and a count, and bounds what is left.
func shortenTemplateError(msg string) string {
	const sep = ": error calling include: "
	parts := strings.Split(msg, sep)
	if len(parts) > 3 {
		var out []string
		for i := 0; i < len(parts); {
			j := i
			for j+1 < len(parts) && parts[j+1] == parts[i] {
				j++
			}
			if n := j - i + 1; n > 2 {
				out = append(out, fmt.Sprintf("%s (repeated %d times: a recursive include)", parts[i], n))
			} else {
				out = append(out, parts[i:j+1]...)
			}
			i = j + 1
		}
		msg = strings.Join(out, sep)
	}
	if len(msg) > 1500 {
		msg = msg[:700] + " … " + msg[len(msg)-700:]
	}
	return msg
}

var templatePos = regexp.MustCompile(`([\w.-]+(?:/[\w.-]+)*\.(?:yaml|yml|tpl|txt|json)):(\d+)`)

// templateErrorPos finds the first template position in a Helm error and
// maps it into the chart directory: Helm's template names start with the
// chart's name, which is not a directory of the chart.
func templateErrorPos(chartDir, msg string) (string, int) {
	for _, m := range templatePos.FindAllStringSubmatch(msg, -1) {
		name := m[1]
		i := strings.IndexByte(name, '/')
		if i < 0 {
			continue
		}
		f := filepath.Join(chartDir, filepath.FromSlash(name[i+1:]))
		if st, err := os.Stat(f); err != nil || !st.Mode().IsRegular() {
			continue
		}
		line, err := strconv.Atoi(m[2])
		if err != nil || line < 1 {
			continue
		}
		return f, line
	}
	return "", 0
}

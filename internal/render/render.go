package render

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Defaults for Options.
const (
	DefaultTimeout        = 60 * time.Second
	DefaultMaxOutputBytes = 256 << 20
	// DefaultMaxMemory bounds the heap while a render runs: far above
	// what real charts and overlays need (a few hundred MB for the
	// largest repositories), far below what exhausts a CI runner.
	DefaultMaxMemory = 2 << 30
	// DefaultReleaseName and DefaultNamespace are what `helm template`
	// uses.
	DefaultReleaseName = "release-name"
	DefaultNamespace   = "default"
)

// HelmOptions are the values and release settings charts are rendered
// with; they mirror `helm template`'s flags.
type HelmOptions struct {
	// ValuesFiles are merged in order (--values/-f).
	ValuesFiles []string
	// Set, SetString and SetFile are --set, --set-string and --set-file.
	Set       []string
	SetString []string
	SetFile   []string
	// ReleaseName defaults to "release-name", Namespace to "default".
	ReleaseName string
	Namespace   string
	// KubeVersion sets .Capabilities.KubeVersion (e.g. "1.31.0");
	// "" means DefaultKubeVersion. Charts whose Chart.yaml kubeVersion
	// excludes it are not rendered (an error says so).
	KubeVersion string
	// APIVersions are added to .Capabilities.APIVersions.
	APIVersions []string
}

// Options controls discovery and rendering.
type Options struct {
	Helm HelmOptions
	// AllowRemote lets kustomize fetch remote bases and resources.
	AllowRemote bool
	// Timeout bounds each kustomization and chart; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxOutputBytes bounds what one render may produce (and, for
	// kustomize, read); 0 means DefaultMaxOutputBytes.
	MaxOutputBytes int64
	// Manifest is passed to manifest loading.
	Manifest manifest.Options
	// Log receives -v diagnostics; nil discards them.
	Log io.Writer
	// Disabled treats every input as plain YAML (no rendering).
	Disabled bool
	// Exclude keeps matching paths out of directory walks (--exclude and
	// the config's exclude:); NoGitignore stops walks from honouring the
	// repository's .gitignore files. Paths named as arguments are always
	// read.
	Exclude     []ExcludeRule
	NoGitignore bool
	// MaxMemory bounds the process's heap while a chart or kustomization
	// renders; 0 means DefaultMaxMemory. A template can allocate without
	// bound ({{ range until 100000000 }}), and Helm's engine cannot be
	// interrupted: past the bound Abort is called with an error naming
	// the render.
	MaxMemory int64
	// Abort ends the run (it must not return: the abandoned render would
	// go on allocating). Nil reports the error for the unit and goes on.
	Abort func(error)
}

// HelmValuesGiven reports whether any -f/--set* flag was given.
func (h *HelmOptions) HelmValuesGiven() bool {
	return len(h.ValuesFiles)+len(h.Set)+len(h.SetString)+len(h.SetFile) > 0
}

func (o *Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o *Options) maxMemory() int64 {
	if o.MaxMemory > 0 {
		return o.MaxMemory
	}
	return DefaultMaxMemory
}

func (o *Options) maxOutput() int64 {
	if o.MaxOutputBytes > 0 {
		return o.MaxOutputBytes
	}
	return DefaultMaxOutputBytes
}

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// unitKind is what a discovered input is.
type unitKind int

const (
	unitKustomize unitKind = iota
	unitChart
	unitChartArchive
)

func (k unitKind) String() string {
	switch k {
	case unitKustomize:
		return "kustomization"
	case unitChart:
		return "chart"
	}
	return "chart archive"
}

// unit is one kustomization or chart to render.
type unit struct {
	kind unitKind
	path string // absolute directory, or archive file
}

// renderer holds the state of one Load call.
type renderer struct {
	opt  *Options
	tree *kustTree
	// base is the absolute directory display paths are relative to.
	base string
	// roots bound what a kustomization may read (sandboxRoot).
	roots []string

	valuesOnce sync.Once
	user       *userValues
	// skipped are inputs found but deliberately not rendered.
	skipped []manifest.Skipped
}

func (r *renderer) display(p string) string {
	return manifest.DisplayPath(p, r.base)
}

// Load discovers kustomizations and charts under args (files,
// directories, "-"), renders them, loads the remaining plain YAML, and
// returns one Result in a deterministic order: rendered inputs first,
// sorted by path, then plain files. Objects from renders have Locator set
// (positions in the user's own source files) and Origin set (e.g.
// "kustomize overlays/prod", "helm chart charts/web (release web)"). A
// render error is an InputError naming the kustomization or chart and the
// cause; everything else is still loaded.
func Load(args []string, opt Options) *manifest.Result {
	if opt.Disabled && len(opt.Exclude) == 0 && opt.NoGitignore {
		return manifest.LoadPaths(args, opt.Manifest)
	}
	r := &renderer{opt: &opt, base: opt.Manifest.BaseDir}
	if r.base == "" {
		r.base, _ = os.Getwd()
	}
	if abs, err := filepath.Abs(r.base); err == nil {
		r.base = abs
	}
	r.roots = sandboxRoots(args)
	r.tree = newKustTree(nil, opt.Manifest.MaxFileSize)
	units, loose, errs := r.discover(args)
	if opt.Helm.HelmValuesGiven() && !opt.Disabled && !hasChart(units) {
		errs = append(errs, finding.InputError{File: "<command line>", Message: "-f/--values, --set, --set-string or --set-file given, but no Helm chart is among the inputs"})
	}
	out := &manifest.Result{Errors: errs, Skipped: r.skipped}
	results := make([]*manifest.Result, len(units))
	reads := make([][]string, len(units))
	for i, u := range units {
		if u.kind == unitKustomize {
			reads[i] = resourceFiles(r.tree.load(u.path))
			r.tree.retain(reads[i])
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for i, u := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			results[i] = r.renderUnit(u)
			r.tree.release(reads[i])
			opt.logf("rendered %s %s: %d objects, %d errors in %s", u.kind, r.display(u.path), len(results[i].Objects), len(results[i].Errors), time.Since(start).Round(time.Millisecond))
		}()
	}
	wg.Wait()
	for _, res := range results {
		out.Merge(res)
	}
	if len(loose) > 0 {
		out.Merge(manifest.LoadFiles(loose, opt.Manifest))
	}
	out.Files = dedupe(out.Files)
	return out
}

// renderUnit renders one unit under the time limit, turning a panic in
// third-party rendering code into an error.
func (r *renderer) renderUnit(u unit) *manifest.Result {
	ctx, cancel := context.WithTimeout(context.Background(), r.opt.timeout())
	defer cancel()
	visits := &unitVisits{visit: r.opt.Manifest.Visit}
	done := make(chan *manifest.Result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				r.opt.logf("panic rendering %s: %v\n%s", u.path, p, debug.Stack())
				done <- &manifest.Result{Errors: []finding.InputError{{File: r.display(u.path), Message: fmt.Sprintf("rendering %s %s: internal error: %v", u.kind, r.display(u.path), p)}}}
			}
		}()
		switch u.kind {
		case unitKustomize:
			done <- r.renderKustomization(ctx, u.path, visits.do)
		default:
			done <- r.renderChart(ctx, u, visits.do)
		}
	}()
	over := watchHeap(ctx, r.opt.maxMemory())
	select {
	case res := <-done:
		return res
	case heap := <-over:
		visits.stop()
		err := fmt.Errorf("rendering %s %s: stopped at %d MiB of memory (the limit is %d MiB): a template that allocates without bound is not rendered", u.kind, r.display(u.path), heap>>20, r.opt.maxMemory()>>20)
		if r.opt.Abort != nil {
			r.opt.Abort(err)
		}
		return &manifest.Result{Errors: []finding.InputError{{File: r.display(u.path), Message: err.Error()}}}
	case <-ctx.Done():
		// Rendering cannot be interrupted everywhere (Helm's template
		// engine has no context); the goroutine is abandoned.
		visits.stop()
		return &manifest.Result{Errors: []finding.InputError{{File: r.display(u.path), Message: fmt.Sprintf("rendering %s %s: timed out after %s (--render-timeout)", u.kind, r.display(u.path), r.opt.timeout())}}}
	}
}

// unitVisits hands one unit's objects to Options.Manifest.Visit until the
// unit is abandoned (timed out, or over the memory bound). Its render
// goroutine runs on, but must not visit after Load has returned: the
// caller is finishing the run by then (engine.Collector.Finish reads
// what Visit writes), and the unit's objects are not in the result.
type unitVisits struct {
	mu      sync.Mutex
	stopped bool
	visit   func(*manifest.Object)
}

func (v *unitVisits) do(o *manifest.Object) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.stopped && v.visit != nil {
		v.visit(o)
	}
}

// stop waits for a visit under way and drops every later one.
func (v *unitVisits) stop() {
	v.mu.Lock()
	v.stopped = true
	v.mu.Unlock()
}

// isChartArchive reports whether a file name is a packaged chart.
func isChartArchive(name string) bool {
	l := strings.ToLower(name)
	return strings.HasSuffix(l, ".tgz") || strings.HasSuffix(l, ".tar.gz")
}

// chartOfTemplate returns the chart directory when p is a chart's
// templates/ folder or lies inside it, else "".
func chartOfTemplate(p string) string {
	for d := p; ; {
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		if filepath.Base(d) == "templates" && isChartDir(parent) {
			return parent
		}
		d = parent
	}
}

func isChartDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil && st.Mode().IsRegular()
}

// discover sorts args into units to render and plain files to load.
func (r *renderer) discover(args []string) (units []unit, loose []string, errs []finding.InputError) {
	seenUnit := map[unit]bool{}
	seenFile := map[string]bool{}
	addUnit := func(u unit) {
		if !seenUnit[u] {
			seenUnit[u] = true
			units = append(units, u)
		}
	}
	addLoose := func(p string) {
		if !seenFile[p] {
			seenFile[p] = true
			loose = append(loose, p)
		}
	}
	for _, a := range args {
		if a == "-" {
			addLoose(a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			errs = append(errs, finding.InputError{File: a, Message: manifest.PathErrorMessage(err)})
			continue
		}
		abs, err := filepath.Abs(a)
		if err != nil {
			errs = append(errs, finding.InputError{File: a, Message: err.Error()})
			continue
		}
		if c := chartOfTemplate(abs); c != "" && !r.opt.Disabled {
			// One clear error, not a YAML syntax error per template.
			errs = append(errs, finding.InputError{File: a, Message: fmt.Sprintf("Helm templates of the chart %s are not plain YAML: lint the chart directory (kubectl secure lint %s)", r.display(c), r.display(c))})
			continue
		}
		if !st.IsDir() {
			base := filepath.Base(a)
			switch {
			case r.opt.Disabled:
				addLoose(a)
			case isKustFileName(base):
				addUnit(unit{kind: unitKustomize, path: filepath.Dir(abs)})
			case base == "Chart.yaml":
				addUnit(unit{kind: unitChart, path: filepath.Dir(abs)})
			case isChartArchive(base):
				addUnit(unit{kind: unitChartArchive, path: abs})
			default:
				addLoose(a)
			}
			continue
		}
		us, ls, es := r.discoverDir(a, abs)
		for _, u := range us {
			addUnit(u)
		}
		for _, l := range ls {
			addLoose(l)
		}
		errs = append(errs, es...)
	}
	sort.SliceStable(units, func(i, j int) bool { return units[i].path < units[j].path })
	return r.dropComponents(units), loose, errs
}

func hasChart(units []unit) bool {
	for _, u := range units {
		if u.kind != unitKustomize {
			return true
		}
	}
	return false
}

// dropComponents removes kustomize Components from the units: a
// component patches the kustomization that includes it and has no
// meaning alone (kustomize refuses to build one). Its files stay claimed,
// so they are not linted as plain YAML either.
func (r *renderer) dropComponents(units []unit) []unit {
	out := units[:0]
	for _, u := range units {
		if u.kind == unitKustomize && r.tree.load(u.path).component {
			r.skipped = append(r.skipped, manifest.Skipped{File: r.display(filepath.Join(u.path, filepath.Base(findKustFile(u.path)))), Reason: "a kustomize Component is rendered only through the kustomizations that include it"})
			continue
		}
		out = append(out, u)
	}
	return out
}

// looksLikeChartArchive reports whether a .tgz holds a Helm chart (a
// Chart.yaml in its top directory), reading only the tar headers.
func looksLikeChartArchive(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return true // let rendering report the error
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	tr := tar.NewReader(zr)
	for range 10000 {
		h, err := tr.Next()
		if err != nil {
			return false
		}
		parts := strings.Split(strings.TrimPrefix(path.Clean(h.Name), "./"), "/")
		if len(parts) == 2 && parts[1] == "Chart.yaml" {
			return true
		}
	}
	return false
}

// discoverDir walks one directory argument. Chart directories are not
// descended into; kustomizations referenced by another kustomization found
// here are rendered only through it; files a kustomization reads are not
// loaded as plain YAML.
func (r *renderer) discoverDir(arg, abs string) (units []unit, loose []string, errs []finding.InputError) {
	var kdirs, files []string
	arg = manifest.WalkRoot(arg)
	filter := newWalkFilter(abs, r.opt.Exclude, r.base, !r.opt.NoGitignore)
	err := filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, finding.InputError{File: p, Message: manifest.PathErrorMessage(err)})
			return nil
		}
		pabs := abs
		if p != arg {
			rel, _ := filepath.Rel(arg, p)
			pabs = filepath.Join(abs, rel)
			if filter.skip(pabs, d.IsDir()) {
				r.opt.logf("skipping %s: excluded", p)
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.IsDir() {
			if p != arg && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			filter.enter(pabs)
			if r.opt.Disabled {
				return nil
			}
			// An excluded Chart.yaml or kustomization file takes its
			// directory out of rendering (a chart entirely: its templates
			// are not plain YAML), as the user who wrote '*.yaml' or
			// '**/kustomization.yaml' means; a directory named on the
			// command line is always rendered.
			excluded := func(marker string) bool {
				if p == arg || !filter.skip(filepath.Join(pabs, filepath.Base(marker)), false) {
					return false
				}
				r.opt.logf("skipping %s: %s is excluded", p, filepath.Base(marker))
				return true
			}
			if isChartDir(p) {
				if excluded("Chart.yaml") {
					return filepath.SkipDir
				}
				cabs, _ := filepath.Abs(p)
				units = append(units, unit{kind: unitChart, path: cabs})
				return filepath.SkipDir
			}
			if kf := findKustFile(p); kf != "" && !excluded(kf) {
				kabs, _ := filepath.Abs(p)
				kdirs = append(kdirs, kabs)
			}
			return nil
		}
		if isChartArchive(d.Name()) && d.Type().IsRegular() && !r.opt.Disabled {
			// Packaged charts are rendered; those in a chart's charts/
			// folder are dependencies and never reached (chart
			// directories are not descended into).
			if looksLikeChartArchive(p) {
				cabs, _ := filepath.Abs(p)
				units = append(units, unit{kind: unitChartArchive, path: cabs})
			} else {
				r.opt.logf("skipping %s: not a Helm chart archive", p)
			}
			return nil
		}
		ok, ierr := manifest.WalkedFile(p, d)
		if ierr != nil {
			errs = append(errs, *ierr)
		}
		if ok {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, finding.InputError{File: arg, Message: err.Error()})
	}
	referenced := map[string]bool{}
	claimed := map[string]bool{}
	for _, d := range kdirs {
		k := r.tree.load(d)
		walkKusts(k, func(sub *kust) {
			if sub != k {
				referenced[sub.dir] = true
			}
			for _, c := range sub.claims {
				claimed[c] = true
			}
		})
	}
	for _, d := range kdirs {
		if !referenced[d] || d == abs {
			units = append(units, unit{kind: unitKustomize, path: d})
		}
	}
	kdir := make(map[string]bool, len(kdirs))
	for _, d := range kdirs {
		kdir[d] = true
	}
	for _, f := range files {
		if isKustFileName(filepath.Base(f)) {
			continue
		}
		if len(kdirs) > 0 {
			// Only now: filepath.Abs asks for the working directory.
			fabs, _ := filepath.Abs(f)
			if claimed[fabs] {
				continue
			}
			if k := unlistedPatchOf(fabs, kdir); k != "" {
				reason := fmt.Sprintf("a patch that %s does not list: kustomize does not apply it, and alone it is a fragment, not a manifest (name the file to lint it alone)", r.display(findKustFile(k)))
				r.skipped = append(r.skipped, manifest.Skipped{File: r.display(fabs), Reason: reason})
				continue
			}
		}
		loose = append(loose, f)
	}
	sort.Strings(loose)
	return units, loose, errs
}

// unlistedPatchOf returns the kustomization directory (one of kdir) whose
// patch f is, unread by it: a file named like a patch next to it
// (kubebuilder scaffolds leave disabled manager_auth_proxy_patch.yaml and
// webhookcainjection_patch.yaml next to default/kustomization.yaml), or
// any file in its patches/ folder. Other unlisted files there may be
// applied on their own (microservices-demo deploys its loadgenerator.yaml
// apart from the kustomization beside it) and are linted.
func unlistedPatchOf(f string, kdir map[string]bool) string {
	d := filepath.Dir(f)
	if kdir[d] && strings.Contains(strings.ToLower(filepath.Base(f)), "patch") {
		return d
	}
	if b := strings.ToLower(filepath.Base(d)); (b == "patches" || b == "patch") && kdir[filepath.Dir(d)] {
		return filepath.Dir(d)
	}
	return ""
}

// dedupe drops repeated strings, keeping the first of each.
func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

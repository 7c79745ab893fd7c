package render

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// A Component found in a walk without the kustomization that includes
// it is not built on its own (kustomize cannot), and its patch file is
// not linted as plain YAML either.
func TestComponentAloneIsNotRendered(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp) // reads are confined to the working directory
	comp := filepath.Join(tmp, "components", "debug")
	write(t, filepath.Join(comp, "kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: patch.yaml\n    target:\n      kind: Deployment\n")
	write(t, filepath.Join(comp, "patch.yaml"), "- op: add\n  path: /spec/template/spec/hostPID\n  value: true\n")
	for _, arg := range []string{tmp, comp, filepath.Join(comp, "kustomization.yaml")} {
		res := Load([]string{arg}, Options{Manifest: manifest.Options{BaseDir: tmp}})
		noErrors(t, res)
		if len(res.Objects) != 0 || len(res.Skipped) != 1 || res.Skipped[0].File != "components/debug/kustomization.yaml" || !strings.Contains(res.Skipped[0].Reason, "Component") {
			t.Errorf("%s: objects %d skipped %v", arg, len(res.Objects), res.Skipped)
		}
	}
	// Through the overlay that includes it, it applies.
	write(t, filepath.Join(tmp, "base", "kustomization.yaml"), "resources:\n  - deploy.yaml\n")
	write(t, filepath.Join(tmp, "base", "deploy.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n")
	write(t, filepath.Join(tmp, "overlay", "kustomization.yaml"), "resources:\n  - ../base\ncomponents:\n  - ../components/debug\n")
	res := Load([]string{tmp}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	noErrors(t, res)
	if len(res.Objects) != 1 || res.Objects[0].Get(manifest.ParsePath("spec.template.spec.hostPID")) == nil || len(res.Skipped) != 0 {
		t.Fatalf("objects %d skipped %v", len(res.Objects), res.Skipped)
	}
}

// A directory holding only packaged charts renders them; archives in a
// chart's charts/ folder are its dependencies, and other archives are
// not charts.
func TestWalkRendersPackagedCharts(t *testing.T) {
	tmp := t.TempDir()
	web, err := loader.LoadDir(filepath.Join(testdataDir(t), "helm", "web"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chartutil.Save(web, filepath.Join(tmp, "packages")); err != nil {
		t.Fatal(err)
	}
	// A chart directory whose dependency is packaged in charts/.
	cache, err := loader.LoadDir(filepath.Join(testdataDir(t), "helm", "web", "charts", "cache"))
	if err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(tmp, "app")
	write(t, filepath.Join(app, "Chart.yaml"), "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: cache\n    version: 0.1.0\n")
	write(t, filepath.Join(app, "templates", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n")
	if _, err := chartutil.Save(cache, filepath.Join(app, "charts")); err != nil {
		t.Fatal(err)
	}
	// A tarball that is not a chart.
	writeTarGz(t, filepath.Join(tmp, "packages", "backup.tar.gz"), map[string]string{"data/notes.txt": "x"})

	res := Load([]string{tmp}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	noErrors(t, res)
	origins := map[string]int{}
	for _, o := range res.Objects {
		origins[o.Origin]++
	}
	want := map[string]int{
		"helm chart app (release release-name)":                    2, // its ConfigMap and the packaged cache's StatefulSet
		"helm chart packages/web-0.1.0.tgz (release release-name)": 4,
	}
	for o, n := range want {
		if origins[o] != n {
			t.Errorf("%s: %d objects, want %d (all: %v)", o, origins[o], n, origins)
		}
	}
	if len(origins) != len(want) {
		t.Errorf("origins %v", origins)
	}
}

func writeTarGz(t *testing.T, p string, files map[string]string) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for n, c := range files {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []interface{ Close() error }{tw, zw, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// Walks honour --exclude (gitignore syntax, relative to its directory)
// and the repository's .gitignore files (from the top of the work tree,
// deeper files first), unless turned off; named files are always read.
func TestWalkExcludesAndGitignore(t *testing.T) {
	tmp := t.TempDir()
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
	}
	if err := os.Mkdir(filepath.Join(tmp, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(tmp, ".gitignore"), "# generated output\ngenerated/\n*.tmpl.yaml\n!keep.tmpl.yaml\n")
	write(t, filepath.Join(tmp, "deploy", ".gitignore"), "local.yaml\n")
	for _, f := range []string{"deploy/app.yaml", "deploy/local.yaml", "deploy/x.tmpl.yaml", "deploy/keep.tmpl.yaml",
		"generated/out.yaml", "examples/ex.yaml", "deploy/examples/ex2.yaml", "deploy/profiles/a/p.yaml", "deploy/profiles/top.yaml", "other/o.yaml"} {
		write(t, filepath.Join(tmp, f), cm(strings.NewReplacer("/", "-", ".", "-").Replace(f)))
	}
	names := func(res *manifest.Result) string {
		var out []string
		for _, o := range res.Objects {
			out = append(out, o.File)
		}
		return strings.Join(out, " ")
	}
	base := Options{Manifest: manifest.Options{BaseDir: tmp}}
	opt := base
	opt.Exclude = []ExcludeRule{{Pattern: "examples/"}, {Pattern: "deploy/profiles/**/*.yaml"}, {Pattern: "o.yaml", Dir: filepath.Join(tmp, "other")}}
	for _, arg := range []string{tmp, filepath.Join(tmp, "deploy")} {
		res := Load([]string{arg}, opt)
		noErrors(t, res)
		// (a/**/b also matches a/b, as in git)
		want := "deploy/app.yaml deploy/keep.tmpl.yaml"
		if got := names(res); got != want {
			t.Errorf("lint %s: %s\nwant %s", arg, got, want)
		}
	}
	// The same with --no-render: plain YAML walks filter alike.
	opt.Disabled = true
	if got := names(Load([]string{tmp}, opt)); got != "deploy/app.yaml deploy/keep.tmpl.yaml" {
		t.Errorf("--no-render: %s", got)
	}
	// --no-gitignore: only the exclude rules apply.
	opt = base
	opt.NoGitignore = true
	opt.Exclude = []ExcludeRule{{Pattern: "**/examples"}}
	if got := names(Load([]string{tmp}, opt)); got != "deploy/app.yaml deploy/keep.tmpl.yaml deploy/local.yaml deploy/profiles/a/p.yaml deploy/profiles/top.yaml deploy/x.tmpl.yaml generated/out.yaml other/o.yaml" {
		t.Errorf("--no-gitignore: %s", got)
	}
	// A file named explicitly is read even when ignored.
	if got := names(Load([]string{filepath.Join(tmp, "generated", "out.yaml")}, base)); got != "generated/out.yaml" {
		t.Errorf("explicit: %s", got)
	}
	// So is an ignored directory named explicitly: every file below it,
	// but for what the .gitignore files inside it ignore.
	write(t, filepath.Join(tmp, "generated", "sub", "more.yaml"), cm("more"))
	write(t, filepath.Join(tmp, "generated", ".gitignore"), "scratch.yaml\n")
	write(t, filepath.Join(tmp, "generated", "scratch.yaml"), cm("scratch"))
	if got := names(Load([]string{filepath.Join(tmp, "generated")}, base)); got != "generated/out.yaml generated/sub/more.yaml" {
		t.Errorf("explicit ignored directory: %s", got)
	}
	if got := names(Load([]string{tmp}, base)); strings.Contains(got, "generated/") {
		t.Errorf("walking from the top still skips the ignored directory: %s", got)
	}
}

// Helm values flags without any chart among the inputs are a mistake.
func TestHelmValuesWithoutChart(t *testing.T) {
	tmp := t.TempDir()
	write(t, filepath.Join(tmp, "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
	res := Load([]string{tmp}, Options{Manifest: manifest.Options{BaseDir: tmp}, Helm: HelmOptions{Set: []string{"a=b"}}})
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "no Helm chart") || len(res.Objects) != 1 {
		t.Fatalf("errors %v objects %d", res.Errors, len(res.Objects))
	}
}

// Excluding a chart's Chart.yaml or a kustomization file (directly or by
// '*.yaml') keeps its directory from being rendered; the kustomization's
// other files are then walked like any others.
func TestWalkExcludedMarkerFiles(t *testing.T) {
	tmp := t.TempDir()
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"
	write(t, filepath.Join(tmp, "chart", "Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n")
	write(t, filepath.Join(tmp, "chart", "templates", "cm.yaml"), fmt.Sprintf(cm, "from-chart"))
	write(t, filepath.Join(tmp, "kust", "kustomization.yaml"), "resources: [cm.yaml]\nnamePrefix: k-\n")
	write(t, filepath.Join(tmp, "kust", "cm.yaml"), fmt.Sprintf(cm, "from-kust"))
	write(t, filepath.Join(tmp, "plain.yml"), fmt.Sprintf(cm, "plain"))
	names := func(res *manifest.Result) string {
		var out []string
		for _, o := range res.Objects {
			out = append(out, o.Name)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	for pattern, want := range map[string]string{
		"":                      "from-chart k-from-kust plain",
		"*.yaml":                "plain",
		"**/kustomization.yaml": "from-chart from-kust plain",
		"chart/Chart.yaml":      "k-from-kust plain",
	} {
		opt := Options{Manifest: manifest.Options{BaseDir: tmp}, NoGitignore: true}
		if pattern != "" {
			opt.Exclude = []ExcludeRule{{Pattern: pattern}}
		}
		res := Load([]string{tmp}, opt)
		noErrors(t, res)
		if got := names(res); got != want {
			t.Errorf("--exclude %q: %s, want %s", pattern, got, want)
		}
	}
}

// A chart's templates named on the command line are one clear error
// pointing at the chart, not a YAML syntax error per template; the
// chart's crds/ are plain YAML and linted; --no-render reads anything.
func TestChartTemplatesNamedDirectly(t *testing.T) {
	tmp := t.TempDir()
	write(t, filepath.Join(tmp, "c", "Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n")
	write(t, filepath.Join(tmp, "c", "templates", "cm.yaml"), "{{- if .Values.x }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.x }}\n{{- end }}\n")
	write(t, filepath.Join(tmp, "c", "templates", "sub", "cm2.yaml"), "{{ .Values.y }}\n")
	write(t, filepath.Join(tmp, "c", "crds", "crd.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: crd\n")
	opt := Options{Manifest: manifest.Options{BaseDir: tmp}}
	for _, arg := range []string{"c/templates", "c/templates/cm.yaml", "c/templates/sub"} {
		res := Load([]string{filepath.Join(tmp, arg)}, opt)
		if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "lint the chart directory (kubectl secure lint c)") || len(res.Objects) != 0 {
			t.Errorf("%s: errors %v, %d objects", arg, res.Errors, len(res.Objects))
		}
	}
	res := Load([]string{filepath.Join(tmp, "c", "crds")}, opt)
	noErrors(t, res)
	if len(res.Objects) != 1 {
		t.Errorf("crds: %d objects", len(res.Objects))
	}
	opt.Disabled = true
	if res := Load([]string{filepath.Join(tmp, "c", "templates", "cm.yaml")}, opt); len(res.Errors) != 1 || strings.Contains(res.Errors[0].Message, "chart directory") {
		t.Errorf("--no-render: %v", res.Errors)
	}
}

// A patch next to a kustomization (or in its patches/ folder) that the
// kustomization does not list is never applied: kubebuilder scaffolds
// leave disabled patches such as manager_auth_proxy_patch.yaml next to
// default/kustomization.yaml. A walk skips it, saying why, instead of
// linting a fragment as a workload (kubeflow, gatekeeper: a Deployment
// "without containers", removed webhook APIs). Other unlisted files there
// are linted (microservices-demo applies loadgenerator.yaml apart), and
// so is a patch named explicitly.
func TestWalkSkipsPatchesTheirKustomizationDoesNotList(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	write(t, filepath.Join(tmp, "default", "kustomization.yaml"), "resources:\n  - deploy.yaml\n#patchesStrategicMerge:\n#- manager_auth_proxy_patch.yaml\n")
	write(t, filepath.Join(tmp, "default", "deploy.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n")
	write(t, filepath.Join(tmp, "default", "loadgenerator.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: load\nspec:\n  containers:\n    - name: c\n      image: busybox:1.36\n")
	patch := filepath.Join(tmp, "default", "manager_auth_proxy_patch.yaml")
	write(t, patch, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: proxy\n          image: proxy:1.0\n")
	write(t, filepath.Join(tmp, "default", "patches", "add_sa.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      serviceAccountName: web\n")
	write(t, filepath.Join(tmp, "examples", "pod_patch.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: busybox:1.36\n")
	res := Load([]string{tmp}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	noErrors(t, res)
	var got, skipped []string
	for _, o := range res.Objects {
		got = append(got, o.Kind+" "+o.File)
	}
	for _, s := range res.Skipped {
		if strings.Contains(s.Reason, "a patch that default/kustomization.yaml does not list") {
			skipped = append(skipped, s.File)
		}
	}
	sort.Strings(got)
	sort.Strings(skipped)
	if want := []string{"Deployment default/deploy.yaml", "Pod default/loadgenerator.yaml", "Pod examples/pod_patch.yaml"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("objects %v, want %v", got, want)
	}
	if want := []string{"default/manager_auth_proxy_patch.yaml", "default/patches/add_sa.yaml"}; strings.Join(skipped, ",") != strings.Join(want, ",") || len(res.Skipped) != 2 {
		t.Errorf("skipped %v, want %v (all: %v)", skipped, want, res.Skipped)
	}
	res = Load([]string{patch}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	if len(res.Objects) != 1 || len(res.Skipped) != 0 {
		t.Errorf("named explicitly: objects %d skipped %v", len(res.Objects), res.Skipped)
	}
}

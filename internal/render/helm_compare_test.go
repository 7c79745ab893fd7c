package render

import (
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// helmTemplate renders a chart the way `helm template` does (Helm's
// loader, values and engine, then its document splitter on each
// template's output; NOTES.txt and partials dropped) and returns every
// object as canonical JSON, sorted.
func helmTemplate(t *testing.T, chartDir, kubeVersion string) ([]string, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, map[string]any{}); err != nil {
		return nil, err
	}
	caps := chartutil.DefaultCapabilities.Copy()
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	caps.KubeVersion = *kv
	vals, err := chartutil.ToRenderValues(ch, map[string]any{}, chartutil.ReleaseOptions{Name: DefaultReleaseName, Namespace: DefaultNamespace, Revision: 1, IsInstall: true}, caps)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	var out []string
	for name, text := range files {
		if strings.HasPrefix(path.Base(name), "_") || strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		for _, doc := range releaseutil.SplitManifests(text) {
			j, err := sigsyaml.YAMLToJSON([]byte(doc))
			if err != nil {
				t.Fatalf("helm's own output does not parse: %v\n%s", err, doc)
			}
			if string(j) != "null" {
				out = append(out, string(j))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// ourRender renders the chart with Load and returns its objects as
// canonical JSON, sorted.
func ourRender(t *testing.T, chartDir string) []string {
	t.Helper()
	res := Load([]string{chartDir}, Options{Manifest: manifest.Options{BaseDir: filepath.Dir(chartDir)}})
	for _, e := range res.Errors {
		t.Errorf("%s: error %v", chartDir, e)
	}
	var out []string
	for _, o := range res.Objects {
		j, err := manifest.ToJSON(o.Node, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Re-encode through the same JSON canonicaliser as Helm's side.
		c, err := sigsyaml.JSONToYAML(j)
		if err != nil {
			t.Fatal(err)
		}
		j, _ = sigsyaml.YAMLToJSON(c)
		out = append(out, string(j))
	}
	sort.Strings(out)
	return out
}

func compareWithHelm(t *testing.T, chartDir string) {
	t.Helper()
	want, err := helmTemplate(t, chartDir, DefaultKubeVersion)
	if err != nil {
		t.Logf("%s: helm template fails (%v); not compared", chartDir, err)
		return
	}
	got := ourRender(t, chartDir)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: objects differ from helm template\nours (%d):\n%s\nhelm (%d):\n%s", chartDir, len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
}

// Every chart of testdata renders to the objects `helm template` gives.
func TestChartsRenderLikeHelmTemplate(t *testing.T) {
	root := filepath.Join(testdataDir(t), "..")
	var charts []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && isChartDir(p) {
			charts = append(charts, p)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) < 3 {
		t.Fatalf("found only %v", charts)
	}
	for _, c := range charts {
		if strings.Contains(c, "missing-dep") {
			continue // an error on both sides, tested elsewhere
		}
		compareWithHelm(t, c)
	}
}

// Templates whose trim markers eat the newline after "---" (and other
// separator spellings) split into documents exactly as Helm splits them.
func TestHelmDocumentSplittingVariants(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ $n }}\n"
	variants := map[string]string{
		// The reproduction: "{{- end -}}" eats the newline after
		// "---" of the next iteration.
		"range-trim-both":  "{{- range $i, $n := list \"a\" \"b\" }}\n---\n" + cm + "{{- end -}}",
		"range-trim-left":  "{{- range $n := list \"a\" \"b\" }}\n---\n" + cm + "{{- end }}",
		"range-trim-right": "{{ range $n := list \"a\" \"b\" -}}\n---\n" + cm + "{{ end -}}",
		"separator-suffix": "{{- range $n := list \"a\" \"b\" }}\n--- # doc\n" + cm + "{{- end }}",
		"separator-first":  "---\n{{- range $n := list \"a\" \"b\" }}\n" + cm + "---{{ end }}",
		"empty-docs":       "---\n---\n{{- range $n := list \"a\" \"b\" }}\n---\n\n---\n" + cm + "{{- end }}\n---\n",
		// "{{-" right after "---" glues the separator to the first key:
		// Helm still splits there.
		"trim-after-separator":    "{{- range $n := list \"a\" \"b\" }}\n---\n{{- printf \"apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: %s\\n\" $n }}\n{{- end }}",
		"include-after-separator": "{{- define \"c.cm\" }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ . }}\n{{- end }}\n---\n{{- include \"c.cm\" \"a\" }}\n---\n{{- include \"c.cm\" \"b\" }}\n",
		"toyaml-after-separator":  "{{- range $n := list \"a\" \"b\" }}\n---\n{{- toYaml (dict \"apiVersion\" \"v1\" \"kind\" \"ConfigMap\" \"metadata\" (dict \"name\" $n)) }}\n{{- end }}",
		// Helm trims each document, so a block scalar that ends one loses
		// its final newline (a config file at the end of a ConfigMap).
		"block-scalar-last":      "{{- range $n := list \"a\" \"b\" }}\n---\n" + cm + "data:\n  f: |\n    x\n      y\n{{- end }}\n",
		"block-scalar-keep-last": "{{- range $n := list \"a\" \"b\" }}\n---\n" + cm + "data:\n  f: >+  # kept\n    x\n\n{{ end }}\n",
		"block-scalar-item-last": "{{- range $n := list \"a\" \"b\" }}\n---\n" + cm + "data:\n  f: |\n    x\n  g: y\n  l: |2\n     - a\n{{- end }}\n",
		"block-scalar-not-last":  "{{- range $n := list \"a\" \"b\" }}\n---\n" + cm + "data:\n  f: |\n    x\n  g: |\n    y\n  h: z\n{{- end }}\n",
		"crlf":                   strings.ReplaceAll("{{- range $n := list \"a\" \"b\" }}\n---\n"+cm+"{{- end }}\n", "\n", "\r\n"),
	}
	names := make([]string, 0, len(variants))
	for n := range variants {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c")
			write(t, filepath.Join(dir, "Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n")
			write(t, filepath.Join(dir, "templates", "cms.yaml"), variants[name])
			compareWithHelm(t, dir)
			if got := ourRender(t, dir); len(got) != 2 {
				t.Errorf("%d objects, want 2", len(got))
			}
		})
	}
}

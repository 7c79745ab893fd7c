package engine_test

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/render"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// latestFindings renders args, lints them, dedupes, and lists the objects
// image-latest-tag reports after dedupe.
func latestFindings(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		args[i] = filepath.Join(dir, a)
	}
	res := render.Load(args, render.Options{Manifest: manifest.Options{BaseDir: dir}})
	for _, e := range res.Errors {
		t.Errorf("input error: %s", e.Error())
	}
	raws, errs := (&engine.Engine{Registry: reg}).Run(res.Objects)
	for _, e := range errs {
		t.Errorf("engine error: %s", e.Error())
	}
	raws, _ = engine.Pipeline(raws, engine.Dedupe{}, engine.Sort{})
	var got []string
	for _, r := range raws {
		if r.RuleID() == "image-latest-tag" {
			got = append(got, fmt.Sprintf("%s/%s %s", r.Ref().Kind, r.Ref().Name, r.Container))
		}
	}
	slices.Sort(got)
	return got
}

const rangeTemplate = `{{- range $n := list "a" "b" }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $n }}
spec:
  selector:
    matchLabels: {app: {{ $n }}}
  template:
    metadata:
      labels: {app: {{ $n }}}
    spec:
      containers:
        - name: app
          image: nginx:latest
{{- end }}
`

// Two Deployments stamped out of one template by a Helm range share every
// source position: both are reported.
func TestDedupeKeepsObjectsOfOneHelmRange(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"chart/Chart.yaml":            "apiVersion: v2\nname: stamp\nversion: 0.1.0\n",
		"chart/templates/deploy.yaml": rangeTemplate,
	})
	got := latestFindings(t, dir, "chart")
	if want := []string{"Deployment/a app", "Deployment/b app"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A packaged chart: the same, whatever positions its objects map to.
func TestDedupeKeepsObjectsOfAPackagedChart(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "stamp-0.1.0.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, e := range [][2]string{
		{"stamp/Chart.yaml", "apiVersion: v2\nname: stamp\nversion: 0.1.0\n"},
		{"stamp/templates/deploy.yaml", rangeTemplate},
		{"stamp/templates/other.yaml", strings.ReplaceAll(strings.ReplaceAll(rangeTemplate, `"a" "b"`, `"c"`), "name: app", "name: web")},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []interface{ Close() error }{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got := latestFindings(t, dir, "stamp-0.1.0.tgz")
	if want := []string{"Deployment/a app", "Deployment/b app", "Deployment/c web"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A kustomize images: override applies to several workloads from one
// line: each is reported once, however many overlays render the base.
func TestDedupeKustomizeImagesOverride(t *testing.T) {
	deploy := func(name, container string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
        - name: %[2]s
          image: nginx
`, name, container)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		".git/HEAD":                        "ref: refs/heads/main\n",
		"base/kustomization.yaml":          "resources: [a.yaml, b.yaml]\nimages:\n  - name: nginx\n    newTag: latest\n",
		"base/a.yaml":                      deploy("a", "app"),
		"base/b.yaml":                      deploy("b", "app"),
		"overlays/dev/kustomization.yaml":  "resources: [../../base]\nnamePrefix: dev-\nnamespace: dev\n",
		"overlays/prod/kustomization.yaml": "resources: [../../base]\nnamePrefix: prod-\nnamespace: prod\n",
	})
	if got, want := latestFindings(t, dir, "base"), []string{"Deployment/a app", "Deployment/b app"}; !slices.Equal(got, want) {
		t.Errorf("base: got %q, want %q", got, want)
	}
	// Through two overlays: one finding per base object, not one per
	// overlay, and not one for the whole line.
	got := latestFindings(t, dir, "overlays")
	if len(got) != 2 || got[0] == got[1] {
		t.Errorf("overlays: got %q, want one finding for each of a and b", got)
	}
}

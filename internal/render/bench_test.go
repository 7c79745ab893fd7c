package render

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// makeOverlay writes a base of n Deployments and an overlay with a name
// prefix, a namespace, a strategic-merge patch on every Deployment, a JSON
// 6902 patch and an image override.
func makeOverlay(b testing.TB, n int) string {
	dir := b.TempDir()
	write(b, filepath.Join(dir, ".git", "HEAD"), "ref: refs/heads/main\n")
	var res []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("app%02d", i)
		res = append(res, "  - "+name+".yaml")
		write(b, filepath.Join(dir, "base", name+".yaml"), fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels:
    app: %[1]s
spec:
  replicas: 2
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
        - name: app
          image: example.com/%[1]s:1.0
          ports:
            - containerPort: 8080
          resources:
            limits:
              memory: 128Mi
        - name: proxy
          image: envoyproxy/envoy:v1.30
`, name))
	}
	write(b, filepath.Join(dir, "base", "kustomization.yaml"), "resources:\n"+strings.Join(res, "\n")+"\n")
	write(b, filepath.Join(dir, "overlay", "kustomization.yaml"), `namePrefix: prod-
namespace: prod
resources:
  - ../base
patches:
  - target:
      kind: Deployment
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: any
      spec:
        template:
          spec:
            containers:
              - name: app
                securityContext:
                  readOnlyRootFilesystem: true
  - target:
      kind: Deployment
      name: app0.*
    patch: |-
      - op: add
        path: /spec/template/spec/hostNetwork
        value: true
images:
  - name: envoyproxy/envoy
    newTag: v1.31
`)
	return filepath.Join(dir, "overlay")
}

// paths a typical rule set resolves on every workload.
var benchPaths = []manifest.Path{
	manifest.ParsePath("spec.template.spec.hostNetwork"),
	manifest.ParsePath("spec.template.spec.securityContext.runAsNonRoot"),
	manifest.ParsePath("spec.template.spec.containers[0].image"),
	manifest.ParsePath("spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem"),
	manifest.ParsePath("spec.template.spec.containers[0].securityContext.privileged"),
	manifest.ParsePath("spec.template.spec.containers[1].image"),
	manifest.ParsePath("spec.template.spec.containers[1].resources.limits.memory"),
	manifest.ParsePath("metadata.namespace"),
}

func locateAll(b *testing.B, res *manifest.Result) {
	for _, o := range res.Objects {
		for _, p := range benchPaths {
			if l := o.Locate(p); l.Line == 0 {
				b.Fatalf("no line for %s", p)
			}
		}
	}
}

// BenchmarkRenderKustomize50 compares, on a 50-Deployment overlay,
// rendering only (the equivalent of `kustomize build | lint -`: krusty,
// then the rendered stream parsed as plain YAML) with Load (rendering with
// origin tracking, then every object mapped to its sources) plus locating
// eight fields per object.
func BenchmarkRenderKustomize50(b *testing.B) {
	dir := makeOverlay(b, 50)
	b.Run("render-only", func(b *testing.B) {
		for b.Loop() {
			m, err := krusty.MakeKustomizer(kustomizerOptions()).Run(filesys.MakeFsOnDisk(), dir)
			if err != nil {
				b.Fatal(err)
			}
			y, err := m.AsYaml()
			if err != nil {
				b.Fatal(err)
			}
			res := manifest.LoadBytes("<stdin>", y, manifest.Options{})
			if len(res.Objects) != 50 {
				b.Fatalf("%d objects", len(res.Objects))
			}
			for _, o := range res.Objects {
				for _, p := range benchPaths {
					o.Locate(p)
				}
			}
		}
	})
	b.Run("render+locate", func(b *testing.B) {
		for b.Loop() {
			res := Load([]string{dir}, Options{})
			if len(res.Objects) != 50 || len(res.Errors) > 0 {
				b.Fatalf("%d objects, errors %v", len(res.Objects), res.Errors)
			}
			locateAll(b, res)
		}
	})
}

// BenchmarkRenderChart does the same for the web chart (with a subchart,
// helpers and toYaml blocks), against `helm template | lint -`.
func BenchmarkRenderChart(b *testing.B) {
	dir := filepath.Join(testdataDir(b), "helm", "web")
	values := filepath.Join(dir, "values-debug.yaml")
	b.Run("render-only", func(b *testing.B) {
		for b.Loop() {
			ch, err := loader.LoadDir(dir)
			if err != nil {
				b.Fatal(err)
			}
			vals, err := chartutil.ReadValuesFile(values)
			if err != nil {
				b.Fatal(err)
			}
			if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
				b.Fatal(err)
			}
			rv, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, chartutil.ReleaseOptions{Name: "web", Namespace: "default", Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities, true)
			if err != nil {
				b.Fatal(err)
			}
			out, err := engine.Engine{}.Render(ch, rv)
			if err != nil {
				b.Fatal(err)
			}
			var stream strings.Builder
			for k, v := range out {
				if !strings.HasSuffix(k, ".txt") && !strings.Contains(k, "/_") {
					stream.WriteString("---\n# Source: " + k + "\n" + v + "\n")
				}
			}
			res := manifest.LoadBytes("<stdin>", []byte(stream.String()), manifest.Options{})
			if len(res.Objects) != 4 {
				b.Fatalf("%d objects", len(res.Objects))
			}
			for _, o := range res.Objects {
				for _, p := range benchPaths {
					o.Locate(p)
				}
			}
		}
	})
	b.Run("render+locate", func(b *testing.B) {
		for b.Loop() {
			res := Load([]string{dir}, Options{Helm: HelmOptions{ValuesFiles: []string{values}, ReleaseName: "web"}})
			if len(res.Objects) != 4 || len(res.Errors) > 0 {
				b.Fatalf("%d objects, errors %v", len(res.Objects), res.Errors)
			}
			locateAll(b, res)
		}
	})
}

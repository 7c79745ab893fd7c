package render

import (
	"path/filepath"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

func TestExpHelm(t *testing.T) {
	dir := testdataDir(t)
	chart := filepath.Join(dir, "helm", "web")
	res := Load([]string{chart}, Options{Manifest: manifest.Options{BaseDir: dir}, Helm: HelmOptions{ValuesFiles: []string{filepath.Join(chart, "values-debug.yaml")}, ReleaseName: "web"}})
	for _, e := range res.Errors {
		t.Log(e)
	}
	for _, o := range res.Objects {
		t.Log(o.Origin, o.Kind, o.Namespace, o.Name, o.File)
	}
	for _, c := range []struct{ kind, name, path string }{
		{"Deployment", "web-web", "spec.template.spec.containers[0].securityContext.privileged"},
		{"Deployment", "web-web", "spec.template.spec.containers[0].securityContext.runAsNonRoot"},
		{"Deployment", "web-web", "spec.template.spec.hostNetwork"},
		{"Deployment", "web-web", "spec.template.spec.securityContext.runAsNonRoot"},
		{"Deployment", "web-web", "spec.template.spec.containers[0].image"},
		{"Deployment", "web-web", "spec.template.spec.containers[0].resources.limits.memory"},
		{"Deployment", "web-web", "metadata.labels.app.kubernetes.io/name"},
		{"Deployment", "web-web", ""},
		{"StatefulSet", "web-cache", "spec.template.spec.hostPID"},
		{"StatefulSet", "web-cache", "spec.template.spec.containers[0].image"},
		{"Pod", "web-web-test", "spec.containers[0].image"},
	} {
		p := manifest.ParsePath(c.path)
		if c.path == "metadata.labels.app.kubernetes.io/name" {
			p = manifest.Path{}.Key("metadata", "labels", "app.kubernetes.io/name")
		}
		var ex string
		for _, o := range res.Objects {
			if o.Kind == c.kind && o.Name == c.name {
				ex = o.Locator.(interface{ Explain(manifest.Path) string }).Explain(p)
				l := o.Locate(p)
				t.Log(c, l, ex)
			}
		}
	}
}

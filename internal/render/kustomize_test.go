package render

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// testdataDir returns testdata/render at the repository root.
func testdataDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "render")
}

// at returns "file:line" of the field p of the object of kind/name.
func at(t *testing.T, res *manifest.Result, kind, name, path string) string {
	t.Helper()
	for _, o := range res.Objects {
		if o.Kind == kind && o.Name == name {
			l := o.Locate(manifest.ParsePath(path))
			return fmt.Sprintf("%s:%d", l.File, l.Line)
		}
	}
	var have []string
	for _, o := range res.Objects {
		have = append(have, o.Kind+"/"+o.Name)
	}
	t.Fatalf("no %s %s among %v", kind, name, have)
	return ""
}

func TestExpDump(t *testing.T) {
	dir := testdataDir(t)
	res := Load([]string{filepath.Join(dir, "kustomize")}, Options{Manifest: manifest.Options{BaseDir: dir}})
	for _, e := range res.Errors {
		t.Log(e)
	}
	for _, o := range res.Objects {
		t.Log(o.Origin, o.Kind, o.Namespace, o.Name, o.Annotations)
	}
	t.Log(strings.Join(res.Files, " "))
	for _, c := range []struct{ kind, name, path string }{
		{"Deployment", "dev-web", "spec.template.spec.containers[0].securityContext.privileged"},
		{"Deployment", "dev-web", "spec.template.spec.hostPID"},
		{"Deployment", "dev-web", "spec.template.spec.containers[0].image"},
		{"Deployment", "dev-web", "metadata.namespace"},
		{"Deployment", "dev-web", "spec.template.spec.securityContext.runAsNonRoot"},
		{"Deployment", "prod-web", "spec.template.spec.hostNetwork"},
		{"Deployment", "prod-web", "spec.template.spec.hostIPC"},
		{"Deployment", "prod-web", "spec.template.spec.containers[1].securityContext.privileged"},
		{"Deployment", "prod-web", "spec.template.spec.containers[1].image"},
		{"Deployment", "prod-web", ""},
	} {
		t.Log(c, at(t, res, c.kind, c.name, c.path))
	}
}

package render

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// The newest supported version follows the k8s.io/api module the build
// uses (v0.37.x describes Kubernetes 1.37).
func TestNewestKubernetesMinorTracksAPIModule(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join(testdataDir(t), "..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/api v0\.(\d+)\.`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("k8s.io/api not required in go.mod")
	}
	if minor, _ := strconv.Atoi(string(m[1])); minor != NewestKubernetesMinor {
		t.Fatalf("k8s.io/api v0.%d, NewestKubernetesMinor %d", minor, NewestKubernetesMinor)
	}
}

func TestParseKubernetesVersion(t *testing.T) {
	for in, want := range map[string]string{"1.34": "v1.34.0", "v1.30.2": "v1.30.2", "1.37": "v1.37.0"} {
		if got, err := ParseKubernetesVersion(in); err != nil || got != want {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"1.99", "2.1", "latest", "", "1.x"} {
		if got, err := ParseKubernetesVersion(in); err == nil {
			t.Errorf("%s accepted as %s", in, got)
		}
	}
}

// Version-gated templates take the branch of the target version; the
// default is the newest supported, not Helm's v1.20.
func TestChartCapabilitiesFollowKubernetesVersion(t *testing.T) {
	dir := newChart(t, "gated")
	write(t, filepath.Join(dir, "templates", "cj.yaml"), `{{- if semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version }}
apiVersion: batch/v1
{{- else }}
apiVersion: batch/v1beta1
{{- end }}
kind: CronJob
metadata:
  name: x
  annotations:
    kube: {{ .Capabilities.KubeVersion.Version | quote }}
    psp: {{ .Capabilities.APIVersions.Has "policy/v1beta1/PodSecurityPolicy" | quote }}
`)
	opt := Options{Manifest: manifest.Options{BaseDir: dir}}
	for kv, want := range map[string]string{"": "batch/v1 " + DefaultKubeVersion + " false", "1.20": "batch/v1beta1 v1.20.0 false", "1.34.1": "batch/v1 v1.34.1 false"} {
		opt.Helm.KubeVersion = kv
		res := Load([]string{dir}, opt)
		noErrors(t, res)
		if len(res.Objects) != 1 {
			t.Fatalf("%q: %d objects", kv, len(res.Objects))
		}
		o := res.Objects[0]
		got := o.APIVersion + " " + o.Annotations["kube"] + " " + o.Annotations["psp"]
		if got != want {
			t.Errorf("--kubernetes-version %q: %s, want %s", kv, got, want)
		}
	}
}

// A chart whose Chart.yaml kubeVersion excludes the target is not
// rendered, and the error says why.
func TestChartKubeVersionConstraint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "old")
	write(t, filepath.Join(dir, "Chart.yaml"), "apiVersion: v2\nname: old\nversion: 0.1.0\nkubeVersion: \">=1.19.0-0 <1.25.0-0\"\n")
	write(t, filepath.Join(dir, "templates", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
	opt := Options{Manifest: manifest.Options{BaseDir: filepath.Dir(dir)}}
	res := Load([]string{dir}, opt)
	if len(res.Objects) != 0 || len(res.Errors) != 1 {
		t.Fatalf("objects %d errors %v", len(res.Objects), res.Errors)
	}
	e := res.Errors[0]
	if e.File != "old/Chart.yaml" || !strings.Contains(e.Message, "kubeVersion >=1.19.0-0 <1.25.0-0") || !strings.Contains(e.Message, DefaultKubeVersion) || !strings.Contains(e.Message, "--kubernetes-version") {
		t.Errorf("error %v", e)
	}
	opt.Helm.KubeVersion = "1.24"
	res = Load([]string{dir}, opt)
	noErrors(t, res)
	if len(res.Objects) != 1 {
		t.Errorf("1.24: %d objects", len(res.Objects))
	}
}

// The aggregation API (apiregistration.k8s.io/v1, GA since 1.10) is served
// by every cluster: a chart gated on it takes its v1 branch, as
// `helm install` does, not the removed v1beta1 (prometheus-adapter).
func TestChartCapabilitiesServeAggregationAPI(t *testing.T) {
	dir := newChart(t, "adapter")
	write(t, filepath.Join(dir, "templates", "apiservice.yaml"), `{{- if .Capabilities.APIVersions.Has "apiregistration.k8s.io/v1" }}
apiVersion: apiregistration.k8s.io/v1
{{- else }}
apiVersion: apiregistration.k8s.io/v1beta1
{{- end }}
kind: APIService
metadata:
  name: v1beta1.custom.metrics.k8s.io
  annotations:
    kind: {{ .Capabilities.APIVersions.Has "apiregistration.k8s.io/v1/APIService" | quote }}
`)
	res := Load([]string{dir}, Options{Manifest: manifest.Options{BaseDir: dir}})
	noErrors(t, res)
	if len(res.Objects) != 1 {
		t.Fatalf("%d objects", len(res.Objects))
	}
	if o := res.Objects[0]; o.APIVersion != "apiregistration.k8s.io/v1" || o.Annotations["kind"] != "true" {
		t.Errorf("rendered %s (APIService listed: %s), want apiregistration.k8s.io/v1", o.APIVersion, o.Annotations["kind"])
	}
}

package render

import (
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const generatorChartSecret = `apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-creds
  annotations:
    id: {{ uuidv4 | quote }}
    year: {{ now | date "2006" | quote }}
    pick: {{ randInt 3 9 | quote }}
data:
  user: {{ "admin" | b64enc }}
  password: {{ randAlphaNum 16 | b64enc }}
  key: {{ genPrivateKey "ecdsa" | b64enc }}
  {{- /* randAlphaNum in a comment is left alone */}}
  note: {{ "randAlphaNum" | b64enc }}
`

const generatorChartPod = `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test-{{ 5 | randAlphaNum | lower }}
  annotations:
    "helm.sh/hook": test
spec:
  containers:
    - name: t
      image: busybox:1.36
      args: [{{ randNumeric 4 | quote }}, {{ randBytes 3 | quote }}]
`

func generatorChart(t *testing.T) string {
	dir := newChart(t, "gen")
	write(t, filepath.Join(dir, "templates", "secret.yaml"), generatorChartSecret)
	write(t, filepath.Join(dir, "templates", "tests", "pod.yaml"), generatorChartPod)
	return dir
}

// Random and clock functions render deterministically, so two runs give
// the same objects (and so the same names and fingerprints).
func TestHelmGeneratorsAreDeterministic(t *testing.T) {
	dir := generatorChart(t)
	opt := Options{Manifest: manifest.Options{BaseDir: filepath.Dir(dir)}}
	var runs [2][]string
	for i := range runs {
		res := Load([]string{dir}, opt)
		noErrors(t, res)
		for _, o := range res.Objects {
			p := manifest.ParsePath("data.key")
			if o.Kind == "Secret" {
				// A private key cannot be faked: it differs per run but is
				// marked generated.
				if !o.IsGenerated(p) {
					t.Errorf("data.key not marked generated")
				}
				o.Get(p).Value = ""
			}
			j, err := manifest.ToJSON(o.Node, 0)
			if err != nil {
				t.Fatal(err)
			}
			runs[i] = append(runs[i], string(j))
		}
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Fatalf("runs differ:\n%s\n%s", runs[0], runs[1])
	}
	all := strings.Join(runs[0], "\n")
	for _, want := range []string{`"name":"release-name-test-xxxxx"`, `"id":"00000000-0000-4000-8000-000000000000"`, `"year":"2000"`, `"pick":"3"`, `"0000"`, `"eHh4"`} {
		if !strings.Contains(all, want) {
			t.Errorf("no %s in %s", want, all)
		}
	}
}

// Fields holding generated values are marked on the object; literal ones
// are not.
func TestHelmGeneratedFieldsMarked(t *testing.T) {
	dir := generatorChart(t)
	res := loadChart(t, dir, Options{})
	got := map[string][]string{}
	for _, o := range res.Objects {
		for _, p := range o.Generated {
			got[o.Kind] = append(got[o.Kind], p.String())
		}
		sort.Strings(got[o.Kind])
	}
	want := map[string][]string{
		"Secret": {"data.key", "data.password", "metadata.annotations.id", "metadata.annotations.year"},
		"Pod":    {"metadata.name", "spec.containers[0].args[0]", "spec.containers[0].args[1]"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("generated %v, want %v", got, want)
	}
	s := object(t, res, "Secret", "release-name-creds")
	if s.IsGenerated(manifest.ParsePath("data.user")) || !s.IsGenerated(manifest.ParsePath("data.password")) {
		t.Error("IsGenerated")
	}
	// Positions still come from the template as written.
	if got := where(s, manifest.ParsePath("data.password")); got != "gen/templates/secret.yaml:11:3" {
		t.Errorf("password at %s", got)
	}
}

// A chart without generators keeps its templates byte for byte.
func TestRewriteGeneratorsLeavesOtherTemplates(t *testing.T) {
	for _, src := range []string{
		"a: {{ .Values.randAlphaNum }}\nb: {{ $now := 1 }}{{ $now }}\n# now randAlphaNum\n",
		"{{ if }}broken randAlphaNum",
	} {
		if out, found := rewriteGenerators("t", []byte(src)); string(out) != src || found {
			t.Errorf("%q rewritten to %q (%v)", src, out, found)
		}
	}
	out, found := rewriteGenerators("t", []byte("x: {{ randAlphaNum 3 }}\ny: {{ now | date \"2006\" }}\n"))
	if !found || strings.Count(string(out), "\n") != 2 || !strings.Contains(string(out), `include "kubectl-secure.randAlphaNum" 3`) {
		t.Errorf("rewritten %q", out)
	}
}

// A helper that caches a generated certificate in .Values (`set .Values
// "_cert" (genSignedCert ...)`, common so that tls.crt and tls.key come
// from one certificate) still has its fields marked generated: every
// render starts from the values as loaded, not from what an earlier
// render left in them. Found on kubeflow/manifests' katib chart.
func TestHelmGeneratedFieldsMarkedWhenCachedInValues(t *testing.T) {
	dir := newChart(t, "cached")
	write(t, filepath.Join(dir, "templates", "_helpers.tpl"), `{{- define "cached.cert" -}}
{{- if not .Values._cert -}}
{{- $ca := genCA "ca" 365 -}}
{{- $_ := set .Values "_cert" (genSignedCert "svc" nil nil 365 $ca) -}}
{{- end -}}
{{- end -}}
{{- define "cached.crt" -}}
{{- include "cached.cert" . -}}
{{- .Values._cert.Cert | b64enc -}}
{{- end -}}
{{- define "cached.key" -}}
{{- include "cached.cert" . -}}
{{- .Values._cert.Key | b64enc -}}
{{- end -}}
`)
	write(t, filepath.Join(dir, "templates", "secret.yaml"), `apiVersion: v1
kind: Secret
metadata:
  name: tls
data:
  {{- if .Values._cert }}
  crt: {{ .Values._cert.Cert | b64enc }}
  {{- else }}
  crt: {{ include "cached.crt" . }}
  {{- end }}
  key: {{ include "cached.key" . }}
`)
	res := loadChart(t, dir, Options{})
	s := object(t, res, "Secret", "tls")
	for _, p := range []string{"data.crt", "data.key"} {
		if !s.IsGenerated(manifest.ParsePath(p)) {
			t.Errorf("%s not marked generated (generated: %v)", p, s.Generated)
		}
	}
	// The branch that ran in the real render is the one positions use.
	if got := where(s, manifest.ParsePath("data.crt")); got != "cached/templates/secret.yaml:9:3" {
		t.Errorf("crt at %s", got)
	}
}

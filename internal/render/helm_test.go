package render

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

func TestHelmChartValuesOverride(t *testing.T) {
	dir := testdataDir(t)
	res := load(t, Options{Helm: HelmOptions{
		ValuesFiles: []string{filepath.Join(dir, "helm", "web", "values-debug.yaml")},
		ReleaseName: "web",
	}}, "helm/web")
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		// A key introduced by a values file through toYaml: the toYaml line,
		// naming the values key and file.
		{"Deployment", "web-web", "spec.template.spec.containers[0].securityContext.privileged", "helm/web/templates/deployment.yaml:28:13", "securityContext.privileged from helm/web/values-debug.yaml"},
		{"Deployment", "web-web", "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation", "helm/web/templates/deployment.yaml:28:13", "securityContext.allowPrivilegeEscalation from helm/web/values-debug.yaml"},
		// A literal key written under a values condition: the condition is
		// why it is written, not where its value comes from.
		{"Deployment", "web-web", "spec.template.spec.hostNetwork", "helm/web/templates/deployment.yaml:18:7", "written under the condition hostNetwork (set in helm/web/values-debug.yaml)"},
		// toYaml of "." inside with .Values.podSecurityContext.
		{"Deployment", "web-web", "spec.template.spec.securityContext.runAsNonRoot", "helm/web/templates/deployment.yaml:22:9", "podSecurityContext.runAsNonRoot from helm/web/values.yaml"},
		// A missing field: its deepest existing ancestor.
		{"Deployment", "web-web", "spec.template.spec.containers[0].securityContext.runAsNonRoot", "helm/web/templates/deployment.yaml:27:11", ""},
		{"Deployment", "web-web", "spec.template.spec.containers[0].image", "helm/web/templates/deployment.yaml:26:11", "image.repository from helm/web/values.yaml"},
		// Blocks from helpers point into _helpers.tpl.
		{"Deployment", "web-web", "spec.template.spec.containers[0].resources.limits.memory", "helm/web/templates/_helpers.tpl:16:5", ""},
		{"Deployment", "web-web", "", "helm/web/templates/deployment.yaml:1:1", ""},
		{"Service", "web-web", "spec.ports[0].port", "helm/web/templates/service.yaml:9:7", ""},
		// Subchart templates and values.
		{"StatefulSet", "web-cache", "spec.template.spec.hostPID", "helm/web/charts/cache/templates/statefulset.yaml:15:7", ""},
		{"StatefulSet", "web-cache", "spec.template.spec.containers[0].image", "helm/web/charts/cache/templates/statefulset.yaml:18:11", "image from helm/web/charts/cache/values.yaml"},
		// Test hooks are linted too.
		{"Pod", "web-web-test", "spec.containers[0].image", "helm/web/templates/tests/test-connection.yaml:10:7", ""},
	})
	o := object(t, res, "Deployment", "web-web")
	if o.Origin != "helm chart helm/web (release web)" {
		t.Errorf("origin = %q", o.Origin)
	}
	labels := manifest.Path{}.Key("metadata", "labels", "app.kubernetes.io/name")
	if got := where(o, labels); got != "helm/web/templates/_helpers.tpl:8:1" {
		t.Errorf("label at %s", got)
	}
	// The parent chart's values turned the subchart's persistence off.
	if o := object(t, res, "StatefulSet", "web-cache"); o.Get(manifest.ParsePath("spec.template.spec.containers[0].volumeMounts")) != nil {
		t.Error("cache.persistence from the parent's values.yaml was not applied")
	}
}

func TestHelmChartDefaults(t *testing.T) {
	res := load(t, Options{}, "helm/web")
	noErrors(t, res)
	o := object(t, res, "Deployment", "release-name-web")
	if o.Get(manifest.ParsePath("spec.template.spec.hostNetwork")) != nil {
		t.Error("hostNetwork rendered without values-debug.yaml")
	}
	// Absent hostNetwork: the pod spec line.
	if got := where(o, manifest.ParsePath("spec.template.spec.hostNetwork")); got != "helm/web/templates/deployment.yaml:16:5" {
		t.Errorf("hostNetwork at %s", got)
	}
	for _, o := range res.Objects {
		if strings.HasSuffix(o.File, "NOTES.txt") || strings.Contains(o.File, "_helpers") {
			t.Errorf("object from %s", o.File)
		}
	}
}

func TestHelmSetFlags(t *testing.T) {
	res := load(t, Options{Helm: HelmOptions{
		Set:       []string{"securityContext.privileged=true", "cache.image=redis:latest"},
		SetString: []string{"image.tag=1.26"},
	}}, "helm/web")
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		{"Deployment", "release-name-web", "spec.template.spec.containers[0].securityContext.privileged", "helm/web/templates/deployment.yaml:28:13", "securityContext.privileged from --set securityContext.privileged=true"},
		{"StatefulSet", "release-name-cache", "spec.template.spec.containers[0].image", "helm/web/charts/cache/templates/statefulset.yaml:18:11", "image from --set cache.image=redis:latest"},
	})
	o := object(t, res, "Deployment", "release-name-web")
	if v := o.Get(manifest.ParsePath("spec.template.spec.containers[0].image")); v == nil || v.Value != "nginx:1.26" {
		t.Errorf("image = %v", v)
	}
}

func TestHelmMissingDependency(t *testing.T) {
	res := load(t, Options{}, "helm/missing-dep")
	if len(res.Errors) != 1 {
		t.Fatalf("errors = %v", res.Errors)
	}
	e := res.Errors[0]
	if e.File != "helm/missing-dep/Chart.yaml" || !strings.Contains(e.Message, "rendering chart helm/missing-dep") ||
		!strings.Contains(e.Message, "postgresql") || !strings.Contains(e.Message, "helm dependency build") {
		t.Errorf("error = %v", e)
	}
}

// lookup returns nothing and DNS is off: no cluster or network is reached.
func TestHelmLookupIsEmpty(t *testing.T) {
	res := load(t, Options{}, "helm/lookup")
	noErrors(t, res)
	o := object(t, res, "ConfigMap", "lookup")
	if v := o.Get(manifest.ParsePath("data.found")); v == nil || v.Value != "no" {
		t.Errorf("lookup found something: %v", v)
	}
	if v := o.Get(manifest.ParsePath("data.host")); v == nil || v.Value != "" {
		t.Errorf("getHostByName resolved: %v", v)
	}
}

func TestHelmPackagedChart(t *testing.T) {
	ch, err := loader.LoadDir(filepath.Join(testdataDir(t), "helm", "web"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	archive, err := chartutil.Save(ch, tmp)
	if err != nil {
		t.Fatal(err)
	}
	res := Load([]string{archive}, Options{Manifest: manifest.Options{BaseDir: tmp}, Helm: HelmOptions{Set: []string{"securityContext.privileged=true"}}})
	noErrors(t, res)
	o := object(t, res, "Deployment", "release-name-web")
	p := manifest.ParsePath("spec.template.spec.containers[0].securityContext.privileged")
	if got := where(o, p); got != "web-0.1.0.tgz:1:1" {
		t.Errorf("at %s", got)
	}
	if got := explain(o, p); !strings.Contains(got, "templates/deployment.yaml line 28 of packaged chart web-0.1.0.tgz") || !strings.Contains(got, "from --set") {
		t.Errorf("explained %q", got)
	}
}

func TestHelmSymlinkOutsideChartRefused(t *testing.T) {
	tmp := t.TempDir()
	chart := filepath.Join(tmp, "evil")
	if err := os.MkdirAll(filepath.Join(chart, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(chart, "Chart.yaml"), "apiVersion: v2\nname: evil\nversion: 0.1.0\n")
	write(t, filepath.Join(chart, "templates", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  secret: {{ .Files.Get \"stolen\" | quote }}\n")
	write(t, filepath.Join(tmp, "secret.txt"), "top secret\n")
	if err := os.Symlink(filepath.Join(tmp, "secret.txt"), filepath.Join(chart, "stolen")); err != nil {
		t.Skip("no symlinks:", err)
	}
	res := Load([]string{chart}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	if len(res.Objects) != 0 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "outside the chart directory") {
		t.Fatalf("objects %d, errors %v", len(res.Objects), res.Errors)
	}
}

func TestHelmValuesFileMissing(t *testing.T) {
	res := load(t, Options{Helm: HelmOptions{ValuesFiles: []string{"/nonexistent/values.yaml"}}}, "helm/web")
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "reading values file /nonexistent/values.yaml") {
		t.Fatalf("errors = %v", res.Errors)
	}
	// Reported against the values file, not the chart's Chart.yaml.
	if f := res.Errors[0].File; !strings.HasSuffix(f, "nonexistent/values.yaml") {
		t.Errorf("reported against %s", f)
	}
}

func write(t testing.TB, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadChart loads the chart in dir, with display paths relative to its
// parent, and fails the test on any error.
func loadChart(t *testing.T, dir string, opt Options) *manifest.Result {
	t.Helper()
	opt.Manifest.BaseDir = filepath.Dir(dir)
	res := Load([]string{dir}, opt)
	noErrors(t, res)
	return res
}

// newChart makes the directory of a chart named name in a fresh temporary
// directory, with its Chart.yaml; the test writes the rest.
func newChart(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	write(t, filepath.Join(dir, "Chart.yaml"), "apiVersion: v2\nname: "+name+"\nversion: 0.1.0\n")
	return dir
}

// A values file that does not parse is reported at its own line; a
// recursive include is one readable line, not Helm's thousand links.
func TestHelmErrorsReadable(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "rec")
	write(t, filepath.Join(dir, "Chart.yaml"), "apiVersion: v2\nname: rec\nversion: 0.1.0\n")
	write(t, filepath.Join(dir, "templates", "cm.yaml"), "{{- define \"rec.x\" }}{{ include \"rec.x\" . }}{{- end }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"rec.x\" . }}\n")
	write(t, filepath.Join(tmp, "bad-values.yaml"), "a: 1\nb: [x\nc: 2\n")
	opt := Options{Manifest: manifest.Options{BaseDir: tmp}}
	res := Load([]string{dir}, opt)
	if len(res.Errors) != 1 {
		t.Fatalf("errors %v", res.Errors)
	}
	e := res.Errors[0]
	if e.File != "rec/templates/cm.yaml" || e.Line != 5 || len(e.Message) > 600 || !strings.Contains(e.Message, "a recursive include") || !strings.Contains(e.Message, "nested reference") {
		t.Errorf("recursion error (%d bytes): %v", len(e.Message), e)
	}
	opt.Helm.ValuesFiles = []string{filepath.Join(tmp, "bad-values.yaml")}
	res = Load([]string{dir}, opt)
	if len(res.Errors) != 1 || res.Errors[0].File != "bad-values.yaml" || res.Errors[0].Line != 2 || !strings.Contains(res.Errors[0].Message, "YAML syntax error") {
		t.Fatalf("errors %v", res.Errors)
	}
}

// Positions follow the branch that executed: a key written in both
// branches of an if/else points at the branch that rendered it, also
// inside a helper and when the value comes from an action.
func TestHelmPositionsFollowExecutedBranch(t *testing.T) {
	dir := newChart(t, "br")
	write(t, filepath.Join(dir, "values.yaml"), "a: false\nnet: true\n")
	write(t, filepath.Join(dir, "templates", "_helpers.tpl"), `{{- define "br.sc" -}}
{{- if .Values.a }}
privileged: false
{{- else }}
privileged: true
{{- end }}
{{- end }}
`)
	write(t, filepath.Join(dir, "templates", "pod.yaml"), `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
{{- if .Values.a }}
  hostNetwork: false
{{- else }}
  hostNetwork: true
{{- end }}
{{- if .Values.a }}
  hostPID: {{ .Values.a }}
{{- else }}
  hostPID: {{ .Values.net }}
{{- end }}
  containers:
    - name: c
      image: busybox:1.36
      securityContext:
        {{- include "br.sc" . | nindent 8 }}
`)
	res := loadChart(t, dir, Options{})
	checkLocations(t, res, []locCase{
		{"Pod", "p", "spec.hostNetwork", "br/templates/pod.yaml:9:3", ""},
		{"Pod", "p", "spec.hostPID", "br/templates/pod.yaml:14:3", ""},
		{"Pod", "p", "spec.containers[0].securityContext.privileged", "br/templates/_helpers.tpl:5:1", ""},
	})
}

// Sequence items count only the if-blocks that executed: the third rule
// rendered is the fourth written when the third block is skipped
// (kube-state-metrics' role, one block per collector).
func TestHelmItemsOfSkippedBlocksAreNotCounted(t *testing.T) {
	dir := newChart(t, "ks")
	write(t, filepath.Join(dir, "values.yaml"), "collectors: [a, b, secrets]\n")
	write(t, filepath.Join(dir, "templates", "role.yaml"), `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
{{ if has "a" $.Values.collectors }}
- apiGroups: [""]
  resources:
  - a
  verbs: ["list"]
{{ end -}}
{{ if has "nope" $.Values.collectors }}
- apiGroups: [""]
  resources:
  - nope
  verbs: ["list"]
{{ end -}}
{{ if has "b" $.Values.collectors }}
- apiGroups: [""]
  resources:
  - b
  verbs: ["list"]
{{ end -}}
{{ if has "secrets" $.Values.collectors }}
- apiGroups: [""]
  resources:
  - secrets
  verbs: ["list"]
{{ end -}}
`)
	res := loadChart(t, dir, Options{})
	checkLocations(t, res, []locCase{
		{"ClusterRole", "r", "rules[1].resources[0]", "ks/templates/role.yaml:21:3", ""},
		{"ClusterRole", "r", "rules[2].resources[0]", "ks/templates/role.yaml:27:3", ""},
		{"ClusterRole", "r", "rules[2].verbs", "ks/templates/role.yaml:28:3", ""},
	})
}

// A field written in an else branch is written because the condition is
// false: the note does not name that condition as the one it is written
// under (an "else if" names its own).
func TestHelmElseBranchIsNotUnderTheCondition(t *testing.T) {
	dir := newChart(t, "el")
	write(t, filepath.Join(dir, "values.yaml"), "hostNetwork: false\nisolated: false\ndebug: true\nsc: {}\n")
	write(t, filepath.Join(dir, "templates", "pod.yaml"), `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
{{- if .Values.hostNetwork }}
  hostNetwork: false
{{- else }}
  hostNetwork: true
{{- end }}
{{- if .Values.isolated }}
  hostPID: false
{{- else if .Values.debug }}
  hostPID: true
{{- end }}
{{- with .Values.sc }}
  securityContext: {}
{{- else }}
  hostIPC: true
{{- end }}
  containers:
    - name: c
      image: busybox:1.36
`)
	res := loadChart(t, dir, Options{})
	o := object(t, res, "Pod", "p")
	for path, want := range map[string]string{
		"spec.hostNetwork": "",
		"spec.hostPID":     "written under the condition debug (set in el/values.yaml)",
		"spec.hostIPC":     "",
	} {
		got := explain(o, manifest.ParsePath(path))
		if want == "" && strings.Contains(got, "condition") || want != "" && !strings.Contains(got, want) {
			t.Errorf("%s: explained %q, want %q", path, got, want)
		}
	}
}

// The values key named is the one that produced the value: the one set
// with the highest precedence when several build it, the helper's when a
// helper writes it.
func TestHelmValuesKeyThatProducedValue(t *testing.T) {
	dir := newChart(t, "img")
	write(t, filepath.Join(dir, "values.yaml"), "image:\n  repository: nginx\n  tag: \"1.27\"\nsidecar:\n  repository: envoy\n  tag: v1\n")
	write(t, filepath.Join(dir, "templates", "_helpers.tpl"), "{{- define \"img.sidecar\" -}}\n{{ .Values.sidecar.repository }}:{{ .Values.sidecar.tag }}\n{{- end }}\n")
	write(t, filepath.Join(dir, "templates", "pod.yaml"), `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: app
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
    - name: sidecar
      image: {{ include "img.sidecar" . }}
    - name: one-action
      image: {{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default "1.0") }}
`)
	opt := Options{Manifest: manifest.Options{BaseDir: filepath.Dir(dir)}, Helm: HelmOptions{Set: []string{"image.tag=latest", "sidecar.tag=latest"}}}
	res := Load([]string{dir}, opt)
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		{"Pod", "p", "spec.containers[0].image", "img/templates/pod.yaml:8:7", "image.tag from --set image.tag=latest"},
		{"Pod", "p", "spec.containers[1].image", "img/templates/_helpers.tpl:2:34", "sidecar.tag from --set sidecar.tag=latest"},
		// One action reading several keys (traefik's hub-manager: printf
		// of registry, repository and tag): the one set with the highest
		// precedence, not the first.
		{"Pod", "p", "spec.containers[2].image", "img/templates/pod.yaml:12:7", "image.tag from --set image.tag=latest"},
	})
	// Without --set, values.yaml sets both: the first is named.
	opt.Helm.Set = nil
	res = Load([]string{dir}, opt)
	checkLocations(t, res, []locCase{
		{"Pod", "p", "spec.containers[0].image", "img/templates/pod.yaml:8:7", "image.repository from img/values.yaml"},
	})
}

// A template that allocates without bound is stopped at the memory limit
// with an error naming the chart, instead of exhausting the machine; the
// other inputs are still loaded.
func TestRenderStopsAtMemoryLimit(t *testing.T) {
	tmp := t.TempDir()
	write(t, filepath.Join(tmp, "bomb", "Chart.yaml"), "apiVersion: v2\nname: bomb\nversion: 0.1.0\n")
	// until builds its whole list first: 60 million ints, 480 MB (the
	// abandoned render then ranges over them in the background).
	write(t, filepath.Join(tmp, "bomb", "templates", "cm.yaml"), "{{- range until 60000000 }}{{ end }}\n")
	write(t, filepath.Join(tmp, "plain.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n")
	var aborted error
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	limit := int64(s[0].Value.Uint64())>>20<<20 + 160<<20
	res := Load([]string{tmp}, Options{
		Manifest:  manifest.Options{BaseDir: tmp},
		MaxMemory: limit,
		Abort:     func(err error) { aborted = err },
	})
	if aborted == nil || !strings.Contains(aborted.Error(), "bomb") || !strings.Contains(aborted.Error(), fmt.Sprintf("the limit is %d MiB", limit>>20)) {
		t.Fatalf("abort: %v", aborted)
	}
	if len(res.Errors) != 1 || res.Errors[0].File != "bomb" || len(res.Objects) != 1 {
		t.Errorf("errors %v, objects %d", res.Errors, len(res.Objects))
	}
}

// Problems found in a template's rendered output (a key written twice, a
// YAML syntax error) name the template line that wrote the offending
// line, not a line of the rendered stream (kubeflow/manifests' charts
// write the same label literally and through a helper).
func TestHelmOutputErrorsPointAtTemplateLines(t *testing.T) {
	dir := newChart(t, "dup")
	write(t, filepath.Join(dir, "values.yaml"), "broken: \"a: b: c\"\nannotations:\n  scrape: \"false\"\n")
	write(t, filepath.Join(dir, "templates", "_helpers.tpl"), `{{- define "dup.labels" -}}
app: web
tier: front
{{- end }}
`)
	write(t, filepath.Join(dir, "templates", "cm.yaml"), `{{- range $n := list "a" "b" }}

---
# a comment
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $n }}
  labels:
    tier: back
    {{- include "dup.labels" $ | nindent 4 }}
{{- end }}
`)
	// A key the values repeat through toYaml (katib's service.yaml).
	write(t, filepath.Join(dir, "templates", "svc.yaml"), `apiVersion: v1
kind: Service
metadata:
  name: s
  annotations:
    scrape: "true"
    {{- with .Values.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  ports:
    - port: 80
`)
	write(t, filepath.Join(dir, "templates", "bad.yaml"), `apiVersion: v1
kind: ConfigMap
metadata:
  name: bad
data:
  ok: "1"
  x: {{ .Values.broken }}
`)
	res := Load([]string{dir}, Options{Manifest: manifest.Options{BaseDir: filepath.Dir(dir)}})
	var got []string
	for _, e := range res.Errors {
		got = append(got, fmt.Sprintf("%s:%d %s", e.File, e.Line, e.Message))
	}
	sort.Strings(got)
	want := []string{
		"dup/templates/_helpers.tpl:3 rendering chart dup: output of templates/cm.yaml: mapping key \"tier\" already defined at dup/templates/cm.yaml:10 (the later value is used)",
		"dup/templates/_helpers.tpl:3 rendering chart dup: output of templates/cm.yaml: mapping key \"tier\" already defined at dup/templates/cm.yaml:10 (the later value is used)",
		"dup/templates/bad.yaml:7 rendering chart dup: output of templates/bad.yaml: YAML syntax error: mapping values are not allowed in this context",
		"dup/templates/svc.yaml:8 rendering chart dup: output of templates/svc.yaml: mapping key \"scrape\" already defined at dup/templates/svc.yaml:6 (the later value is used)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// List items a toYaml appends after literal items (grafana's promtail:
// "- name: config" written literally, then `toYaml .Values.defaultVolumes`)
// point at the toYaml line and name the values item, not the literal
// item that happens to come first.
func TestHelmItemsAppendedByToYamlAfterLiteralItems(t *testing.T) {
	dir := newChart(t, "pt")
	write(t, filepath.Join(dir, "values.yaml"), `defaultVolumes:
  - name: run
    hostPath:
      path: /run/pt
  - name: containers
    hostPath:
      path: /var/lib/docker/containers
defaultVolumeMounts:
  - name: run
    mountPath: /run/pt
`)
	write(t, filepath.Join(dir, "templates", "ds.yaml"), `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: pt
spec:
  template:
    spec:
      containers:
        - name: pt
          image: pt:1.0
          volumeMounts:
            - name: config
              mountPath: /etc/pt
            {{- with .Values.defaultVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: pt
        {{- with .Values.defaultVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
`)
	res := loadChart(t, dir, Options{})
	checkLocations(t, res, []locCase{
		{"DaemonSet", "pt", "spec.template.spec.volumes[0].configMap", "pt/templates/ds.yaml:19:11", ""},
		{"DaemonSet", "pt", "spec.template.spec.volumes[1].hostPath", "pt/templates/ds.yaml:22:9", "defaultVolumes[0].hostPath from pt/values.yaml"},
		{"DaemonSet", "pt", "spec.template.spec.volumes[2].hostPath.path", "pt/templates/ds.yaml:22:9", "defaultVolumes[1].hostPath.path from pt/values.yaml"},
		{"DaemonSet", "pt", "spec.template.spec.containers[0].volumeMounts[1].readOnly", "pt/templates/ds.yaml:15:13", ""},
	})
}

// A values key whose value is empty produced nothing: the note names a
// key that wrote the field (grafana's charts: "{{ .Values.global.imageRegistry
// | default .Values.image.registry }}/..." named the empty
// global.imageRegistry).
func TestHelmEmptyValuesKeyIsNotTheSource(t *testing.T) {
	dir := newChart(t, "img")
	write(t, filepath.Join(dir, "values.yaml"), "global:\n  imageRegistry: \"\"\nimage:\n  registry: docker.io\n  repository: grafana/x\n  tag: \"\"\n")
	write(t, filepath.Join(dir, "templates", "pod.yaml"), `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: app
      image: "{{ .Values.global.imageRegistry | default .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag | default "1.0" }}"
`)
	res := loadChart(t, dir, Options{})
	o := object(t, res, "Pod", "p")
	if got := explain(o, manifest.ParsePath("spec.containers[0].image")); got != "image.repository from img/values.yaml" {
		t.Errorf("explained %q", got)
	}
}

// A key line whose whole value is a helper ("template: {{ include
// "x.pod" . | fromYaml | toYaml | nindent 4 }}", traefik's deployment)
// points into the helper where the key is written, as a block include
// does, and through the helper's values to the key that set them.
func TestHelmInlineIncludeOnKeyLine(t *testing.T) {
	dir := newChart(t, "tr")
	write(t, filepath.Join(dir, "values.yaml"), "hostNetwork: false\nsc:\n  privileged: false\nimage:\n  repository: busybox\n  tag: \"1.36\"\nsa:\n  name: \"\"\n")
	write(t, filepath.Join(dir, "templates", "_pod.tpl"), `{{- define "tr.pod" }}
    metadata:
      labels:
        app: tr
    spec:
      hostNetwork: {{ .Values.hostNetwork }}
      serviceAccountName: {{ include "tr.sa" . }}
      containers:
      - name: c
        image: {{ include "tr.image" . }}
        securityContext:
          {{- toYaml .Values.sc | nindent 10 }}
{{- end }}
{{- define "tr.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end }}
{{- define "tr.sa" -}}
{{- default "tr" .Values.sa.name -}}
{{- end }}
`)
	write(t, filepath.Join(dir, "templates", "deploy.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  selector:
    matchLabels:
      app: tr
  template: {{ include "tr.pod" . | fromYaml | toYaml | nindent 4 }}
`)
	res := Load([]string{dir}, Options{Helm: HelmOptions{Set: []string{"hostNetwork=true,sc.privileged=true,image.tag=latest"}}, Manifest: manifest.Options{BaseDir: filepath.Dir(dir)}})
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		{"Deployment", "d", "spec.template.spec.hostNetwork", "tr/templates/_pod.tpl:6:7", "hostNetwork from --set"},
		{"Deployment", "d", "spec.template.spec.containers[0].securityContext.privileged", "tr/templates/_pod.tpl:12:11", "sc.privileged from --set"},
		// The helper's lines ran, though fromYaml dropped their markers.
		{"Deployment", "d", "spec.template.spec.containers[0].image", "tr/templates/_pod.tpl:15:32", "image.tag from --set"},
		// An empty key did not produce the helper's value: the key line.
		{"Deployment", "d", "spec.template.spec.serviceAccountName", "tr/templates/_pod.tpl:7:7", ""},
	})
}

// Sequence items written by a helper after the literal items (kyverno's
// args: literal flags, then {{ include "x.flags" (pick ...) | nindent 12
// }} over several lines)
// point at the include, not at the last literal item; with the helper
// before them, the literal items are the last ones rendered.
func TestHelmItemsFromHelperAroundLiteralItems(t *testing.T) {
	dir := newChart(t, "ky")
	write(t, filepath.Join(dir, "values.yaml"), "port: 8000\ntracing: false\nflags: {a: 1, b: 2, c: 3}\n")
	write(t, filepath.Join(dir, "templates", "_helpers.tpl"), `{{- define "ky.flags" -}}
{{- $flags := list -}}
{{- range $k, $v := . -}}
{{- $flags = append $flags (print "--" $k "=" $v) -}}
{{- end -}}
{{- toYaml $flags -}}
{{- end -}}
`)
	write(t, filepath.Join(dir, "templates", "pod.yaml"), `apiVersion: v1
kind: Pod
metadata:
  name: after
spec:
  containers:
    - name: c
      image: busybox:1.36
      args:
        - --first
        {{- if .Values.tracing }}
        - --tracing
        {{- end }}
        - --port={{ .Values.port }}
        {{- include "ky.flags" (pick .Values.flags
          "a" "b" "c") | nindent 8 }}
---
apiVersion: v1
kind: Pod
metadata:
  name: before
spec:
  containers:
    - name: c
      image: busybox:1.36
      args:
        {{- include "ky.flags" .Values.flags | nindent 8 }}
        - --first
        - --port={{ .Values.port }}
`)
	res := loadChart(t, dir, Options{})
	checkLocations(t, res, []locCase{
		{"Pod", "after", "spec.containers[0].args[1]", "ky/templates/pod.yaml:14:9", "port from"},
		{"Pod", "after", "spec.containers[0].args[3]", "ky/templates/pod.yaml:15:9", ""},
		{"Pod", "before", "spec.containers[0].args[1]", "ky/templates/pod.yaml:27:9", ""},
		{"Pod", "before", "spec.containers[0].args[4]", "ky/templates/pod.yaml:29:9", "port from"},
	})
	// Literal items a range repeats make the count unknowable: the helper
	// is not credited with the range's items.
	dir2 := filepath.Join(t.TempDir(), "kr")
	write(t, filepath.Join(dir2, "Chart.yaml"), "apiVersion: v2\nname: kr\nversion: 0.1.0\n")
	write(t, filepath.Join(dir2, "values.yaml"), "extra: [x, y]\nflags: {a: 1}\n")
	write(t, filepath.Join(dir2, "templates", "_helpers.tpl"), "{{- define \"kr.flags\" -}}\n{{- toYaml (list \"--f\") -}}\n{{- end -}}\n")
	write(t, filepath.Join(dir2, "templates", "pod.yaml"), `apiVersion: v1
kind: Pod
metadata:
  name: ranged
spec:
  containers:
    - name: c
      image: busybox:1.36
      args:
        - --first
        {{- range .Values.extra }}
        - --{{ . }}
        {{- end }}
        {{- include "kr.flags" . | nindent 8 }}
`)
	res2 := Load([]string{dir2}, Options{Manifest: manifest.Options{BaseDir: filepath.Dir(dir2)}})
	noErrors(t, res2)
	if got := where(object(t, res2, "Pod", "ranged"), manifest.ParsePath("spec.containers[0].args[2]")); got == "kr/templates/pod.yaml:14:9" {
		t.Errorf("args[2], written by the range, at the include %s", got)
	}
	for _, c := range []struct{ name, path string }{{"after", "spec.containers[0].args[3]"}, {"before", "spec.containers[0].args[1]"}} {
		if got := explain(object(t, res, "Pod", c.name), manifest.ParsePath(c.path)); strings.Contains(got, "port") {
			t.Errorf("%s %s: explained %q: a literal item's values key, not the helper's", c.name, c.path, got)
		}
	}
}

// When the trace cannot tell which lines ran (a pod template included
// through fromYaml | toYaml drops the line markers, traefik), a literal
// named item that is not in the rendered list did not render: it is not
// counted, so an env item of values points at its toYaml, not at the
// skipped literal item in its place.
func TestHelmSkippedNamedItemsWithoutTrace(t *testing.T) {
	dir := newChart(t, "tz")
	write(t, filepath.Join(dir, "values.yaml"), "limits: {}\nenv: []\n")
	write(t, filepath.Join(dir, "templates", "_pod.tpl"), `{{- define "tz.pod" }}
    spec:
      containers:
      - name: c
        image: busybox:1.36
        env:
          - name: USER  # who runs it
            value: traefik
          {{- if .Values.limits.cpu }}
          - name: GOMAXPROCS
            value: "1"
          {{- end }}
        {{- with .Values.env }}
          {{- toYaml . | nindent 10 }}
        {{- end }}
{{- end }}
`)
	write(t, filepath.Join(dir, "templates", "deploy.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template: {{ include "tz.pod" . | fromYaml | toYaml | nindent 4 }}
`)
	vals := filepath.Join(t.TempDir(), "v.yaml")
	write(t, vals, "env:\n  - name: AWS_SECRET_ACCESS_KEY\n    value: s3cr3t-v4lue\n")
	res := Load([]string{dir}, Options{Helm: HelmOptions{ValuesFiles: []string{vals}}, Manifest: manifest.Options{BaseDir: filepath.Dir(dir)}})
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		{"Deployment", "d", "spec.template.spec.containers[0].env[0].value", "tz/templates/_pod.tpl:8:13", ""},
		{"Deployment", "d", "spec.template.spec.containers[0].env[1].value", "tz/templates/_pod.tpl:14:11", "env[0].value from"},
	})
}

// A value written by a range over a values map or list (ESO's extraArgs:
// "- --{{ $key }}={{ $value }}") names the element that produced it, not
// the condition the whole template is written under.
func TestHelmRangeItemNamesTheValuesElement(t *testing.T) {
	dir := newChart(t, "rg")
	write(t, filepath.Join(dir, "values.yaml"), "create: true\nextraArgs: {}\nextraEnv: []\n")
	write(t, filepath.Join(dir, "templates", "pod.yaml"), `{{- if .Values.create }}
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: busybox:1.36
      args:
        - --first
        {{- range $key, $value := .Values.extraArgs }}
        - --{{ $key }}={{ $value }}
        {{- end }}
      env:
        {{- range .Values.extraEnv }}
        - name: {{ .name }}
          value: {{ .value | quote }}
        {{- end }}
{{- end }}
`)
	res := Load([]string{dir}, Options{Helm: HelmOptions{Set: []string{"extraArgs.log=debug,extraArgs.token=abcd1234efgh,extraEnv[0].name=A,extraEnv[0].value=b,extraEnv[1].name=DB_PASSWORD,extraEnv[1].value=hunter2"}}, Manifest: manifest.Options{BaseDir: filepath.Dir(dir)}})
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		{"Pod", "p", "spec.containers[0].args[2]", "rg/templates/pod.yaml:13:9", "extraArgs.token from --set"},
		{"Pod", "p", "spec.containers[0].env[1].value", "rg/templates/pod.yaml:18:11", "extraEnv[1].value from --set"},
	})
}

// Without a trace (a pod template through fromYaml), literal items a range
// over values writes count as many as the values hold: an empty range
// writes none, so a volume from a later toYaml is that toYaml's (traefik's
// volumes: literal ones, a range over .Values.volumes, additionalVolumes).
func TestHelmRangeItemsCountedByValues(t *testing.T) {
	dir := newChart(t, "rv")
	write(t, filepath.Join(dir, "values.yaml"), "volumes: []\nextra: []\n")
	write(t, filepath.Join(dir, "templates", "_pod.tpl"), `{{- define "rv.pod" }}
    spec:
      containers:
      - name: c
        image: busybox:1.36
      volumes:
        - name: tmp
          emptyDir: {}
        {{- range .Values.volumes }}
        - name: {{ .name }}
          configMap:
            name: {{ .name }}
        {{- end }}
        {{- if .Values.extra }}
          {{- toYaml .Values.extra | nindent 8 }}
        {{- end }}
{{- end }}
`)
	write(t, filepath.Join(dir, "templates", "deploy.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template: {{ include "rv.pod" . | fromYaml | toYaml | nindent 4 }}
`)
	vals := filepath.Join(t.TempDir(), "v.yaml")
	write(t, vals, "extra:\n  - name: dock\n    hostPath:\n      path: /var/run/docker.sock\n")
	res := Load([]string{dir}, Options{Helm: HelmOptions{ValuesFiles: []string{vals}}, Manifest: manifest.Options{BaseDir: filepath.Dir(dir)}})
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		{"Deployment", "d", "spec.template.spec.volumes[1].hostPath.path", "rv/templates/_pod.tpl:15:11", "extra[0].hostPath.path from"},
	})
	// A range around the whole object (one Pod per entry) writes each
	// literal item once per object, not once per entry.
	write(t, filepath.Join(dir, "templates", "pods.yaml"), `{{- range $n := list "a" "b" "c" }}
---
apiVersion: v1
kind: Pod
metadata:
  name: {{ $n }}
spec:
  containers:
    - name: c
      image: busybox:1.36
  volumes:
    - name: tmp
      emptyDir: {}
    {{- toYaml $.Values.extra | nindent 4 }}
{{- end }}
`)
	res = Load([]string{dir}, Options{Helm: HelmOptions{ValuesFiles: []string{vals}}, Manifest: manifest.Options{BaseDir: filepath.Dir(dir)}})
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		{"Pod", "b", "spec.volumes[1].hostPath.path", "rv/templates/pods.yaml:14:5", "extra[0].hostPath.path from"},
	})
}

package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixablePod = `apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: ns
spec:
  hostNetwork: true   # debugging
  containers:
    - name: app
      image: nginx:1.27
      securityContext: {privileged: true, allowPrivilegeEscalation: true}
`

const hostPathPod = `apiVersion: v1
kind: Pod
metadata:
  name: logs
  namespace: ns
spec:
  containers:
    - name: app
      image: nginx:1.27
  volumes:
    - name: logs
      hostPath: {path: /var/log}
`

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lint --fix rewrites the fixable lines in place (comments and layout
// kept), prints each change on stderr, reports what remains and exits by
// what remains.
func TestLintFix(t *testing.T) {
	dir := writeFiles(t, map[string]string{"pod.yaml": fixablePod, "logs.yaml": hostPathPod})

	// Before: critical and high findings.
	if _, _, code := run(t, dir, "", nil, "lint", "--no-config", "pod.yaml"); code != 1 {
		t.Fatalf("before --fix: exit %d, want 1", code)
	}

	out, errOut, code := run(t, dir, "", nil, "lint", "--no-config", "--fix", "pod.yaml")
	if code != 0 {
		t.Errorf("after fixing everything at or above high: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	want := strings.Replace(strings.Replace(fixablePod,
		"hostNetwork: true   # debugging", "hostNetwork: false  # debugging", 1),
		"{privileged: true, allowPrivilegeEscalation: true}", "{privileged: false, allowPrivilegeEscalation: false}", 1)
	if got := readFile(t, filepath.Join(dir, "pod.yaml")); got != want {
		t.Errorf("pod.yaml after --fix:\n%s\nwant:\n%s", got, want)
	}
	for _, line := range []string{
		"pod.yaml:7: hostNetwork: true → false",
		"pod.yaml:11: privileged: true → false",
		"pod.yaml:11: allowPrivilegeEscalation: true → false",
	} {
		if !strings.Contains(errOut, line+"\n") {
			t.Errorf("stderr lacks %q:\n%s", line, errOut)
		}
	}
	for _, gone := range []string{"privileged-container", "host-network", "allow-privilege-escalation"} {
		if strings.Contains(out, gone) {
			t.Errorf("the report still shows %s:\n%s", gone, out)
		}
	}
	if !strings.Contains(out, "readonly-root-filesystem") {
		t.Errorf("the report lost what remains (readonly-root-filesystem, no one-line fix):\n%s", out)
	}

	// Nothing left to fix: files untouched, nothing printed.
	_, errOut, _ = run(t, dir, "", nil, "lint", "--no-config", "--fix", "pod.yaml")
	if strings.Contains(errOut, "→") {
		t.Errorf("a second --fix changed something:\n%s", errOut)
	}

	// What remains at or above --fail-on still fails; JSON stays clean.
	dir2 := writeFiles(t, map[string]string{"pod.yaml": fixablePod, "logs.yaml": hostPathPod})
	out, errOut, code = run(t, dir2, "", nil, "lint", "--no-config", "--fix", "-o", "json", ".")
	if code != 1 {
		t.Errorf("host-path-volume (high) remains: exit %d, want 1\nstderr:\n%s", code, errOut)
	}
	var rep struct {
		Findings []struct {
			RuleID string `json:"ruleId"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
	}
	ids := map[string]bool{}
	for _, f := range rep.Findings {
		ids[f.RuleID] = true
	}
	if !ids["host-path-volume"] || ids["privileged-container"] {
		t.Errorf("remaining findings %v", ids)
	}
	if readFile(t, filepath.Join(dir2, "logs.yaml")) != hostPathPod {
		t.Error("logs.yaml changed though nothing in it has a one-line fix")
	}
}

func TestLintFixRefusesStdin(t *testing.T) {
	_, errOut, code := run(t, t.TempDir(), fixablePod, nil, "lint", "--no-config", "--fix", "-")
	if code != 2 || !strings.Contains(errOut, "--fix rewrites files") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

// Findings silenced by an ignore annotation are not reported, so not fixed.
func TestLintFixLeavesIgnoredFindings(t *testing.T) {
	pod := strings.Replace(fixablePod, "  namespace: ns\n", "  namespace: ns\n  annotations:\n    kubectl-secure.io/ignore: host-network\n    kubectl-secure.io/ignore-reason: CNI debugging\n", 1)
	dir := writeFiles(t, map[string]string{"pod.yaml": pod})
	run(t, dir, "", nil, "lint", "--no-config", "--fix", "pod.yaml")
	if got := readFile(t, filepath.Join(dir, "pod.yaml")); !strings.Contains(got, "hostNetwork: true   # debugging") || !strings.Contains(got, "privileged: false") {
		t.Fatalf("pod.yaml after --fix:\n%s", got)
	}
}

// A Helm finding whose value comes from values.yaml is fixed there, not in
// the template.
func TestLintFixHelmValues(t *testing.T) {
	tmpl := `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: ns
spec:
  hostPID: {{ .Values.hostPID }}
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
`
	values := "hostPID: true  # debugging\nsecurityContext: {privileged: true}\n"
	dir := writeFiles(t, map[string]string{
		"chart/Chart.yaml":         "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"chart/templates/pod.yaml": tmpl,
		"chart/values.yaml":        values,
	})
	_, errOut, code := run(t, dir, "", nil, "lint", "--no-config", "--fix", "--fail-on", "high", ".")
	if code != 0 {
		t.Errorf("exit %d, want 0 (nothing high left)\n%s", code, errOut)
	}
	if got := readFile(t, filepath.Join(dir, "chart/values.yaml")); got != "hostPID: false # debugging\nsecurityContext: {privileged: false}\n" {
		t.Errorf("values.yaml after --fix:\n%s\nstderr:\n%s", got, errOut)
	}
	if readFile(t, filepath.Join(dir, "chart/templates/pod.yaml")) != tmpl {
		t.Error("the template was rewritten")
	}
	if !strings.Contains(errOut, "chart/values.yaml:1: hostPID: true → false\n") {
		t.Errorf("stderr:\n%s", errOut)
	}
}

// --fix turns a mounted token off only when nothing binds the account: a
// pod whose token carries permissions (a controller) may call the API, and
// a fix that breaks it is no fix.
func TestLintFixKeepsTokensThatCarryPermissions(t *testing.T) {
	pod := func(sa string) string {
		return `apiVersion: v1
kind: Pod
metadata:
  name: ` + sa + `
  namespace: ops
spec:
  serviceAccountName: ` + sa + `
  automountServiceAccountToken: true
  containers:
    - name: app
      image: nginx:1.27
`
	}
	dir := writeFiles(t, map[string]string{
		"bound.yaml": pod("controller") + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: controller
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: ServiceAccount, name: controller, namespace: ops}
`,
		"unbound.yaml": pod("idle"),
	})
	out, errOut, _ := run(t, dir, "", nil, "lint", "--no-config", "--fix", "--fail-on", "none", "-o", "json", ".")
	if got := readFile(t, filepath.Join(dir, "bound.yaml")); !strings.Contains(got, "automountServiceAccountToken: true") {
		t.Errorf("the powerful account's token was turned off:\n%s\nstderr:\n%s", got, errOut)
	}
	if got := readFile(t, filepath.Join(dir, "unbound.yaml")); !strings.Contains(got, "automountServiceAccountToken: false") {
		t.Errorf("the unbound account's token was not turned off:\n%s\nstderr:\n%s", got, errOut)
	}
	if !strings.Contains(out, `"automount-service-account-token"`) {
		t.Errorf("the critical finding must remain in the report:\n%s", out)
	}
}

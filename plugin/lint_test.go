package plugin

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// run executes the root command with args in dir and returns stdout,
// stderr and the exit code main would use.
func run(t *testing.T, dir string, stdin string, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	cmd := newRootCmd(streams, func(k string) string { return env[k] })
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil && !Quiet(err) {
		errOut.WriteString("Error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), ExitCode(err)
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const privPod = `apiVersion: v1
kind: Pod
metadata:
  name: priv
  namespace: ns
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true
`

const cleanNS = `apiVersion: v1
kind: Namespace
metadata:
  name: quiet
`

func TestLintExitCodes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"priv.yaml":   privPod,
		"clean.yaml":  cleanNS,
		"broken.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n---\n" + privPod,
	})
	// Findings at or above the threshold: exit 1, position first.
	out, _, code := run(t, dir, "", nil, "lint", "--no-config", "priv.yaml")
	if code != 1 || !strings.Contains(out, "priv.yaml:11:9: critical privileged-container") {
		t.Errorf("priv: code %d, out:\n%s", code, out)
	}
	// Same findings but the threshold is above them: exit 0.
	if _, _, code := run(t, dir, "", nil, "lint", "--no-config", "--disable", "privileged-container", "--fail-on", "critical", "priv.yaml"); code != 0 {
		t.Errorf("fail-on critical with the rule disabled: code %d", code)
	}
	if _, _, code := run(t, dir, "", nil, "lint", "--no-config", "--fail-on", "none", "priv.yaml"); code != 0 {
		t.Errorf("fail-on none: code %d", code)
	}
	// Clean input: exit 0.
	if out, _, code := run(t, dir, "", nil, "lint", "--no-config", "clean.yaml"); code != 0 || !strings.Contains(out, "no findings") {
		t.Errorf("clean: code %d out %q", code, out)
	}
	// A parse error is exit 2 even with findings, and the rest is linted.
	out, errOut, code := run(t, dir, "", nil, "lint", "--no-config", "broken.yaml", "priv.yaml")
	if code != 2 {
		t.Errorf("broken: code %d", code)
	}
	if !strings.Contains(errOut, "broken.yaml:3: YAML syntax error") {
		t.Errorf("stderr lacks file:line error:\n%s", errOut)
	}
	if strings.Count(out, "privileged-container") != 2 {
		t.Errorf("both privileged pods (after the broken document, and the other file) must be reported:\n%s", out)
	}
	// Usage errors: exit 2 with a message.
	for _, args := range [][]string{
		{"lint"},
		{"lint", "-o", "xml", "priv.yaml"},
		{"lint", "--fail-on", "severe", "priv.yaml"},
		{"lint", "--disable", "no-such-rule", "priv.yaml"},
		{"lint", "--no-such-flag"},
		{"lint", "-", "-"},
	} {
		_, errOut, code := run(t, dir, "", nil, append(args, "--no-config")...)
		if code != 2 || !strings.Contains(errOut, "Error:") {
			t.Errorf("%v: code %d stderr %q", args, code, errOut)
		}
	}
	// A missing file is an input error (2), not a crash.
	if _, errOut, code := run(t, dir, "", nil, "lint", "--no-config", "nope.yaml"); code != 2 || !strings.Contains(errOut, "nope.yaml") {
		t.Errorf("missing file: code %d stderr %q", code, errOut)
	}
}

func TestLintStdinAndOutputFile(t *testing.T) {
	dir := t.TempDir()
	_, _, code := run(t, dir, privPod, nil, "lint", "--no-config", "-o", "json", "--output-file", "out.json", "-")
	if code != 1 {
		t.Fatalf("code %d", code)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Summary struct {
			Objects int `json:"objects"`
			Files   int `json:"files"`
		} `json:"summary"`
		Findings []struct {
			RuleID   string `json:"ruleId"`
			Location struct {
				File   string `json:"file"`
				Line   int    `json:"line"`
				Column int    `json:"column"`
			} `json:"location"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Objects != 1 || rep.Summary.Files != 1 {
		t.Errorf("summary = %+v", rep.Summary)
	}
	found := false
	for _, f := range rep.Findings {
		if f.RuleID == "privileged-container" && f.Location.File == "<stdin>" && f.Location.Line == 11 && f.Location.Column == 9 {
			found = true
		}
	}
	if !found {
		t.Errorf("no privileged-container at <stdin>:11:9 in %s", data)
	}
}

func TestLintConfigFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"priv.yaml": privPod,
		"sub/.keep": "",
		".kubectl-secure.yaml": `rules:
  severity:
    privileged-container: low
exemptions:
  - rule: image-latest-tag
    namespace: "n*"
    reason: demo
`,
	})
	// Found from a subdirectory (parents are searched); the override makes
	// the finding low, so the default fail-on high passes.
	out, _, code := run(t, filepath.Join(dir, "sub"), "", nil, "lint", "../priv.yaml")
	if code != 0 || !strings.Contains(out, "low      privileged-container") {
		t.Errorf("code %d out:\n%s", code, out)
	}
	bad := writeFiles(t, map[string]string{
		"priv.yaml":            privPod,
		".kubectl-secure.yaml": "rules:\n  disable: [privileged-container]\nexemptions:\n  - rule: host-pid\n    nmespace: x\n    reason: typo\n",
	})
	_, errOut, code := run(t, bad, "", nil, "lint", "priv.yaml")
	if code != 2 || !strings.Contains(errOut, `.kubectl-secure.yaml: line 5: unknown key "nmespace"`) {
		t.Errorf("unknown key: code %d stderr %q", code, errOut)
	}
	unknown := writeFiles(t, map[string]string{
		"priv.yaml":   privPod,
		"custom.yaml": "rules:\n  disable:\n    - privileged-container\n    - no-such-rule\n",
	})
	_, errOut, code = run(t, unknown, "", nil, "lint", "--config", "custom.yaml", "priv.yaml")
	if code != 2 || !strings.Contains(errOut, "custom.yaml:4: unknown rule \"no-such-rule\"") {
		t.Errorf("unknown rule: code %d stderr %q", code, errOut)
	}
	noReason := writeFiles(t, map[string]string{"c.yaml": "exemptions:\n  - rule: host-pid\n"})
	_, errOut, code = run(t, noReason, "", nil, "lint", "--config", "c.yaml", "c.yaml")
	if code != 2 || !strings.Contains(errOut, "c.yaml:2: exemption for rule \"host-pid\" needs a reason") {
		t.Errorf("no reason: code %d stderr %q", code, errOut)
	}
}

func TestLintBaselineRoundTrip(t *testing.T) {
	dir := writeFiles(t, map[string]string{"priv.yaml": privPod})
	if _, _, code := run(t, dir, "", nil, "lint", "--no-config", "--write-baseline", "base.json", "priv.yaml"); code != 0 {
		t.Fatalf("write-baseline: code %d", code)
	}
	out, _, code := run(t, dir, "", nil, "lint", "--no-config", "--baseline", "base.json", "priv.yaml")
	if code != 0 || !strings.Contains(out, "suppressed") {
		t.Errorf("baseline run: code %d out:\n%s", code, out)
	}
	// Shifting lines keeps the baseline valid (fingerprints ignore lines);
	// a new problem in another object still fails.
	shifted := "# a new comment\n# and another\n" + privPod + "---\n" + strings.Replace(privPod, "name: priv", "name: priv2", 1)
	os.WriteFile(filepath.Join(dir, "priv.yaml"), []byte(shifted), 0o644)
	out, _, code = run(t, dir, "", nil, "lint", "--no-config", "--baseline", "base.json", "priv.yaml")
	if code != 1 || strings.Count(out, "privileged-container") != 1 || !strings.Contains(out, "priv2") {
		t.Errorf("after edit: code %d out:\n%s", code, out)
	}
}

func TestIgnoreAnnotation(t *testing.T) {
	annotated := strings.Replace(privPod, "  namespace: ns\n", "  namespace: ns\n  annotations:\n    kubectl-secure.io/ignore: privileged-container\n    kubectl-secure.io/ignore-reason: CNI agent\n", 1)
	dir := writeFiles(t, map[string]string{"p.yaml": annotated})
	out, _, _ := run(t, dir, "", nil, "lint", "--no-config", "p.yaml")
	if strings.Contains(out, "privileged-container") {
		t.Errorf("annotation ignored:\n%s", out)
	}
}

func TestRulesCommand(t *testing.T) {
	out, _, code := run(t, "", "", nil, "rules")
	if code != 0 || !strings.Contains(out, "privileged-container") {
		t.Errorf("rules: %d %s", code, out)
	}
	out, _, code = run(t, "", "", nil, "rules", "privileged-container")
	for _, want := range []string{"Why it matters", "How to fix", "privileged: false", "References"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	if out, _, code := run(t, "", "", nil, "rules", "image-signature"); code != 0 || !strings.Contains(out, "imageVerification") {
		t.Errorf("image-signature: %d %s", code, out)
	}
	if _, _, code := run(t, "", "", nil, "rules", "nope"); code != 2 {
		t.Errorf("unknown rule: code %d", code)
	}
}

func TestHelpSaysKubectlSecure(t *testing.T) {
	out, _, _ := run(t, "", "", nil, "lint", "--help")
	if !strings.Contains(out, "kubectl secure lint PATH") {
		t.Errorf("usage does not say `kubectl secure lint`:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "", "", nil, "version", "-o", "json")
	var v VersionInfo
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Version == "" {
		t.Errorf("version: %d %q", code, out)
	}
}

// Linting a repository root renders kustomizations and charts in-process;
// findings point at the user's own source lines, once per source position,
// and --no-render treats the same files as plain YAML.
func TestLintRendersKustomizeAndHelm(t *testing.T) {
	repo, err := filepath.Abs("../testdata/render/repo")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, repo, "", nil, "lint", "--no-config", "--enable", "privileged-container,host-network", ".")
	if code != 1 {
		t.Fatalf("code %d stderr %s\n%s", code, errOut, out)
	}
	if n := strings.Count(out, "deploy/base/deployment.yaml:18:13: critical privileged-container"); n != 1 {
		t.Errorf("base finding reached through two overlays reported %d times, want once:\n%s", n, out)
	}
	if strings.Contains(out, "<rendered") || strings.Contains(out, "kustomize build") && strings.Contains(out, ":1:1:") {
		t.Errorf("a finding points into the rendered stream:\n%s", out)
	}
	out, _, _ = run(t, repo, "", nil, "lint", "--no-config", "--no-render", "--enable", "privileged-container", ".")
	if strings.Contains(out, "origin: kustomize") {
		t.Errorf("--no-render still rendered:\n%s", out)
	}
}

func TestMaxFileSizeQuantities(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.yaml": privPod})
	if _, errOut, code := run(t, dir, "", nil, "lint", "--no-config", "--max-file-size", "100", "p.yaml"); code != 2 || !strings.Contains(errOut, "over the 100-byte limit") {
		t.Errorf("100 bytes: code %d %s", code, errOut)
	}
	if _, _, code := run(t, dir, "", nil, "lint", "--no-config", "--max-file-size", "1Ki", "p.yaml"); code != 1 {
		t.Errorf("1Ki: code %d", code)
	}
	for _, bad := range []string{"lots", "-1", "0.5"} {
		if _, errOut, code := run(t, dir, "", nil, "lint", "--no-config", "--max-file-size", bad, "p.yaml"); code != 2 || !strings.Contains(errOut, "max-file-size") {
			t.Errorf("%s: code %d %s", bad, code, errOut)
		}
	}
}

// Symlinked manifests in a walked directory are linted, whether or not
// rendering is on; a dangling link is an input error.
func TestLintFollowsSymlinkedFiles(t *testing.T) {
	target := writeFiles(t, map[string]string{"p.yaml": privPod})
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(target, "p.yaml"), filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--no-render"}} {
		args := append([]string{"lint", "--no-config", "--enable", "privileged-container"}, extra...)
		out, _, code := run(t, dir, "", nil, append(args, ".")...)
		if code != 1 || !strings.Contains(out, "link.yaml:11:9") {
			t.Errorf("%v: code %d\n%s", extra, code, out)
		}
	}
	os.Symlink(filepath.Join(dir, "gone.yaml"), filepath.Join(dir, "dangling.yaml"))
	if _, errOut, code := run(t, dir, "", nil, "lint", "--no-config", "."); code != 2 || !strings.Contains(errOut, "broken symbolic link") {
		t.Errorf("dangling: code %d %s", code, errOut)
	}
}

// A Helm template error points at the template line in the user's chart.
func TestLintHelmTemplateErrorPosition(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"chart/Chart.yaml":                "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"chart/templates/ok.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n",
		"chart/templates/deployment.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ nosuchfunc }}\n",
		"plain.yaml":                      privPod,
	})
	out, errOut, code := run(t, dir, "", nil, "lint", "--no-config", "--enable", "privileged-container", ".")
	if code != 2 || !strings.Contains(errOut, "chart/templates/deployment.yaml:4: rendering chart chart") {
		t.Errorf("code %d stderr %q", code, errOut)
	}
	if !strings.Contains(out, "plain.yaml:11:9") {
		t.Errorf("the rest was not linted:\n%s", out)
	}
}

// A field of the wrong type deep in a rendered object is reported at its
// line in the source the user owns, with the Kubernetes path — not at the
// object's first line with a Go struct path.
func TestLintTypeErrorInRenderedObject(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"kustomization.yaml": "resources:\n  - pod.yaml\nnamespace: shop\n",
		"pod.yaml": `apiVersion: v1
kind: Pod
metadata:
  name: disk
spec:
  containers:
    - name: app
      image: nginx:1.27
  volumes:
    - name: data
      emptyDir: {}
    - name: san
      fc:
        lun: "x"
`,
	})
	_, errOut, code := run(t, dir, "", nil, "lint", "--no-config", ".")
	if code != 2 {
		t.Fatalf("exit %d, want 2 (input error); stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "pod.yaml:14:") || !strings.Contains(errOut, "spec.volumes[1].fc.lun") || strings.Contains(errOut, "VolumeSource") {
		t.Errorf("want the error at pod.yaml:14 naming spec.volumes[1].fc.lun; stderr:\n%s", errOut)
	}
}

// One config file serves lint and scan: it may name scan's own rules,
// which lint accepts there (and does not run), while lint's command line
// still refuses them.
func TestLintAcceptsScanRulesInSharedConfig(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		".kubectl-secure.yaml": "rules:\n  disable: [running-image-drift]\n  severity:\n    running-image-no-digest: low\n",
		"priv.yaml":            privPod,
	})
	out, errOut, code := run(t, dir, "", nil, "lint", "priv.yaml")
	if code != 1 || !strings.Contains(out, "privileged-container") {
		t.Errorf("shared config: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	_, errOut, code = run(t, dir, "", nil, "lint", "--disable", "running-image-drift", "priv.yaml")
	if code != 2 || !strings.Contains(errOut, "unknown rule") {
		t.Errorf("--disable of a scan-only rule on lint: exit %d, stderr:\n%s", code, errOut)
	}
	_, errOut, code = run(t, dir, "", map[string]string{}, "lint", "--config", writeFiles(t, map[string]string{"c.yaml": "rules:\n  disable: [no-such-rule]\n"})+"/c.yaml", "priv.yaml")
	if code != 2 || !strings.Contains(errOut, "no-such-rule") {
		t.Errorf("unknown rule in config: exit %d, stderr:\n%s", code, errOut)
	}
}

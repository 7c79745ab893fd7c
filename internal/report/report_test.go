package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixture is the fixed Result every golden file is generated from: several
// files, every severity, containers, an input error, a finding with Origin,
// a rule without documentation, a documented rule without findings, and a
// message full of characters that need escaping.
func fixture() *finding.Result {
	web := finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "web"}
	job := finding.ObjectRef{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "ops", Name: "backup"}
	role := finding.ObjectRef{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Name: "admin-all"}
	res := &finding.Result{
		ToolName:    "kubectl-secure",
		ToolVersion: "v1.2.3",
		Rules: []finding.RuleInfo{
			{
				ID: "KS001", Title: "Privileged container", Severity: finding.Critical, Category: "pod-security",
				Tags:        []string{"cis-5.2.1", "pss-baseline"},
				Rationale:   "A privileged container has every capability of the host and can escape to the node.",
				Remediation: "Set `securityContext.privileged: false`.",
				Example:     "securityContext:\n  privileged: false\n",
				References: []string{
					"https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
					"CIS Kubernetes Benchmark 5.2.1",
				},
			},
			{
				ID: "KS002", Title: "hostPath volume", Severity: finding.High, Category: "pod-security",
				Rationale:   "hostPath volumes expose the node's filesystem.",
				Remediation: "Use an emptyDir, a ConfigMap or a PersistentVolumeClaim.",
			},
			{
				ID: "KS003", Title: "Image uses the latest tag", Severity: finding.Medium, Category: "supply-chain",
				Tags:        []string{"images"},
				Rationale:   "A mutable tag makes deployments unreproducible.",
				Remediation: "Pin the image by digest.",
				Example:     "image: nginx@sha256:0123456789abcdef\n",
			},
			{
				ID: "KS004", Title: "No resource limits", Severity: finding.Low, Category: "resources",
				Rationale:   "Without limits a container can starve its neighbours.",
				Remediation: "Set resources.limits.cpu and resources.limits.memory.",
			},
			{
				ID: "KS005", Title: "Wildcard RBAC verbs", Severity: finding.High, Category: "rbac",
				Rationale:   "`*` verbs grant every current and future verb.",
				Remediation: "List the verbs the subject needs.",
				References:  []string{"https://kubernetes.io/docs/reference/access-authn-authz/rbac/"},
			},
			{
				ID: "KS999", Title: "Rule with no findings", Severity: finding.Low, Category: "misc",
				Rationale: "Documented so SARIF lists it.", Remediation: "Nothing to do.",
			},
		},
		Findings: []finding.Finding{
			{
				RuleID: "KS004", Severity: finding.Low, Message: `container "app" has no resource limits`,
				Location: finding.Location{File: "deploy/web.yaml", Line: 20, Column: 11},
				Object:   web, Container: "app", Path: "spec.template.spec.containers[0].resources",
				Remediation: "Set resources.limits.cpu and resources.limits.memory.",
				Fingerprint: finding.Fingerprint("KS004", web, "spec.template.spec.containers[app].resources"),
			},
			{
				RuleID: "KS001", Severity: finding.Critical, Message: `container "app" runs privileged`,
				Location: finding.Location{File: "deploy/web.yaml", Line: 24, Column: 13, EndLine: 24, EndColumn: 29},
				Object:   web, Container: "app", Path: "spec.template.spec.containers[0].securityContext.privileged",
				Remediation: "Set `securityContext.privileged: false`.",
				Fingerprint: finding.Fingerprint("KS001", web, "spec.template.spec.containers[app].securityContext.privileged"),
			},
			{
				RuleID: "KS003", Severity: finding.Medium,
				Message:  "image \"nginx:latest\" | 100% mutable,\nnot pinned: ünïcode ✓ 🚀 <b>&amp;</b>",
				Location: finding.Location{File: "deploy/web.yaml", Line: 22, Column: 18},
				Object:   web, Container: "sidecar", Path: "spec.template.spec.containers[1].image",
				Remediation: "Pin the image by digest.",
				Fingerprint: finding.Fingerprint("KS003", web, "spec.template.spec.containers[sidecar].image"),
			},
			{
				RuleID: "KS002", Severity: finding.High, Message: `volume "host" mounts hostPath /var/run/docker.sock`,
				Location: finding.Location{File: "overlays/prod/kustomization.yaml", Line: 7, Column: 5},
				Object:   job, Path: "spec.jobTemplate.spec.template.spec.volumes[0].hostPath",
				Remediation: "Use an emptyDir, a ConfigMap or a PersistentVolumeClaim.",
				Fingerprint: finding.Fingerprint("KS002", job, "spec.jobTemplate.spec.template.spec.volumes[host].hostPath"),
				Origin:      "kustomize overlay overlays/prod (patch patches/hostpath.yaml)",
			},
			{
				RuleID: "KS005", Severity: finding.High, Message: `rule 0 allows verbs ["*"] on pods`,
				Location: finding.Location{File: "rbac/admin, role.yaml", Line: 9, Column: 3, EndLine: 10, EndColumn: 12},
				Object:   role, Path: "rules[0].verbs",
				Remediation: "List the verbs the subject needs.",
				Fingerprint: finding.Fingerprint("KS005", role, "rules[0].verbs"),
			},
			{
				RuleID: "KS100", Severity: finding.Medium, Message: "undocumented rule fired",
				Location: finding.Location{File: "rbac/admin, role.yaml", Line: 2, Column: 1},
				Object:   role,
			},
		},
		Summary: finding.Summary{
			Files: 7, Objects: 34, Skipped: 2, Suppressed: 3,
			Errors: []finding.InputError{
				{File: "deploy/broken.yaml", Line: 3, Message: "yaml: line 3: mapping values are not allowed in this context"},
			},
			Elapsed: 210 * time.Millisecond,
			FailOn:  finding.High,
		},
	}
	res.CountBySeverity()
	return res
}

// clean is a run with no findings and no errors.
func clean() *finding.Result {
	return &finding.Result{
		ToolName: "kubectl-secure", ToolVersion: "dev",
		Rules:   fixture().Rules[:1],
		Summary: finding.Summary{Files: 1, Objects: 1, Elapsed: 1500 * time.Microsecond},
	}
}

func render(t *testing.T, format string, res *finding.Result, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, res, opts); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

// checkGolden compares got with testdata/report/name, or rewrites it with
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "report", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run go test ./internal/report -update after checking the change)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		golden string
		format string
		res    func() *finding.Result
		opts   Options
	}{
		{"text.golden", "text", fixture, Options{}},
		{"text-color.golden", "text", fixture, Options{Color: true}},
		{"text-verbose.golden", "text", fixture, Options{Verbose: true}},
		{"text-clean.golden", "text", clean, Options{}},
		{"json.golden", "json", fixture, Options{}},
		{"json-clean.golden", "json", clean, Options{}},
		{"sarif.golden", "sarif", fixture, Options{}},
		{"sarif-srcroot.golden", "sarif", fixture, Options{SrcRoot: "/home/runner/work/app"}},
		{"sarif-clean.golden", "sarif", clean, Options{}},
		{"markdown.golden", "markdown", fixture, Options{}},
		{"markdown-capped.golden", "markdown", fixture, Options{MarkdownMaxRows: 2}},
		{"markdown-clean.golden", "markdown", clean, Options{}},
		{"github.golden", "github", fixture, Options{}},
		{"github-clean.golden", "github", clean, Options{}},
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.golden, ".golden"), func(t *testing.T) {
			checkGolden(t, c.golden, render(t, c.format, c.res(), c.opts))
		})
	}
}

func TestFormats(t *testing.T) {
	want := []string{"github", "json", "markdown", "sarif", "text"}
	if got := Formats(); !slices.Equal(got, want) {
		t.Fatalf("Formats() = %v, want %v", got, want)
	}
	for _, f := range Formats() {
		if err := Write(&bytes.Buffer{}, f, fixture(), Options{}); err != nil {
			t.Errorf("Write(%q): %v", f, err)
		}
		// A nil result must not panic.
		if err := Write(&bytes.Buffer{}, f, nil, Options{}); err != nil {
			t.Errorf("Write(%q, nil): %v", f, err)
		}
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	err := Write(&bytes.Buffer{}, "xml", fixture(), Options{})
	if err == nil || !strings.Contains(err.Error(), `"xml"`) || !strings.Contains(err.Error(), "sarif") {
		t.Fatalf("Write(xml) error = %v, want unknown-format error listing formats", err)
	}
}

// Printers must not reorder or otherwise modify the caller's result.
func TestWriteDoesNotMutate(t *testing.T) {
	res := fixture()
	before := slices.Clone(res.Findings)
	for _, f := range Formats() {
		render(t, f, res, Options{})
	}
	if !slices.Equal(before, res.Findings) {
		t.Fatal("a printer modified res.Findings")
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, os.ErrClosed
	}
	w.n--
	return len(p), nil
}

func TestWriteErrorsPropagate(t *testing.T) {
	for _, f := range Formats() {
		if err := Write(&failWriter{}, f, fixture(), Options{}); err == nil {
			t.Errorf("Write(%q) to a failing writer returned nil", f)
		}
	}
}

func TestColorEnabled(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	file, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	tty, ttyErr := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if ttyErr == nil {
		defer tty.Close()
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()

	cases := []struct {
		name string
		f    *os.File
		env  func(string) string
		want bool
	}{
		{"regular file", file, env(), false},
		{"FORCE_COLOR on a file", file, env("FORCE_COLOR", "1"), true},
		{"FORCE_COLOR=0", file, env("FORCE_COLOR", "0"), false},
		{"NO_COLOR beats FORCE_COLOR", file, env("NO_COLOR", "1", "FORCE_COLOR", "1"), false},
		{"empty NO_COLOR is unset", file, env("NO_COLOR", "", "FORCE_COLOR", "1"), true},
		{"nil file", nil, env(), false},
		// /dev/null is a character device, the same check a terminal passes.
		{"character device", devNull, env(), true},
		{"NO_COLOR on a character device", devNull, env("NO_COLOR", "x"), false},
	}
	if ttyErr == nil {
		cases = append(cases, struct {
			name string
			f    *os.File
			env  func(string) string
			want bool
		}{"terminal", tty, env(), true})
	}
	for _, c := range cases {
		if got := ColorEnabled(c.f, c.env); got != c.want {
			t.Errorf("%s: ColorEnabled = %v, want %v", c.name, got, c.want)
		}
	}
}

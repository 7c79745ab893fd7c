package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/config"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const privilegedPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true
`

// bytesSource is a Source over in-memory YAML that visits objects the way
// lint's loader does: some during Load, the rest left for afterwards.
func bytesSource(name, yaml string, visitEvery int) Source {
	return SourceFunc(func(_ context.Context, visit func(*manifest.Object)) *manifest.Result {
		res := manifest.LoadBytes(name, []byte(yaml), manifest.Options{})
		for i, o := range res.Objects {
			if visitEvery > 0 && i%visitEvery == 0 {
				visit(o)
			}
		}
		return res
	})
}

func newPolicy(t *testing.T, cfg *config.File, in PolicyInput) *Policy {
	t.Helper()
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPolicy(reg, cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ruleIDs(res *finding.Result) map[string]int {
	m := map[string]int{}
	for _, f := range res.Findings {
		m[f.RuleID]++
	}
	return m
}

// Objects visited while loading and objects left for afterwards get the
// same findings: the source decides nothing about what is checked.
func TestRunVisitedAndUnvisitedAgree(t *testing.T) {
	p := newPolicy(t, nil, PolicyInput{})
	var got []map[string]int
	for _, every := range []int{0, 1} {
		out, err := Run(context.Background(), bytesSource("pod.yaml", privilegedPod, every), p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ids := ruleIDs(out.Result)
		if ids["privileged-container"] != 1 {
			t.Fatalf("visitEvery=%d: want one privileged-container finding, got %v", every, ids)
		}
		got = append(got, ids)
	}
	if len(got[0]) != len(got[1]) {
		t.Errorf("visited %v, unvisited %v", got[1], got[0])
	}
}

func TestRunPolicyShapesResult(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { now = now.Add(time.Second); return now }
	all := newPolicy(t, nil, PolicyInput{})
	out, err := Run(context.Background(), bytesSource("pod.yaml", privilegedPod, 1), all, Options{Now: clock, ToolVersion: "v9"})
	if err != nil {
		t.Fatal(err)
	}
	res := out.Result
	if res.ToolVersion != "v9" || res.Summary.Objects != 1 || res.Summary.Elapsed != time.Second {
		t.Errorf("summary: version %q, objects %d, elapsed %v", res.ToolVersion, res.Summary.Objects, res.Summary.Elapsed)
	}
	if !all.Failing(res) {
		t.Errorf("a privileged pod must fail at the default fail-on (high)")
	}
	total := len(res.Findings)

	// min severity drops findings below it; disable removes a rule and
	// its documentation.
	strict := newPolicy(t, nil, PolicyInput{MinSeverity: "critical", Disable: []string{"privileged-container"}, FailOn: "none"})
	out, err = Run(context.Background(), bytesSource("pod.yaml", privilegedPod, 1), strict, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Result.Findings {
		if f.Severity < finding.Critical || f.RuleID == "privileged-container" {
			t.Errorf("unexpected finding %s %s", f.Severity, f.RuleID)
		}
	}
	for _, r := range out.Result.Rules {
		if r.ID == "privileged-container" {
			t.Errorf("disabled rule documented in the result")
		}
	}
	if strict.Failing(out.Result) || len(out.Result.Findings) >= total {
		t.Errorf("fail-on none must never fail; got %d of %d findings", len(out.Result.Findings), total)
	}
}

func TestRunBaselineRoundTrip(t *testing.T) {
	dir := t.TempDir()
	bl := filepath.Join(dir, "baseline.json")
	p := newPolicy(t, nil, PolicyInput{})
	out, err := Run(context.Background(), bytesSource("pod.yaml", privilegedPod, 1), p, Options{WriteBaseline: bl})
	if err != nil || !out.WroteBaseline {
		t.Fatalf("write baseline: %v", err)
	}
	if len(out.Result.Findings) == 0 {
		t.Fatal("no findings to baseline")
	}
	withBaseline := newPolicy(t, nil, PolicyInput{Baseline: bl})
	out, err = Run(context.Background(), bytesSource("pod.yaml", privilegedPod, 1), withBaseline, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Result.Findings); n != 0 || out.Result.Summary.Suppressed == 0 {
		t.Errorf("after the baseline: %d findings, %d suppressed", n, out.Result.Summary.Suppressed)
	}
}

func TestRunInputErrorsKeepTheRest(t *testing.T) {
	p := newPolicy(t, nil, PolicyInput{})
	out, err := Run(context.Background(), bytesSource("mixed.yaml", "kind: [\n---\n"+privilegedPod, 0), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Result.Summary.Errors) != 1 || !strings.HasPrefix(out.Result.Summary.Errors[0].Error(), "mixed.yaml:") {
		t.Errorf("errors: %v", out.Result.Summary.Errors)
	}
	if ruleIDs(out.Result)["privileged-container"] != 1 {
		t.Errorf("the valid document after the broken one was not linted")
	}
}

func TestPolicyUsageErrors(t *testing.T) {
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []PolicyInput{
		{FailOn: "severe"},
		{MinSeverity: "loud"},
		{Disable: []string{"no-such-rule"}},
		{Enable: []string{"no-such-rule"}},
		{KubernetesVersion: "one"},
		{Baseline: filepath.Join(t.TempDir(), "missing.json")},
	} {
		_, err := NewPolicy(reg, nil, in)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%+v: want a usage error, got %v", in, err)
		}
	}
}

func TestLoadConfigDiscoversAndChecksRuleIDs(t *testing.T) {
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".kubectl-secure.yaml"), []byte("failOn: critical\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig("", sub, reg)
	if err != nil || cfg.FailOn != "critical" {
		t.Fatalf("discovered config: %+v, %v", cfg, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("rules:\n  disable: [no-such-rule]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ue *UsageError
	if _, err := LoadConfig(bad, dir, reg); !errors.As(err, &ue) || !strings.Contains(err.Error(), "no-such-rule") {
		t.Errorf("unknown rule in config: %v", err)
	}
	p, err := NewPolicy(reg, cfg, PolicyInput{})
	if err != nil || p.FailOn != finding.Critical {
		t.Errorf("config failOn not applied: %v %v", p.FailOn, err)
	}
}

func TestVerifyWithoutPolicyIsAUsageError(t *testing.T) {
	p := newPolicy(t, nil, PolicyInput{})
	_, err := Run(context.Background(), bytesSource("pod.yaml", privilegedPod, 1), p, Options{Verify: &VerifyOptions{Timeout: time.Second, Concurrency: 1}})
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Errorf("want usage error, got %v", err)
	}
}

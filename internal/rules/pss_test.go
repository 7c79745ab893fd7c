package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// psaModuleDir finds k8s.io/pod-security-admission in the module cache
// (the build downloads it, so it is there wherever the tests build).
func psaModuleDir(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("cannot locate k8s.io/pod-security-admission: %v", err)
	}
	return dir
}

// levelTags are the tags whose rules together are what a level rejects.
var levelTags = map[string][]string{
	"baseline":   {"pss:baseline"},
	"restricted": {"pss:baseline", "pss:restricted"},
}

// TestPSSFixtures runs the pod-security-admission module's own fixtures for
// every policy version: each fail fixture of a level must get a finding
// from that level's rules, each pass fixture none. Every fixture is also
// checked against the module's evaluator at both levels, so files of one
// level's directory test the other level too.
func TestPSSFixtures(t *testing.T) {
	root := filepath.Join(psaModuleDir(t), "test", "testdata")
	reg := testRegistry(t)
	tags := ruleTags(reg)
	disabled := map[string]bool{}
	for id, tg := range tags {
		if !tg["pss:baseline"] && !tg["pss:restricted"] {
			disabled[id] = true
		}
	}
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "restricted"))
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, e := range entries {
		if n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "v1.")); err == nil && e.IsDir() {
			versions = append(versions, n)
		}
	}
	sort.Ints(versions)
	if len(versions) == 0 || versions[len(versions)-1] != pssTableOnce().maxMinor {
		t.Fatalf("fixture versions %v do not reach the newest policy version v1.%d", versions, pssTableOnce().maxMinor)
	}
	files := 0
	for _, minor := range versions {
		ver := "v1." + strconv.Itoa(minor)
		settings := engine.Settings{KubernetesVersion: "1." + strconv.Itoa(minor)}
		if minor == versions[len(versions)-1] {
			settings.KubernetesVersion = "" // the default must be the newest
		}
		for _, level := range []string{"baseline", "restricted"} {
			for _, verdict := range []string{"pass", "fail"} {
				dir := filepath.Join(root, level, ver, verdict)
				names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
				if err != nil || len(names) == 0 {
					t.Fatalf("no fixtures in %s", dir)
				}
				for _, name := range names {
					files++
					raws, errs := lint(t, reg, settings, disabled, name)
					if len(errs) > 0 {
						t.Errorf("%s: input errors %v", name, errs)
						continue
					}
					res := manifest.LoadPaths([]string{name}, manifest.Options{})
					if len(res.Objects) != 1 {
						t.Fatalf("%s: %d objects", name, len(res.Objects))
					}
					w, err := engine.DecodeWorkload(res.Objects[0])
					if err != nil || w == nil {
						t.Fatalf("%s: %v", name, err)
					}
					w = pssDefaulted(w)
					checkControls(t, name, minor, w, raws)
					for _, lv := range []string{"baseline", "restricted"} {
						v := api.MajorMinorVersion(1, minor)
						results := eval.EvaluatePod(api.LevelVersion{Level: api.Level(lv), Version: v}, w.Meta, w.Spec)
						agg := policy.AggregateCheckResults(results)
						allowed := agg.Allowed
						if lv == level && allowed != (verdict == "pass") {
							t.Fatalf("%s: evaluator says allowed=%v at %s", name, allowed, lv)
						}
						var got []string
						for _, r := range raws {
							for _, tag := range levelTags[lv] {
								if tags[r.RuleID()][tag] {
									got = append(got, r.Location().String()+" "+r.RuleID())
								}
							}
						}
						if allowed && len(got) > 0 {
							t.Errorf("%s (%s %s): allowed by PSA but reported: %v", name, lv, ver, got)
						}
						if !allowed && len(got) == 0 {
							t.Errorf("%s (%s %s): rejected by PSA (%s) but not reported", name, lv, ver, agg.ForbiddenDetail())
						}
					}
				}
			}
		}
	}
	t.Logf("%d fixture files across %d versions", files, len(versions))
}

// TestPSSControlsCoverChecks fails when the module gains a check that no
// rule maps, so that a new control can never be silently dropped.
func TestPSSControlsCoverChecks(t *testing.T) {
	ids := pssControlIDs()
	for _, c := range policy.DefaultChecks() {
		if !ids[c.ID] {
			t.Errorf("PSA check %q has no rule", c.ID)
		}
	}
	if len(ids) != len(policy.DefaultChecks()) {
		t.Errorf("controls map %d checks, module has %d", len(ids), len(policy.DefaultChecks()))
	}
}

// checkControls asserts that each PSA check that fails on the pod is
// reported by one of its own rules (or, for a restricted check that
// replaces a baseline one, by the baseline rules), and that no rule fires
// for a check that passes.
func checkControls(t *testing.T, name string, minor int, w *engine.Workload, raws []engine.Raw) {
	t.Helper()
	tab := pssTableOnce()
	fired := map[string]bool{}
	for _, r := range raws {
		fired[r.RuleID()] = true
		if strings.Contains(r.Message, "Pod Security Standard (v1.") {
			t.Errorf("%s (v1.%d): %s fell back to the pod spec: %s", name, minor, r.RuleID(), r.Message)
		}
	}
	byCheck := map[policy.CheckID]bool{}
	for _, ctrl := range pssControls() {
		any := false
		for _, id := range ctrl.rules {
			any = any || fired[id]
		}
		byCheck[ctrl.check] = any
	}
	for _, ctrl := range pssControls() {
		fn := tab.fns[minor][ctrl.check]
		if fn != nil {
			checkAttribution(t, name, minor, w, raws, ctrl, fn)
		}
		fails := fn != nil && !fn(w.Meta, w.Spec).Allowed
		switch {
		case !fails && byCheck[ctrl.check]:
			t.Errorf("%s (v1.%d): %s passes but its rules fired", name, minor, ctrl.check)
		case fails && !byCheck[ctrl.check]:
			covered := false
			for _, b := range tab.overrides[minor][ctrl.check] {
				covered = covered || byCheck[b]
			}
			if !covered {
				t.Errorf("%s (v1.%d): %s fails but none of %v fired", name, minor, ctrl.check, ctrl.rules)
			}
		}
	}
}

// checkAttribution re-runs a check on the pod reduced to each one of its
// containers: a container the rules blame must fail on its own, and one
// that fails on its own must be blamed unless a pod-level field of the
// same control (or of the baseline control it overrides) is.
func checkAttribution(t *testing.T, name string, minor int, w *engine.Workload, raws []engine.Raw, ctrl *pssControl, fn policy.CheckPodFn) {
	t.Helper()
	tab := pssTableOnce()
	ids := map[string]bool{}
	for _, id := range ctrl.rules {
		ids[id] = true
	}
	for _, b := range tab.overrides[minor][ctrl.check] {
		for _, c := range pssControls() {
			if c.check == b {
				for _, id := range c.rules {
					ids[id] = true
				}
			}
		}
	}
	own := map[string]bool{}
	for _, id := range ctrl.rules {
		own[id] = true
	}
	podLevel := false
	blamed := map[string]bool{}
	ownBlamed := map[string]bool{}
	for _, r := range raws {
		if !ids[r.RuleID()] {
			continue
		}
		if r.Container == "" {
			podLevel = true
			continue
		}
		blamed[r.Container] = true
		if own[r.RuleID()] {
			ownBlamed[r.Container] = true
		}
	}
	for _, ct := range w.Containers {
		spec := *w.Spec
		spec.InitContainers, spec.Containers, spec.EphemeralContainers = nil, nil, nil
		switch ct.Kind {
		case "initContainer":
			spec.InitContainers = []corev1.Container{*ct.Container}
		case "container":
			spec.Containers = []corev1.Container{*ct.Container}
		default:
			spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(*ct.Container)}}
		}
		fails := !fn(w.Meta, &spec).Allowed
		n := ct.Container.Name
		if ownBlamed[n] && !fails {
			t.Errorf("%s (v1.%d): %v blame container %q, which passes %s on its own", name, minor, ctrl.rules, n, ctrl.check)
		}
		if fails && !blamed[n] && !podLevel {
			t.Errorf("%s (v1.%d): container %q fails %s on its own but no rule blames it", name, minor, n, ctrl.check)
		}
	}
}

// TestPSSAgreementOnManifests runs the control-by-control and
// per-container agreement checks on every workload of the rule fixtures and
// of the real-world corpus, at the newest policy version.
func TestPSSAgreementOnManifests(t *testing.T) {
	reg := testRegistry(t)
	root := repoRoot(t)
	minor := pssTableOnce().maxMinor
	for _, dir := range []string{"testdata/rules", "testdata/corpus/real", "testdata/hardened"} {
		res := manifest.LoadPaths([]string{filepath.Join(root, dir)}, manifest.Options{BaseDir: root})
		workloads := map[*manifest.Object]*engine.Workload{}
		for _, o := range res.Objects {
			if w, err := engine.DecodeWorkload(o); err == nil && w != nil {
				workloads[o] = pssDefaulted(w)
			}
		}
		raws, _ := (&engine.Engine{Registry: reg, Workers: 1}).Run(res.Objects)
		byObj := map[*manifest.Object][]engine.Raw{}
		for _, r := range raws {
			byObj[r.Obj] = append(byObj[r.Obj], r)
		}
		n := 0
		for o, w := range workloads {
			if targetsOtherVersion(t, filepath.Join(root, o.File)) {
				continue // a fixture for an older policy version
			}
			n++
			checkControls(t, o.File+" "+o.Ref().String(), minor, w, byObj[o])
		}
		t.Logf("%s: %d workloads", dir, n)
	}
}

// targetsOtherVersion reports whether a fixture sets a Kubernetes version.
func targetsOtherVersion(t *testing.T, path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if m := settingsRE.FindStringSubmatch(line); m != nil && strings.Contains(m[1], "KubernetesVersion") {
			return true
		}
	}
	return false
}

package rules

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// pssTable holds, for every policy version from v1.0 to the newest the
// pod-security-admission module knows, the check function of every check
// that applies at that version (the VersionedCheck with the largest
// MinimumVersion not newer than it) — exactly what the module's own
// registry runs. It is built once and never mutated.
type pssTable struct {
	maxMinor int
	// fns[minor][checkID]
	fns []map[policy.CheckID]policy.CheckPodFn
	// level of each check ID.
	level map[policy.CheckID]api.Level
	// overrides[minor][restricted check ID] lists the baseline checks it
	// replaces at the restricted level.
	overrides []map[policy.CheckID][]policy.CheckID
}

var pssTableOnce = sync.OnceValue(buildPSSTable)

func buildPSSTable() *pssTable {
	checks := policy.DefaultChecks()
	t := &pssTable{level: map[policy.CheckID]api.Level{}}
	for _, c := range checks {
		t.level[c.ID] = c.Level
		last := c.Versions[len(c.Versions)-1].MinimumVersion
		if last.Major() == 1 && last.Minor() > t.maxMinor {
			t.maxMinor = last.Minor()
		}
	}
	t.fns = make([]map[policy.CheckID]policy.CheckPodFn, t.maxMinor+1)
	t.overrides = make([]map[policy.CheckID][]policy.CheckID, t.maxMinor+1)
	for minor := 0; minor <= t.maxMinor; minor++ {
		v := api.MajorMinorVersion(1, minor)
		fns := map[policy.CheckID]policy.CheckPodFn{}
		ov := map[policy.CheckID][]policy.CheckID{}
		for _, c := range checks {
			var cur *policy.VersionedCheck
			for i := range c.Versions {
				if !v.Older(c.Versions[i].MinimumVersion) {
					cur = &c.Versions[i]
				}
			}
			if cur == nil {
				continue
			}
			fns[c.ID] = cur.CheckPod
			if len(cur.OverrideCheckIDs) > 0 {
				ov[c.ID] = cur.OverrideCheckIDs
			}
		}
		t.fns[minor] = fns
		t.overrides[minor] = ov
	}
	return t
}

// pssMinor returns the policy minor version the settings target: the
// configured Kubernetes version, clamped to the newest known, or the newest
// when unset or unparsable (configuration validation reports the latter).
func pssMinor(s *engine.Settings) int {
	t := pssTableOnce()
	if s == nil || s.KubernetesVersion == "" {
		return t.maxMinor
	}
	major, minor, ok := engine.ParseKubernetesVersion(s.KubernetesVersion)
	if !ok || major > 1 || minor > t.maxMinor {
		return t.maxMinor
	}
	return minor
}

// pssEval is one pod template being located against one PSA check.
type pssEval struct {
	o     *manifest.Object
	w     *engine.Workload
	minor int
	fns   map[policy.CheckID]policy.CheckPodFn
	s     *engine.Settings
	// rule is the rule being checked; hits counts the offending fields
	// found for every rule of the control.
	rule string
	c    *engine.Context
	hits int
}

// hit records an offending field for rule and reports whether it is the
// rule being checked, so that callers build paths and messages only for
// findings they report.
func (e *pssEval) hit(rule string) bool {
	e.hits++
	return rule == e.rule
}

// report records a finding of the rule being checked.
func (e *pssEval) report(p manifest.Path, msg string) { e.c.Report(p, msg) }

// reportSeverity is report for a finding graded other than the rule's
// default severity.
func (e *pssEval) reportSeverity(p manifest.Path, sev finding.Severity, msg string) {
	e.c.ReportSeverity(p, sev, msg)
}

// fails runs check id (as it applies at the target version) on an
// arbitrary pod; false when the check does not apply at that version.
func (e *pssEval) fails(id policy.CheckID, meta *metav1.ObjectMeta, spec *corev1.PodSpec) bool {
	fn := e.fns[id]
	if fn == nil {
		return false
	}
	if meta == nil {
		meta = &metav1.ObjectMeta{}
	}
	return !fn(meta, spec).Allowed
}

// probe returns a pod spec that carries the pod-wide fields checks depend
// on (OS, hostUsers) and nothing else; callers add the one field whose
// verdict they want.
func (e *pssEval) probe() *corev1.PodSpec {
	return &corev1.PodSpec{OS: e.w.Spec.OS, HostUsers: e.w.Spec.HostUsers}
}

// probeContainer is probe with the one container c.
func (e *pssEval) probeContainer(c corev1.Container) *corev1.PodSpec {
	s := e.probe()
	s.Containers = []corev1.Container{c}
	return s
}

// pssControl maps one PSA check to the rules that report it and to field
// positions. rules[0] is the primary rule: when the check fails and locate
// pinpoints nothing, it reports at the pod spec so that no violation is
// ever dropped.
type pssControl struct {
	check  policy.CheckID
	rules  []string
	locate func(e *pssEval)
}

// pssCheck builds the Check of rule id, one of ctrl.rules.
func pssCheck(id string, ctrl *pssControl) engine.CheckFunc {
	return func(c *engine.Context, o *manifest.Object) {
		w := c.Workload()
		if w == nil {
			return
		}
		t := pssTableOnce()
		minor := pssMinor(c.Settings())
		fns := t.fns[minor]
		fn := fns[ctrl.check]
		if fn == nil {
			return
		}
		w = pssDefaulted(w)
		res := fn(w.Meta, w.Spec)
		if res.Allowed {
			return
		}
		e := &pssEval{o: o, w: w, minor: minor, fns: fns, s: c.Settings(), rule: id, c: c}
		ctrl.locate(e)
		if e.hits > 0 || id != ctrl.rules[0] {
			return
		}
		// A restricted check that replaces a baseline one fails whenever
		// the baseline one does; the baseline rule reports that part.
		for _, b := range t.overrides[minor][ctrl.check] {
			if bf := fns[b]; bf != nil && !bf(w.Meta, w.Spec).Allowed {
				return
			}
		}
		msg := res.ForbiddenReason
		if res.ForbiddenDetail != "" {
			msg += ": " + res.ForbiddenDetail
		}
		c.Reportf(w.SpecPath, "%s violates the %s Pod Security Standard (v1.%d): %s", o.Ref(), t.level[ctrl.check], minor, msg)
	}
}

// pssDefaulted applies the API server's defaulting that PSA checks see
// and manifests omit: a volume without a source is an emptyDir. It copies
// the workload only when something changes; the engine's cached workload is
// shared by every rule and never mutated.
func pssDefaulted(w *engine.Workload) *engine.Workload {
	var vols []corev1.Volume
	for i := range w.Spec.Volumes {
		if w.Spec.Volumes[i].VolumeSource != (corev1.VolumeSource{}) {
			continue
		}
		if vols == nil {
			vols = append([]corev1.Volume(nil), w.Spec.Volumes...)
		}
		vols[i].EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if vols == nil {
		return w
	}
	cp := *w
	spec := *w.Spec
	spec.Volumes = vols
	cp.Spec = &spec
	return &cp
}

// pssLevelTag is the SARIF tag of a PSS level.
func pssLevelTag(l api.Level) string { return "pss:" + string(l) }

// pssRule builds a PSS-backed rule: its tags start with the level of the
// check it reports.
func pssRule(ri finding.RuleInfo, ctrl *pssControl) *engine.Rule {
	ri.Tags = append([]string{pssLevelTag(pssTableOnce().level[ctrl.check])}, ri.Tags...)
	return &engine.Rule{RuleInfo: ri, Check: pssCheck(ri.ID, ctrl)}
}

// pssControlIDs lists every check ID the catalogue maps; a test fails when
// the module gains a check this list lacks.
func pssControlIDs() map[policy.CheckID]bool {
	m := map[policy.CheckID]bool{}
	for _, c := range pssControls() {
		m[c.check] = true
	}
	return m
}

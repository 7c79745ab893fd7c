package rules

// Pod Security readiness: for each namespace, the level it enforces, the
// strictest level its pods already satisfy and the pods that block the
// next one — what `kubectl label --dry-run=server ns X
// pod-security.kubernetes.io/enforce=restricted` answers, for every
// namespace at once and without a write.
//
// Pods are evaluated with k8s.io/pod-security-admission's own evaluator,
// as the admission plugin evaluates a namespace's existing pods when its
// enforce label changes. Which objects count as the namespace's pods: Pod
// objects (in a cluster, the running pods), plus pod templates that no
// object of the set claims as its owner and that have no owner in the set
// (a repository's Deployments, CronJobs, …). A Deployment whose
// ReplicaSets and Pods are in the set is thus judged by its pods, as the
// admission plugin judges it.

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// PodSecurityNamespace and PodSecurityBlocker are the rows of the
// readiness table, defined with the result model that reports print.
type (
	PodSecurityNamespace = finding.PodSecurityNamespace
	PodSecurityBlocker   = finding.PodSecurityBlocker
)

// psaPod is what readiness keeps of one object with a pod template: the
// note of the psa rules' Prepare step.
type psaPod struct {
	ref    finding.ObjectRef
	isPod  bool
	owners []string // Kind/name of owners, same namespace
	// fails lists the controls failed at baseline and at restricted
	// (restricted includes the baseline ones).
	fails [2][]string
}

var psaEvaluator = sync.OnceValue(func() policy.Evaluator {
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(fmt.Sprintf("pod-security-admission evaluator: %v", err)) // the module's own checks
	}
	return ev
})

// psaTargetVersion is the policy version readiness evaluates at: the
// target Kubernetes version, or "latest" (what an unpinned enforce label
// means).
func psaTargetVersion(s *engine.Settings) api.Version {
	if s == nil || s.KubernetesVersion == "" {
		return api.LatestVersion()
	}
	return api.MajorMinorVersion(1, pssMinor(s))
}

// evalPSAPod evaluates o's pod template at baseline and restricted, or
// returns nil when o runs no pods.
func evalPSAPod(o *manifest.Object, w *engine.Workload, s *engine.Settings) *psaPod {
	if !runsPods(w, o) {
		return nil
	}
	w = pssDefaulted(w)
	p := &psaPod{ref: o.Ref(), isPod: o.Kind == "Pod" && o.Group() == "", owners: ownerKeys(o)}
	v := psaTargetVersion(s)
	// Restricted includes every baseline control: a pod that satisfies
	// it needs no second evaluation.
	for _, i := range []int{1, 0} {
		lvl := []api.Level{api.LevelBaseline, api.LevelRestricted}[i]
		for _, r := range psaEvaluator().EvaluatePod(api.LevelVersion{Level: lvl, Version: v}, w.Meta, w.Spec) {
			if !r.Allowed {
				p.fails[i] = append(p.fails[i], r.ForbiddenReason)
			}
		}
		if len(p.fails[1]) == 0 {
			break
		}
	}
	return p
}

func ownerKeys(o *manifest.Object) []string {
	_, seq := manifest.MapGet(o.Get(manifest.ParsePath("metadata")), "ownerReferences")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	var out []string
	for _, n := range seq.Content {
		n = manifest.Resolve(n)
		out = append(out, manifest.ScalarString(n, "kind")+"/"+manifest.ScalarString(n, "name"))
	}
	return out
}

// PodSecurityReadiness accumulates the readiness table. Add every object
// while it is whole (it keeps a few strings per pod, not the pod); Table
// builds the rows. The psa-* rules use it through the engine; a scan can
// use one directly to print the table.
type PodSecurityReadiness struct {
	mu         sync.Mutex // Add may be called from the loader's goroutines
	settings   *engine.Settings
	namespaces map[string]map[string]string // labels, by name
	pods       map[string][]*psaPod         // by namespace
}

// NewPodSecurityReadiness starts a table evaluated at the settings'
// Kubernetes version (nil: latest).
func NewPodSecurityReadiness(s *engine.Settings) *PodSecurityReadiness {
	return &PodSecurityReadiness{settings: s, namespaces: map[string]map[string]string{}, pods: map[string][]*psaPod{}}
}

// Add records o: a Namespace, or an object with a pod template. It
// reports a decode error of the template.
func (r *PodSecurityReadiness) Add(o *manifest.Object) error {
	if o.Kind == "Namespace" && o.Group() == "" {
		r.mu.Lock()
		r.namespaces[o.Name] = o.Labels
		r.mu.Unlock()
		return nil
	}
	// A template with a bad field is still evaluated without it.
	w, err := engine.DecodeWorkload(o)
	if w == nil {
		return err
	}
	p := evalPSAPod(o, w, r.settings)
	r.mu.Lock()
	r.addPod(o.Namespace, p)
	r.mu.Unlock()
	return err
}

func (r *PodSecurityReadiness) addPod(ns string, p *psaPod) {
	if p != nil {
		r.pods[ns] = append(r.pods[ns], p)
	}
}

// Table returns one row per namespace with pods, sorted by name. Empty
// namespaces (and, in a scan limited with -n, the namespaces whose pods
// were not listed) have nothing to judge.
func (r *PodSecurityReadiness) Table() []PodSecurityNamespace {
	var rows []PodSecurityNamespace
	for n := range r.pods {
		if row := r.row(n); row.Pods > 0 {
			rows = append(rows, row)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Namespace < rows[j].Namespace })
	return rows
}

func (r *PodSecurityReadiness) row(name string) PodSecurityNamespace {
	row := PodSecurityNamespace{Namespace: name, Enforce: "unknown"}
	if labels, ok := r.namespaces[name]; ok {
		def := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
		pol, _ := api.PolicyToEvaluate(labels, api.Policy{Enforce: def, Audit: def, Warn: def})
		_, row.Labelled = labels[api.EnforceLevelLabel]
		row.Enforce = string(pol.Enforce.Level)
		row.EnforceVersion = pol.Enforce.Version.String()
	}
	// Owners claimed by some object of the namespace: judged by what they own.
	present := map[string]bool{}
	claimed := map[string]bool{}
	for _, p := range r.pods[name] {
		present[p.ref.Kind+"/"+p.ref.Name] = true
		for _, ow := range p.owners {
			claimed[ow] = true
		}
	}
	var counted []*psaPod
	for _, p := range r.pods[name] {
		if !p.isPod && (claimed[p.ref.Kind+"/"+p.ref.Name] || ownedInSet(p, present)) {
			continue
		}
		counted = append(counted, p)
	}
	row.Pods = len(counted)
	level := 2 // restricted
	for _, p := range counted {
		for i := 1; i >= 0; i-- {
			if len(p.fails[i]) > 0 && level > i {
				level = i
			}
		}
	}
	levels := []string{string(api.LevelPrivileged), string(api.LevelBaseline), string(api.LevelRestricted)}
	row.Satisfies = levels[level]
	if level < 2 {
		row.Next = levels[level+1]
		for _, p := range counted {
			if fails := p.fails[level]; len(fails) > 0 {
				row.Blockers = append(row.Blockers, PodSecurityBlocker{Object: p.ref, Controls: fails})
			}
		}
	}
	return row
}

func ownedInSet(p *psaPod, present map[string]bool) bool {
	for _, ow := range p.owners {
		if present[ow] {
			return true
		}
	}
	return false
}

// psaLevelRank orders levels by strictness (unknown levels lowest).
func psaLevelRank(l string) int {
	switch l {
	case string(api.LevelRestricted):
		return 2
	case string(api.LevelBaseline):
		return 1
	}
	return 0
}

const psaRef = "https://kubernetes.io/docs/concepts/security/pod-security-admission/"

// psaReadinessRule builds a set-level rule over the readiness table: its
// Prepare step evaluates each pod while it is whole, so workloads need not
// be kept.
func psaReadinessRule(ri finding.RuleInfo) *engine.Rule {
	return &engine.Rule{
		RuleInfo: ri,
		Prepare: func(c *engine.Context, o *manifest.Object) {
			if p := evalPSAPod(o, c.Workload(), c.Settings()); p != nil {
				c.Note(p)
			}
		},
		Reads: isNamespace,
		CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
			r := NewPodSecurityReadiness(c.Settings())
			nsObjs := map[string]*manifest.Object{}
			for _, o := range objs {
				if o.Kind == "Namespace" && o.Group() == "" {
					r.namespaces[o.Name] = o.Labels
					nsObjs[o.Name] = o
				} else if p, ok := c.Note(o).(*psaPod); ok {
					r.addPod(o.Namespace, p)
				}
			}
			for _, row := range r.Table() {
				// Findings need the Namespace: its labels are the fix.
				if ns := nsObjs[row.Namespace]; ns != nil {
					if msg := psaMessage(ri.ID, row); msg != "" {
						c.Report(ns, enforcePath(ns), msg)
					}
				}
			}
		},
	}
}

// enforcePath is where a namespace's enforce label is, or would go.
func enforcePath(ns *manifest.Object) manifest.Path {
	if _, ok := ns.Labels[api.EnforceLevelLabel]; ok {
		return manifest.Path{}.Key("metadata", "labels", api.EnforceLevelLabel)
	}
	return manifest.ParsePath("metadata.labels")
}

func describeEnforce(row PodSecurityNamespace) string {
	if !row.Labelled {
		return "enforces no Pod Security level"
	}
	return fmt.Sprintf("enforces %s (version %s)", row.Enforce, row.EnforceVersion)
}

// blockerList names up to max blocking objects with their controls.
func blockerList(bs []PodSecurityBlocker, max int) string {
	var parts []string
	for i, b := range bs {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(bs)-max))
			break
		}
		parts = append(parts, fmt.Sprintf("%s/%s (%s)", b.Object.Kind, b.Object.Name, strings.Join(b.Controls, ", ")))
	}
	return strings.Join(parts, "; ")
}

func podSecurityReadinessRules() []*engine.Rule {
	return []*engine.Rule{
		psaReadinessRule(finding.RuleInfo{
			ID: "psa-stricter-level-ready", Title: "Namespace could enforce a stricter Pod Security level today", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"pod-security", "cis:5.2.1"},
			Rationale:   "Every pod of the namespace already satisfies a stricter Pod Security Standard than the namespace enforces, evaluated by k8s.io/pod-security-admission as the admission plugin does. Enforcing it costs nothing today and stops the next privileged, host-mounting or root pod at admission instead of relying on review.",
			Remediation: "Run the kubectl label command in the message (it is what `kubectl label --dry-run=server` would accept without warnings), or set the label in the Namespace manifest, with warn and audit at restricted.",
			Example:     "kubectl label --overwrite ns shop pod-security.kubernetes.io/enforce=restricted\n",
			References:  []string{psaRef, "https://kubernetes.io/docs/tasks/configure-pod-container/enforce-standards-namespace-labels/"},
		}),
		psaReadinessRule(finding.RuleInfo{
			ID: "psa-next-level-blocked", Title: "Pods block a stricter Pod Security level", Severity: finding.Low, Category: "pod-security",
			Tags:        []string{"pod-security"},
			Rationale:   "The namespace does not enforce restricted, and these pods are why it cannot today: labelling it with the next level would make the API server warn about them, and their replacements would be rejected. Knowing the blocking pods and controls turns \"adopt Pod Security\" into a short list of changes.",
			Remediation: "Fix the listed controls in the blocking workloads (the pss:* rules point at each field), or move them to a namespace of their own, then enforce the next level.",
			Example:     "securityContext:\n  allowPrivilegeEscalation: false\n  runAsNonRoot: true\n  capabilities:\n    drop: [\"ALL\"]\n  seccompProfile:\n    type: RuntimeDefault\n",
			References:  []string{psaRef, pssRestrictedRef},
		}),
	}
}

// psaRuleIDs are the rules over the readiness table.
var psaRuleIDs = []string{"psa-stricter-level-ready", "psa-next-level-blocked"}

// psaMessage is the finding rule id makes about a row, or "".
func psaMessage(id string, row PodSecurityNamespace) string {
	switch id {
	case "psa-stricter-level-ready":
		if psaLevelRank(row.Satisfies) > psaLevelRank(row.Enforce) {
			return fmt.Sprintf("namespace %q %s but all %d of its pods satisfy %s today: kubectl label --overwrite ns %s %s=%s",
				row.Namespace, describeEnforce(row), row.Pods, row.Satisfies, row.Namespace, api.EnforceLevelLabel, row.Satisfies)
		}
	case "psa-next-level-blocked":
		if row.Next != "" && psaLevelRank(row.Enforce) < psaLevelRank(string(api.LevelRestricted)) {
			return fmt.Sprintf("namespace %q %s; %d of its %d pods block %s: %s",
				row.Namespace, describeEnforce(row), len(row.Blockers), row.Pods, row.Next, blockerList(row.Blockers, 5))
		}
	}
	return ""
}

// PodSecurityRuleIDs are the rules that report on the readiness table.
// A run that builds the table from more than the engine sees (a cluster's
// running pods, pipeline.ObservingSource) disables them in the engine and
// reports with PodSecurityRaws instead, so findings and table agree.
func PodSecurityRuleIDs() []string { return slices.Clone(psaRuleIDs) }

// PodSecurityRaws makes the findings of the psa-* rules from a table:
// at the Namespace objects of namespaces (by name), for the rules reg
// holds that are not disabled.
func PodSecurityRaws(reg *engine.Registry, disabled map[string]bool, rows []PodSecurityNamespace, namespaces map[string]*manifest.Object) []engine.Raw {
	var out []engine.Raw
	for _, id := range psaRuleIDs {
		rule, ok := reg.Get(id)
		if !ok || disabled[id] {
			continue
		}
		for _, row := range rows {
			ns := namespaces[row.Namespace]
			if ns == nil {
				continue
			}
			if msg := psaMessage(id, row); msg != "" {
				p := enforcePath(ns)
				out = append(out, engine.NewRaw(&rule.RuleInfo, ns, p, ns.Locate(p), "", msg))
			}
		}
	}
	return out
}

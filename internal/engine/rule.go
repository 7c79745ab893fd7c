// Package engine runs rules over manifest objects and returns findings. It
// is pure: objects in, findings out. It imports no client-go REST machinery
// (only its scheme, the table of built-in kinds), sigstore or GitHub code;
// those live at the edges (cluster, imagesig, review).
package engine

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// CheckFunc checks one object and reports through the context.
type CheckFunc func(c *Context, o *manifest.Object)

// SetCheckFunc checks the whole linted set at once (RBAC bindings,
// namespace coverage). Objects are in load order.
type SetCheckFunc func(c *SetContext, objs []*manifest.Object)

// Rule is metadata plus a check. Exactly one of Check and CheckSet is set.
type Rule struct {
	finding.RuleInfo
	Check    CheckFunc
	CheckSet SetCheckFunc
	// NeedsWorkloads marks a set-level rule that reads the containers or
	// volumes of workloads. Without any such rule the engine slims each
	// workload right after its per-object checks — keeping metadata and
	// pod-level fields with their positions — so memory stays flat on
	// large inputs.
	NeedsWorkloads bool
	// Reads, on a set-level rule, picks the objects other than workloads
	// whose fields CheckSet reads from their node trees (RBAC roles and
	// bindings, network policies). Every other object (workloads: see
	// NeedsWorkloads) is frozen right after its per-object
	// checks: its node tree and its renderer's locator are dropped, and
	// only its identity, labels, annotations and the positions of its
	// metadata (plus a workload's pod-level fields) are kept — which is
	// what lets a run over many charts and overlays stay small. Nil means
	// the rule reads every object whole.
	Reads func(o *manifest.Object) bool
	// Prepare, on a set-level rule, runs on every object during the
	// per-object pass, while the object is whole, and may leave a small
	// note for CheckSet (Context.Note, SetContext.Note). It lets a
	// set-level rule use per-object results (a pod's Pod Security level)
	// without NeedsWorkloads keeping every workload in memory. It does not
	// report.
	Prepare CheckFunc
}

var ruleID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Registry is an explicit, ordered set of rules.
type Registry struct {
	rules []*Rule
	byID  map[string]*Rule
}

// NewRegistry validates rules and indexes them. A duplicate or malformed
// ID, missing metadata or a missing check is an error.
func NewRegistry(rules ...*Rule) (*Registry, error) {
	r := &Registry{byID: make(map[string]*Rule, len(rules))}
	for _, rule := range rules {
		if err := validateRule(rule); err != nil {
			return nil, err
		}
		if _, dup := r.byID[rule.ID]; dup {
			return nil, fmt.Errorf("rule %q registered twice", rule.ID)
		}
		r.byID[rule.ID] = rule
		r.rules = append(r.rules, rule)
	}
	sort.SliceStable(r.rules, func(i, j int) bool { return r.rules[i].ID < r.rules[j].ID })
	return r, nil
}

func validateRule(rule *Rule) error {
	switch {
	case rule == nil:
		return fmt.Errorf("nil rule")
	case !ruleID.MatchString(rule.ID):
		return fmt.Errorf("rule ID %q is not kebab-case", rule.ID)
	case rule.Title == "" || rule.Rationale == "" || rule.Remediation == "":
		return fmt.Errorf("rule %q: title, rationale and remediation are required", rule.ID)
	case rule.Severity < finding.Low || rule.Severity > finding.Critical:
		return fmt.Errorf("rule %q: invalid severity", rule.ID)
	case (rule.Check == nil) == (rule.CheckSet == nil):
		return fmt.Errorf("rule %q: exactly one of Check and CheckSet must be set", rule.ID)
	case rule.Prepare != nil && rule.CheckSet == nil:
		return fmt.Errorf("rule %q: Prepare is only for set-level rules", rule.ID)
	case rule.Reads != nil && rule.CheckSet == nil:
		return fmt.Errorf("rule %q: Reads is only for set-level rules", rule.ID)
	}
	return nil
}

// Rules returns the rules sorted by ID.
func (r *Registry) Rules() []*Rule { return r.rules }

// Get returns the rule with the given ID.
func (r *Registry) Get(id string) (*Rule, bool) {
	rule, ok := r.byID[id]
	return rule, ok
}

// Infos returns the documentation of every rule.
func (r *Registry) Infos() []finding.RuleInfo {
	out := make([]finding.RuleInfo, len(r.rules))
	for i, rule := range r.rules {
		out[i] = rule.RuleInfo
	}
	return out
}

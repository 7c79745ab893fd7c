package pipeline

import (
	"sync"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// podSecurityTable builds Result.PodSecurity (Options.PodSecurity): each
// object is evaluated while it is whole, before the engine slims it; what
// is kept is a few strings per pod.
type podSecurityTable struct {
	r    *rules.PodSecurityReadiness
	mu   sync.Mutex
	seen map[*manifest.Object]bool
	// observed: the table sees objects the engine does not (an
	// ObservingSource), so it, not the engine, makes the psa-* findings;
	// namespaces are where they go.
	observed   bool
	namespaces map[string]*manifest.Object
}

func newPodSecurityTable(s *engine.Settings) *podSecurityTable {
	return &podSecurityTable{r: rules.NewPodSecurityReadiness(s), seen: map[*manifest.Object]bool{}, namespaces: map[string]*manifest.Object{}}
}

// engineDisabled returns the rules the engine must not run: with an
// ObservingSource the engine would judge owners' templates while the
// table judges running pods (with injected sidecars), so the psa-* rules
// report from the table instead (raws).
func (t *podSecurityTable) engineDisabled(src Source, disabled map[string]bool) map[string]bool {
	if _, ok := src.(ObservingSource); !ok {
		return disabled
	}
	t.observed = true
	out := make(map[string]bool, len(disabled)+2)
	for id, off := range disabled {
		out[id] = off
	}
	for _, id := range rules.PodSecurityRuleIDs() {
		out[id] = true
	}
	return out
}

// raws are the psa-* findings made from the table, when the engine did
// not make them.
func (t *podSecurityTable) raws(p *Policy, rows []finding.PodSecurityNamespace) []engine.Raw {
	if !t.observed {
		return nil
	}
	return rules.PodSecurityRaws(p.Registry, p.Disabled, rows, t.namespaces)
}

// ObservingSource is a Source that reads objects it does not hand to the
// engine (a cluster's pods, counted on their owners): it shows every
// object it reads, before deciding, to the function it is given.
type ObservingSource interface {
	Source
	Observe(func(*manifest.Object))
}

// observe arranges for t to see every object src reads, before the engine
// (which slims workloads once checked) does; it returns the visit function
// to hand to src.
func (t *podSecurityTable) observe(src Source, visit func(*manifest.Object)) func(*manifest.Object) {
	if os, ok := src.(ObservingSource); ok {
		// The pods a cluster runs, not just the objects checked.
		os.Observe(t.visit)
		return visit
	}
	return func(o *manifest.Object) {
		t.visit(o)
		visit(o)
	}
}

// visit records o. A pod template that does not decode is left out of the
// table; the engine reports the error.
func (t *podSecurityTable) visit(o *manifest.Object) {
	t.mu.Lock()
	t.seen[o] = true
	if o.Kind == "Namespace" && o.Group() == "" {
		t.namespaces[o.Name] = o
	}
	t.mu.Unlock()
	_ = t.r.Add(o)
}

// finish records the objects the source did not stream and returns the
// table.
func (t *podSecurityTable) finish(objs []*manifest.Object) []finding.PodSecurityNamespace {
	for _, o := range objs {
		if !t.seen[o] {
			t.visit(o)
		}
	}
	t.seen = nil
	return t.r.Table()
}

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
}

func newPodSecurityTable(s *engine.Settings) *podSecurityTable {
	return &podSecurityTable{r: rules.NewPodSecurityReadiness(s), seen: map[*manifest.Object]bool{}}
}

// visit records o. A pod template that does not decode is left out of the
// table; the engine reports the error.
func (t *podSecurityTable) visit(o *manifest.Object) {
	t.mu.Lock()
	t.seen[o] = true
	t.mu.Unlock()
	_ = t.r.Add(o)
}

// finish records the objects the source did not stream and returns the
// table.
func (t *podSecurityTable) finish(objs []*manifest.Object) []finding.PodSecurityNamespace {
	for _, o := range objs {
		if !t.seen[o] {
			_ = t.r.Add(o)
		}
	}
	t.seen = nil
	return t.r.Table()
}

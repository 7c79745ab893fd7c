package rules

import (
	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

func privilegedContainer() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID:          "privileged-container",
			Title:       "Privileged container",
			Severity:    finding.Critical,
			Category:    "pod-security",
			Tags:        []string{"pss:baseline", "psp:privileged", "cis:5.2.2"},
			Rationale:   "A privileged container runs with all Linux capabilities and with access to every host device: it is root on the node, and a compromise of it is a compromise of the node.",
			Remediation: "Remove securityContext.privileged or set it to false; grant only the specific capabilities the workload needs.",
			Example:     "securityContext:\n  privileged: false\n",
			References:  []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil {
				return
			}
			for _, ct := range w.Containers {
				sc := ct.Container.SecurityContext
				if sc != nil && sc.Privileged != nil && *sc.Privileged {
					c.Reportf(ct.Path.Key("securityContext", "privileged"), "%s in %s runs privileged", ct.Describe(), o.Ref())
				}
			}
		},
	}
}

package rules

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const resourcesRef = "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"

// resourceRule reports containers (init and regular; ephemeral containers
// cannot have resources) missing the given resources in requests or limits.
func resourceRule(ri finding.RuleInfo, list string, names ...corev1.ResourceName) *engine.Rule {
	return &engine.Rule{
		RuleInfo: ri,
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil || o.Kind == "PodTemplate" {
				return
			}
			for i := range w.Containers {
				ct := &w.Containers[i]
				if ct.Kind == "ephemeralContainer" {
					continue
				}
				rl := ct.Container.Resources.Limits
				if list == "requests" {
					rl = ct.Container.Resources.Requests
				}
				var buf [2]string
				missing := buf[:0]
				for _, n := range names {
					if _, ok := rl[n]; !ok {
						if list == "requests" {
							// A limit without a request defaults the request to it.
							if _, ok := ct.Container.Resources.Limits[n]; ok {
								continue
							}
						}
						missing = append(missing, string(n))
					}
				}
				if len(missing) == 0 {
					continue
				}
				var p manifest.Path
				if len(missing) == 1 {
					p = subPath(ct.Path, 0, "resources", list, missing[0])
				} else {
					p = subPath(ct.Path, 0, "resources", list)
				}
				c.Report(p, describe(ct)+" sets no "+strings.Join(missing, " or ")+" "+strings.TrimSuffix(list, "s"))
			}
		},
	}
}

func memoryLimit() *engine.Rule {
	return resourceRule(finding.RuleInfo{
		ID: "memory-limit-missing", Title: "No memory limit", Severity: finding.Medium, Category: "resources",
		Tags:        []string{"resource-exhaustion"},
		Rationale:   "A container without a memory limit can consume all the memory of its node, starving or evicting every other pod there: one compromised or leaking workload becomes a node-wide denial of service.",
		Remediation: "Set resources.limits.memory (and a matching request), or give the namespace a LimitRange with a default limit.",
		Example:     "resources:\n  requests:\n    memory: 128Mi\n  limits:\n    memory: 256Mi\n",
		References:  []string{resourcesRef, "https://kubernetes.io/docs/concepts/policy/limit-range/"},
	}, "limits", corev1.ResourceMemory)
}

func cpuLimit() *engine.Rule {
	return resourceRule(finding.RuleInfo{
		ID: "cpu-limit-missing", Title: "No CPU limit", Severity: finding.Low, Category: "resources",
		Tags:        []string{"resource-exhaustion"},
		Rationale:   "A container without a CPU limit can use every idle core of its node; a runaway or hijacked process (a cryptominer, typically) then degrades neighbours up to their requests. CPU limits also cause throttling, so some teams rely on requests and quotas instead: this rule is informational.",
		Remediation: "Set resources.limits.cpu, or give the namespace a LimitRange with a default CPU limit.",
		Example:     "resources:\n  requests:\n    cpu: 100m\n  limits:\n    cpu: \"1\"\n",
		References:  []string{resourcesRef},
	}, "limits", corev1.ResourceCPU)
}

func resourceRequests() *engine.Rule {
	return resourceRule(finding.RuleInfo{
		ID: "resource-requests-missing", Title: "No CPU or memory request", Severity: finding.Low, Category: "resources",
		Tags:        []string{"resource-exhaustion"},
		Rationale:   "Without requests the scheduler cannot reserve capacity: pods are packed onto nodes that cannot run them, are the first evicted under pressure (BestEffort), and ResourceQuotas on requests reject them.",
		Remediation: "Set resources.requests.cpu and resources.requests.memory to the workload's typical usage.",
		Example:     "resources:\n  requests:\n    cpu: 100m\n    memory: 128Mi\n",
		References:  []string{resourcesRef},
	}, "requests", corev1.ResourceCPU, corev1.ResourceMemory)
}

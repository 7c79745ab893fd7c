package rules

import (
	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// hostNamespaceRule builds the rule for one of hostNetwork, hostPID and
// hostIPC, which differ only in field and consequence.
func hostNamespaceRule(id, field, title, why string, get func(w *engine.Workload) bool) *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID:          id,
			Title:       title,
			Severity:    finding.High,
			Category:    "pod-security",
			Tags:        []string{"pss:baseline", "psp:host-namespaces", "cis:5.2.3"},
			Rationale:   why,
			Remediation: "Remove spec." + field + " or set it to false.",
			Example:     "spec:\n  " + field + ": false\n",
			References:  []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil || !get(w) {
				return
			}
			c.Reportf(w.SpecPath.Key(field), "%s shares the host's %s namespace (%s: true)", o.Ref(), map[string]string{"hostNetwork": "network", "hostPID": "PID", "hostIPC": "IPC"}[field], field)
		},
	}
}

func hostNetwork() *engine.Rule {
	return hostNamespaceRule("host-network", "hostNetwork", "Pod uses the host network",
		"A pod on the host network can bind to any host port, sniff node traffic and reach services bound to the node's loopback, bypassing NetworkPolicy.",
		func(w *engine.Workload) bool { return w.Spec.HostNetwork })
}

func hostPID() *engine.Rule {
	return hostNamespaceRule("host-pid", "hostPID", "Pod shares the host PID namespace",
		"A pod in the host PID namespace sees every process on the node and, with ptrace or /proc access, can read their memory and environment, including secrets.",
		func(w *engine.Workload) bool { return w.Spec.HostPID })
}

func hostIPC() *engine.Rule {
	return hostNamespaceRule("host-ipc", "hostIPC", "Pod shares the host IPC namespace",
		"A pod in the host IPC namespace can read and write the shared memory of every process on the node.",
		func(w *engine.Workload) bool { return w.Spec.HostIPC })
}

package rules

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const psaEnforceLabel = "pod-security.kubernetes.io/enforce"

// nsInfo is what the linted set holds for one namespace.
type nsInfo struct {
	name       string
	ns         *manifest.Object // the Namespace object, if in the set
	workloads  []*manifest.Object
	labels     []map[string]string // pod template labels of workloads
	selectors  []*metav1.LabelSelector
	netpolAll  bool // a policy of another engine covers the namespace
	quota      bool
	limitRange bool
}

// namespaces groups the linted set by namespace, in load order of first
// appearance. clusterPolicy reports cluster-wide network policies
// (Calico GlobalNetworkPolicy, Cilium clusterwide, AdminNetworkPolicy).
func namespaces(c *engine.SetContext, objs []*manifest.Object) (list []*nsInfo, clusterPolicy bool) {
	byName := map[string]*nsInfo{}
	get := func(ns string) *nsInfo {
		if n := byName[ns]; n != nil {
			return n
		}
		n := &nsInfo{name: ns}
		byName[ns] = n
		list = append(list, n)
		return n
	}
	for _, o := range objs {
		switch {
		case o.Kind == "Namespace" && o.Group() == "":
			get(o.Name).ns = o
		case o.Kind == "NetworkPolicy" && o.Group() == "networking.k8s.io":
			sel := &metav1.LabelSelector{}
			if n := o.Get(manifest.ParsePath("spec.podSelector")); n != nil {
				if manifest.DecodeInto(n, sel) != nil {
					continue
				}
			}
			n := get(o.Namespace)
			n.selectors = append(n.selectors, sel)
		case o.Kind == "CiliumNetworkPolicy" || o.Kind == "NetworkPolicy" && strings.HasPrefix(o.Group(), "crd.projectcalico.org") || o.Kind == "NetworkPolicy" && o.Group() == "projectcalico.org":
			get(o.Namespace).netpolAll = true
		case o.Kind == "CiliumClusterwideNetworkPolicy" || o.Kind == "GlobalNetworkPolicy" || o.Kind == "AdminNetworkPolicy" || o.Kind == "BaselineAdminNetworkPolicy" || o.Kind == "ClusterNetworkPolicy":
			clusterPolicy = true
		case o.Kind == "ResourceQuota" && o.Group() == "":
			get(o.Namespace).quota = true
		case o.Kind == "LimitRange" && o.Group() == "":
			get(o.Namespace).limitRange = true
		default:
			if w := c.Workload(o); runsPods(w, o) {
				n := get(o.Namespace)
				n.workloads = append(n.workloads, o)
				n.labels = append(n.labels, w.Meta.Labels)
			}
		}
	}
	return list, clusterPolicy
}

// selects reports whether a label selector matches labels. A nil selector
// matches nothing; an empty one everything.
func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	if sel == nil {
		return false
	}
	for k, v := range sel.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	for _, e := range sel.MatchExpressions {
		v, ok := labels[e.Key]
		in := false
		for _, x := range e.Values {
			if x == v {
				in = true
				break
			}
		}
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			if !ok || !in {
				return false
			}
		case metav1.LabelSelectorOpNotIn:
			if ok && in {
				return false
			}
		case metav1.LabelSelectorOpExists:
			if !ok {
				return false
			}
		case metav1.LabelSelectorOpDoesNotExist:
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func nsName(ns string) string {
	if ns == "" {
		return "the unnamed namespace (objects without metadata.namespace)"
	}
	return fmt.Sprintf("namespace %q", ns)
}

// reportNamespace reports once per namespace: at the Namespace object when
// it is in the set, otherwise at the first workload of the namespace.
func reportNamespace(c *engine.SetContext, n *nsInfo, nsPath manifest.Path, msg string) {
	if n.ns != nil {
		c.Report(n.ns, nsPath, msg)
		return
	}
	c.Report(n.workloads[0], manifest.ParsePath("metadata.name"), msg)
}

func namesOf(objs []*manifest.Object, max int) string {
	var names []string
	for i, o := range objs {
		if i == max {
			names = append(names, fmt.Sprintf("and %d more", len(objs)-max))
			break
		}
		names = append(names, o.Kind+" "+o.Name)
	}
	return strings.Join(names, ", ")
}

func coverageRule(ri finding.RuleInfo, check func(c *engine.SetContext, n *nsInfo, clusterPolicy bool)) *engine.Rule {
	return &engine.Rule{
		RuleInfo: ri,
		CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
			list, cp := namespaces(c, objs)
			for _, n := range list {
				if len(n.workloads) > 0 {
					check(c, n, cp)
				}
			}
		},
	}
}

func coverageRules() []*engine.Rule {
	return []*engine.Rule{
		coverageRule(finding.RuleInfo{
			ID: "namespace-missing-network-policy", Title: "Workloads not selected by any NetworkPolicy", Severity: finding.Medium, Category: "coverage",
			Tags:        []string{"network", "cis:5.3.2"},
			Rationale:   "Pods that no NetworkPolicy selects accept traffic from, and send traffic to, every pod in the cluster: one compromised workload can reach all the others and the outside world. A default-deny policy per namespace makes every allowed flow explicit.",
			Remediation: "Add a default-deny NetworkPolicy (empty podSelector, Ingress and Egress) to the namespace, then policies that allow the flows each workload needs.",
			Example:     "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: shop\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n",
			References:  []string{"https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies", cis("5.3.2", "Ensure that all Namespaces have NetworkPolicies defined")},
		}, func(c *engine.SetContext, n *nsInfo, clusterPolicy bool) {
			if clusterPolicy || n.netpolAll {
				return
			}
			var bare []*manifest.Object
			for i, o := range n.workloads {
				sel := false
				for _, s := range n.selectors {
					if selects(s, n.labels[i]) {
						sel = true
						break
					}
				}
				if !sel {
					bare = append(bare, o)
				}
			}
			if len(bare) == 0 {
				return
			}
			what := "has no NetworkPolicy"
			if len(n.selectors) > 0 {
				what = "has no NetworkPolicy selecting " + namesOf(bare, 3)
			}
			reportNamespace(c, n, manifest.ParsePath("metadata.name"), fmt.Sprintf("%s %s: its pods accept all traffic (no default deny)", nsName(n.name), what))
		}),
		coverageRule(finding.RuleInfo{
			ID: "namespace-missing-resource-quota", Title: "Namespace without a ResourceQuota", Severity: finding.Low, Category: "coverage",
			Tags:        []string{"resource-exhaustion"},
			Rationale:   "Without a ResourceQuota nothing caps what a namespace can consume: a runaway autoscaler, a fork-bombing Job or a compromised deployer can exhaust the cluster's CPU, memory, storage or object count.",
			Remediation: "Add a ResourceQuota to the namespace (quotas are often managed by the platform team; then lint them together).",
			Example:     "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: quota\n  namespace: shop\nspec:\n  hard:\n    requests.cpu: \"8\"\n    requests.memory: 16Gi\n    limits.memory: 32Gi\n    pods: \"50\"\n",
			References:  []string{"https://kubernetes.io/docs/concepts/policy/resource-quotas/"},
		}, func(c *engine.SetContext, n *nsInfo, _ bool) {
			if !n.quota {
				reportNamespace(c, n, manifest.ParsePath("metadata.name"), fmt.Sprintf("%s has workloads but no ResourceQuota", nsName(n.name)))
			}
		}),
		coverageRule(finding.RuleInfo{
			ID: "namespace-missing-limit-range", Title: "Namespace without a LimitRange", Severity: finding.Low, Category: "coverage",
			Tags:        []string{"resource-exhaustion"},
			Rationale:   "A LimitRange gives containers that omit resources default requests and limits, and bounds what any one container may ask for; without it, a forgotten limit means an unbounded container.",
			Remediation: "Add a LimitRange with default and defaultRequest values to the namespace.",
			Example:     "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: defaults\n  namespace: shop\nspec:\n  limits:\n    - type: Container\n      default:\n        memory: 256Mi\n      defaultRequest:\n        cpu: 100m\n        memory: 128Mi\n",
			References:  []string{"https://kubernetes.io/docs/concepts/policy/limit-range/"},
		}, func(c *engine.SetContext, n *nsInfo, _ bool) {
			if !n.limitRange {
				reportNamespace(c, n, manifest.ParsePath("metadata.name"), fmt.Sprintf("%s has workloads but no LimitRange", nsName(n.name)))
			}
		}),
		coverageRule(finding.RuleInfo{
			ID: "namespace-missing-psa-label", Title: "Namespace does not enforce a Pod Security Standard", Severity: finding.Medium, Category: "coverage",
			Tags:        []string{"pod-security", "cis:5.2.1"},
			Rationale:   "Pod Security Admission enforces nothing in a namespace without the pod-security.kubernetes.io/enforce label (unless the cluster sets a default): any pod, privileged ones included, is admitted. The manifests' own findings are then the only barrier.",
			Remediation: "Label the namespace with pod-security.kubernetes.io/enforce: restricted (or baseline), pinned with enforce-version, and warn/audit at restricted.",
			Example:     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/enforce-version: v1.34\n    pod-security.kubernetes.io/warn: restricted\n    pod-security.kubernetes.io/audit: restricted\n",
			References:  []string{"https://kubernetes.io/docs/concepts/security/pod-security-admission/", cis("5.2.1", "Ensure that the cluster has at least one active policy control mechanism in place")},
		}, func(c *engine.SetContext, n *nsInfo, _ bool) {
			if n.ns == nil {
				reportNamespace(c, n, nil, fmt.Sprintf("%s is not in the linted set, so nothing shows it enforces a Pod Security Standard; add the Namespace with the %s label", nsName(n.name), psaEnforceLabel))
				return
			}
			switch v, ok := n.ns.Labels[psaEnforceLabel]; {
			case !ok:
				reportNamespace(c, n, manifest.ParsePath("metadata.labels"), fmt.Sprintf("%s has no %s label: Pod Security Admission admits any pod", nsName(n.name), psaEnforceLabel))
			case v == "privileged":
				reportNamespace(c, n, manifest.Path{}.Key("metadata", "labels", psaEnforceLabel), fmt.Sprintf("%s enforces the privileged Pod Security level, which admits any pod", nsName(n.name)))
			}
		}),
	}
}

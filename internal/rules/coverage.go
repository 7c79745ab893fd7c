package rules

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const psaEnforceLabel = "pod-security.kubernetes.io/enforce"

// netpol is a NetworkPolicy's pod selector and the directions it
// isolates the selected pods in.
type netpol struct {
	sel             *metav1.LabelSelector
	ingress, egress bool
	// allowAllIn and allowAllEg: a rule with no peers and no ports ({})
	// admits all traffic in that direction, so the pods it selects are
	// not restricted there whatever other policies say.
	allowAllIn, allowAllEg bool
	obj                    *manifest.Object
}

// readNetpol decodes a NetworkPolicy's spec. The directions follow the
// API server's defaulting: policyTypes when given, else Ingress always and
// Egress when the policy has egress rules.
func readNetpol(o *manifest.Object) (netpol, bool) {
	var spec networkingv1.NetworkPolicySpec
	if n := o.Get(manifest.ParsePath("spec")); n != nil {
		if manifest.DecodeInto(n, &spec) != nil {
			return netpol{}, false
		}
	}
	np := netpol{sel: &spec.PodSelector, obj: o}
	if len(spec.PolicyTypes) == 0 {
		np.ingress, np.egress = true, len(spec.Egress) > 0
	}
	for _, t := range spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			np.ingress = true
		case networkingv1.PolicyTypeEgress:
			np.egress = true
		}
	}
	for _, r := range spec.Ingress {
		np.allowAllIn = np.allowAllIn || len(r.From) == 0 && len(r.Ports) == 0
	}
	for _, r := range spec.Egress {
		np.allowAllEg = np.allowAllEg || len(r.To) == 0 && len(r.Ports) == 0
	}
	np.allowAllIn = np.allowAllIn && np.ingress
	np.allowAllEg = np.allowAllEg && np.egress
	return np, true
}

// readsCoverage picks the objects the coverage rules read
// (engine.Rule.Reads): Namespaces and Kubernetes NetworkPolicies. Of the
// rest they only need kinds, names and namespaces.
func readsCoverage(o *manifest.Object) bool {
	return isNamespace(o) || o.Kind == "NetworkPolicy" && o.Group() == "networking.k8s.io"
}

func isNamespace(o *manifest.Object) bool {
	return o.Kind == "Namespace" && o.Group() == ""
}

// nsInfo is what the linted set holds for one namespace.
type nsInfo struct {
	name      string
	ns        *manifest.Object // the Namespace object, if in the set
	workloads []*manifest.Object
	labels    []map[string]string // pod template labels of workloads
	policies  []netpol
	netpolAll bool // a policy of another engine covers the namespace
	quotas    []*manifest.Object
	limits    []*manifest.Object
	// owns lists, per deployment unit (unitOf), the workloads it renders
	// its own copy of (identity): see covers.
	owns map[string]map[string]bool
}

// unitOf names o's deployment unit: its render (Origin: one overlay or
// chart), or for plain YAML its file.
func unitOf(o *manifest.Object) string {
	if o.Origin != "" {
		return o.Origin
	}
	return "\x00file " + o.File
}

func identity(o *manifest.Object) string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// covers reports whether a policy, quota or LimitRange src applies to
// workload w. Install variants linted together (overlays of one base, a
// chart's and a kustomization's install) each stand alone: src of a unit
// that renders its own copy of w is meant for that copy, not for w. A
// unit without a copy (a shared policies file or overlay) covers it.
func (n *nsInfo) covers(src, w *manifest.Object) bool {
	u := unitOf(src)
	return u == unitOf(w) || !n.owns[u][identity(w)]
}

// coveredBy reports whether any of srcs covers w.
func (n *nsInfo) coveredBy(srcs []*manifest.Object, w *manifest.Object) bool {
	for _, s := range srcs {
		if n.covers(s, w) {
			return true
		}
	}
	return false
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
		n := &nsInfo{name: ns, owns: map[string]map[string]bool{}}
		byName[ns] = n
		list = append(list, n)
		return n
	}
	for _, o := range objs {
		switch {
		case o.Kind == "Namespace" && o.Group() == "":
			get(o.Name).ns = o
		case o.Kind == "NetworkPolicy" && o.Group() == "networking.k8s.io":
			if np, ok := readNetpol(o); ok {
				n := get(o.Namespace)
				n.policies = append(n.policies, np)
			}
		case o.Kind == "CiliumNetworkPolicy" || o.Kind == "NetworkPolicy" && strings.HasPrefix(o.Group(), "crd.projectcalico.org") || o.Kind == "NetworkPolicy" && o.Group() == "projectcalico.org":
			get(o.Namespace).netpolAll = true
		case o.Kind == "CiliumClusterwideNetworkPolicy" || o.Kind == "GlobalNetworkPolicy" || o.Kind == "AdminNetworkPolicy" || o.Kind == "BaselineAdminNetworkPolicy" || o.Kind == "ClusterNetworkPolicy":
			clusterPolicy = true
		case o.Kind == "ResourceQuota" && o.Group() == "":
			n := get(o.Namespace)
			n.quotas = append(n.quotas, o)
		case o.Kind == "LimitRange" && o.Group() == "":
			n := get(o.Namespace)
			n.limits = append(n.limits, o)
		default:
			if w := c.Workload(o); runsPods(w, o) {
				n := get(o.Namespace)
				n.workloads = append(n.workloads, o)
				n.labels = append(n.labels, w.Meta.Labels)
				u := unitOf(o)
				if n.owns[u] == nil {
					n.owns[u] = map[string]bool{}
				}
				n.owns[u][identity(o)] = true
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

// reportNamespace reports a namespace-level problem of the affected
// workloads once: at nsPath on the Namespace object when it is in the
// set, else at the metadata.name of the first affected workload. msg
// gets the affected workloads to list. A workload whose ignore annotation
// names the rule is left out (and never anchors the finding), so that one
// workload's annotation never silences the finding for the others.
func reportNamespace(c *engine.SetContext, n *nsInfo, affected []*manifest.Object, nsPath manifest.Path, msg func(affected []*manifest.Object) string) {
	var kept []*manifest.Object
	for _, o := range affected {
		if !engine.Ignores(o, c.RuleID()) {
			kept = append(kept, o)
		}
	}
	if len(kept) == 0 {
		return
	}
	if n.ns != nil {
		c.Report(n.ns, nsPath, msg(kept))
		return
	}
	c.Report(kept[0], manifest.ParsePath("metadata.name"), msg(kept))
}

// namesOf lists every object: "Deployment web, Job migrate".
func namesOf(objs []*manifest.Object) string {
	return strings.Join(distinctNames(objs), ", ")
}

// distinctNames is "Kind name" of each object, in order, each once: the
// same base rendered by several overlays is one workload to the reader.
func distinctNames(objs []*manifest.Object) []string {
	var names []string
	seen := map[string]bool{}
	for _, o := range objs {
		n := o.Kind + " " + o.Name
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}

// unrestricted names the directions the traffic of workload i is not
// restricted in: "ingress", "egress", "ingress and egress" or "".
func unrestricted(n *nsInfo, i int) string {
	var in, eg, openIn, openEg bool
	for _, p := range n.policies {
		if selects(p.sel, n.labels[i]) && n.covers(p.obj, n.workloads[i]) {
			in = in || p.ingress
			eg = eg || p.egress
			openIn = openIn || p.allowAllIn
			openEg = openEg || p.allowAllEg
		}
	}
	// Allowed traffic is the union of every selecting policy's rules: one
	// allow-all rule opens the direction.
	in, eg = in && !openIn, eg && !openEg
	switch {
	case !in && !eg:
		return "ingress and egress"
	case !in:
		return "ingress"
	case !eg:
		return "egress"
	}
	return ""
}

// missingObject reports the workloads of a namespace that no object of
// kind (srcs) covers.
func missingObject(c *engine.SetContext, n *nsInfo, kind string, srcs []*manifest.Object) {
	var affected []*manifest.Object
	for _, w := range n.workloads {
		if !n.coveredBy(srcs, w) {
			affected = append(affected, w)
		}
	}
	reportNamespace(c, n, affected, manifest.ParsePath("metadata.name"), func(kept []*manifest.Object) string {
		return fmt.Sprintf("%s has workloads but no %s (%s)", nsName(n.name), kind, namesOf(kept))
	})
}

func coverageRule(ri finding.RuleInfo, check func(c *engine.SetContext, n *nsInfo, clusterPolicy bool)) *engine.Rule {
	return &engine.Rule{
		RuleInfo: ri,
		Reads:    readsCoverage,
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
			Rationale:   "Pods that no NetworkPolicy selects accept traffic from, and send traffic to, every pod in the cluster: one compromised workload can reach all the others and the outside world. A policy isolates its pods only in its directions — policyTypes, or by default Ingress always and Egress when it has egress rules — so a pod selected only by Ingress policies still has unrestricted egress, and vice versa; and a rule with neither peers nor ports (ingress: [{}] or egress: [{}]) allows all traffic in its direction, so nothing restricts it there either. The finding says which direction is open for which workload. A default-deny policy per namespace makes every allowed flow explicit. Install variants linted together (overlays of one base, a chart and a kustomization of the same app) each stand alone: a policy of a variant that renders its own copy of a workload covers that copy only, while a unit holding no copy (a shared policies file or overlay) covers the whole namespace; the same goes for ResourceQuotas and LimitRanges.",
			Remediation: "Add a default-deny NetworkPolicy (empty podSelector, Ingress and Egress) to the namespace, then policies that allow the flows each workload needs.",
			Example:     "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: shop\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n",
			References:  []string{"https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies", cis("5.3.2", "Ensure that all Namespaces have NetworkPolicies defined")},
		}, func(c *engine.SetContext, n *nsInfo, clusterPolicy bool) {
			if clusterPolicy || n.netpolAll {
				return
			}
			var affected []*manifest.Object
			dir := map[*manifest.Object]string{}
			for i, o := range n.workloads {
				if d := unrestricted(n, i); d != "" {
					affected = append(affected, o)
					dir[o] = d
				}
			}
			reportNamespace(c, n, affected, manifest.ParsePath("metadata.name"), func(kept []*manifest.Object) string {
				// Grouped by direction: "ingress and egress of
				// Deployment a, Job b; egress of Deployment c".
				var groups []string
				for _, d := range []string{"ingress and egress", "ingress", "egress"} {
					var objs []*manifest.Object
					for _, o := range kept {
						if dir[o] == d {
							objs = append(objs, o)
						}
					}
					if len(objs) > 0 {
						groups = append(groups, d+" of "+namesOf(objs))
					}
				}
				if len(n.policies) == 0 {
					return fmt.Sprintf("%s has no NetworkPolicy: %s unrestricted (no default deny)", nsName(n.name), strings.Join(groups, "; "))
				}
				return fmt.Sprintf("%s has no NetworkPolicy restricting %s (no default deny)", nsName(n.name), strings.Join(groups, "; "))
			})
		}),
		coverageRule(finding.RuleInfo{
			ID: "namespace-missing-resource-quota", Title: "Namespace without a ResourceQuota", Severity: finding.Low, Category: "coverage",
			Tags:        []string{"resource-exhaustion"},
			Rationale:   "Without a ResourceQuota nothing caps what a namespace can consume: a runaway autoscaler, a fork-bombing Job or a compromised deployer can exhaust the cluster's CPU, memory, storage or object count.",
			Remediation: "Add a ResourceQuota to the namespace (quotas are often managed by the platform team; then lint them together).",
			Example:     "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: quota\n  namespace: shop\nspec:\n  hard:\n    requests.cpu: \"8\"\n    requests.memory: 16Gi\n    limits.memory: 32Gi\n    pods: \"50\"\n",
			References:  []string{"https://kubernetes.io/docs/concepts/policy/resource-quotas/"},
		}, func(c *engine.SetContext, n *nsInfo, _ bool) {
			missingObject(c, n, "ResourceQuota", n.quotas)
		}),
		coverageRule(finding.RuleInfo{
			ID: "namespace-missing-limit-range", Title: "Namespace without a LimitRange", Severity: finding.Low, Category: "coverage",
			Tags:        []string{"resource-exhaustion"},
			Rationale:   "A LimitRange gives containers that omit resources default requests and limits, and bounds what any one container may ask for; without it, a forgotten limit means an unbounded container.",
			Remediation: "Add a LimitRange with default and defaultRequest values to the namespace.",
			Example:     "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: defaults\n  namespace: shop\nspec:\n  limits:\n    - type: Container\n      default:\n        memory: 256Mi\n      defaultRequest:\n        cpu: 100m\n        memory: 128Mi\n",
			References:  []string{"https://kubernetes.io/docs/concepts/policy/limit-range/"},
		}, func(c *engine.SetContext, n *nsInfo, _ bool) {
			missingObject(c, n, "LimitRange", n.limits)
		}),
		coverageRule(finding.RuleInfo{
			ID: "namespace-missing-psa-label", Title: "Namespace does not enforce a Pod Security Standard", Severity: finding.Medium, Category: "coverage",
			Tags:        []string{"pod-security", "cis:5.2.1"},
			Rationale:   "Pod Security Admission enforces nothing in a namespace without the pod-security.kubernetes.io/enforce label (unless the cluster sets a default): any pod, privileged ones included, is admitted. The manifests' own findings are then the only barrier.",
			Remediation: "Label the namespace with pod-security.kubernetes.io/enforce: restricted (or baseline), pinned with enforce-version, and warn/audit at restricted.",
			Example:     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/enforce-version: v1.34\n    pod-security.kubernetes.io/warn: restricted\n    pod-security.kubernetes.io/audit: restricted\n",
			References:  []string{"https://kubernetes.io/docs/concepts/security/pod-security-admission/", cis("5.2.1", "Ensure that the cluster has at least one active policy control mechanism in place")},
		}, func(c *engine.SetContext, n *nsInfo, _ bool) {
			var at manifest.Path
			var what string
			if n.ns != nil {
				switch v, ok := n.ns.Labels[psaEnforceLabel]; {
				case !ok:
					at, what = manifest.ParsePath("metadata.labels"), fmt.Sprintf("has no %s label: Pod Security Admission admits any pod", psaEnforceLabel)
				case v == "privileged":
					at, what = manifest.Path{}.Key("metadata", "labels", psaEnforceLabel), "enforces the privileged Pod Security level, which admits any pod"
				default:
					return
				}
			}
			reportNamespace(c, n, n.workloads, at, func(kept []*manifest.Object) string {
				if n.ns == nil {
					return fmt.Sprintf("%s is not in the linted set, so nothing shows it enforces a Pod Security Standard; add the Namespace with the %s label (%s)", nsName(n.name), psaEnforceLabel, namesOf(kept))
				}
				return fmt.Sprintf("%s %s (%s)", nsName(n.name), what, namesOf(kept))
			})
		}),
	}
}

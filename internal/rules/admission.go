package rules

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const webhookRef = "https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/"

func isWebhookConfig(o *manifest.Object) bool {
	return (o.Kind == "ValidatingWebhookConfiguration" || o.Kind == "MutatingWebhookConfiguration") && o.Group() == "admissionregistration.k8s.io"
}

// forEachWebhook calls fn with each webhook mapping and its path.
func forEachWebhook(o *manifest.Object, fn func(w *yaml.Node, p manifest.Path, name string)) {
	_, seq := manifest.MapGet(o.Node, "webhooks")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return
	}
	for i, n := range seq.Content {
		n = manifest.Resolve(n)
		if n == nil || n.Kind != yaml.MappingNode {
			continue
		}
		name := manifest.ScalarString(n, "name")
		fn(n, manifest.Path{}.Key("webhooks").Item(i, name), name)
	}
}

// securityWebhookWords mark policy engines and other security webhooks by
// their webhook or configuration name.
var securityWebhookWords = []string{"kyverno", "gatekeeper", "opa", "policy", "policies", "polaris", "kubewarden", "security", "pod-security", "psa", "psp", "sigstore", "cosign", "connaisseur", "ratify", "neuvector", "kubearmor", "datree", "image-verif", "imagepolicy", "image-policy", "validating-admission"}

func securityWebhook(names ...string) bool {
	for _, n := range names {
		n = strings.ToLower(n)
		for _, w := range securityWebhookWords {
			if strings.Contains(n, w) {
				return true
			}
		}
	}
	return false
}

// systemNamespace reports kube-system-like namespaces.
func systemNamespace(ns string) bool {
	return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease" || strings.HasPrefix(ns, "kube-")
}

func admissionRules() []*engine.Rule {
	return []*engine.Rule{
		{
			RuleInfo: finding.RuleInfo{
				ID: "webhook-fail-open", Title: "Admission webhook fails open", Severity: finding.Medium, Category: "admission",
				Tags:        []string{"admission"},
				Rationale:   "With failurePolicy: Ignore, requests are admitted unchecked whenever the webhook is unreachable or slow — which an attacker can arrange by overloading it, deleting its pods or blocking its network path — so the policy it enforces is optional.",
				Remediation: "Set failurePolicy: Fail on webhooks that enforce security policy, run them highly available, and exempt only the webhook's own namespace to avoid deadlocks.",
				Example:     "webhooks:\n  - name: validate.policy.example.com\n    failurePolicy: Fail\n",
				References:  []string{webhookRef + "#failure-policy"},
			},
			Check: func(c *engine.Context, o *manifest.Object) {
				if !isWebhookConfig(o) {
					return
				}
				beta := strings.HasSuffix(o.APIVersion, "/v1beta1")
				forEachWebhook(o, func(w *yaml.Node, p manifest.Path, name string) {
					switch fp := manifest.ScalarString(w, "failurePolicy"); {
					case fp == "Ignore":
						c.Reportf(p.Key("failurePolicy"), "webhook %q of %s fails open (failurePolicy: Ignore)", name, o.Ref())
					case fp == "" && beta:
						c.Reportf(p.Key("failurePolicy"), "webhook %q of %s fails open (admissionregistration v1beta1 defaults failurePolicy to Ignore)", name, o.Ref())
					}
				})
			},
		},
		{
			RuleInfo: finding.RuleInfo{
				ID: "webhook-exempts-system-namespaces", Title: "Security webhook exempts kube-system-like namespaces", Severity: finding.Medium, Category: "admission",
				Tags:        []string{"admission"},
				Rationale:   "A policy or image-verification webhook whose namespaceSelector excludes kube-system (or other kube-* namespaces) lets anyone who can create pods there run privileged or unverified workloads, and those namespaces hold the most powerful service accounts. Attackers look for exactly such gaps.",
				Remediation: "Exempt only the webhook's own namespace (to avoid a deadlock) and handle system namespaces with explicit, reviewed policy exceptions.",
				Example:     "namespaceSelector:\n  matchExpressions:\n    - key: kubernetes.io/metadata.name\n      operator: NotIn\n      values: [\"policy-system\"]\n",
				References:  []string{webhookRef + "#matching-requests-namespaceselector", "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"},
			},
			Check: func(c *engine.Context, o *manifest.Object) {
				if !isWebhookConfig(o) {
					return
				}
				forEachWebhook(o, func(w *yaml.Node, p manifest.Path, name string) {
					if !securityWebhook(name, o.Name) {
						return
					}
					_, sel := manifest.MapGet(w, "namespaceSelector")
					_, exprs := manifest.MapGet(sel, "matchExpressions")
					if exprs == nil || exprs.Kind != yaml.SequenceNode {
						return
					}
					for i, e := range exprs.Content {
						e = manifest.Resolve(e)
						key, op := manifest.ScalarString(e, "key"), manifest.ScalarString(e, "operator")
						if op != "NotIn" || (key != "kubernetes.io/metadata.name" && key != "name" && key != "namespace") {
							continue
						}
						for _, v := range strList(e, "values") {
							if systemNamespace(v.v) {
								c.Reportf(p.Key("namespaceSelector", "matchExpressions").Item(i, "").Key("values").Item(v.i, v.v), "webhook %q of %s exempts namespace %s from its checks", name, o.Ref(), v.v)
							}
						}
					}
				})
			},
		},
		removedAPIs(),
	}
}

// removedAPI is an API version removed from Kubernetes.
type removedAPI struct {
	minor       int    // removed in 1.minor
	replacement string // "" when there is none
}

// removedAPIs lists apiVersion → kind ("*" for every kind) → removal.
var removedAPIList = map[string]map[string]removedAPI{
	"extensions/v1beta1": {
		"DaemonSet": {16, "apps/v1"}, "Deployment": {16, "apps/v1"}, "ReplicaSet": {16, "apps/v1"},
		"NetworkPolicy": {16, "networking.k8s.io/v1"}, "PodSecurityPolicy": {16, ""}, "Ingress": {22, "networking.k8s.io/v1"},
	},
	"apps/v1beta1":                         {"*": {16, "apps/v1"}},
	"apps/v1beta2":                         {"*": {16, "apps/v1"}},
	"admissionregistration.k8s.io/v1beta1": {"MutatingWebhookConfiguration": {22, "admissionregistration.k8s.io/v1"}, "ValidatingWebhookConfiguration": {22, "admissionregistration.k8s.io/v1"}},
	"apiextensions.k8s.io/v1beta1":         {"*": {22, "apiextensions.k8s.io/v1"}},
	"apiregistration.k8s.io/v1beta1":       {"*": {22, "apiregistration.k8s.io/v1"}},
	"authentication.k8s.io/v1beta1":        {"TokenReview": {22, "authentication.k8s.io/v1"}},
	"authorization.k8s.io/v1beta1":         {"SubjectAccessReview": {22, "authorization.k8s.io/v1"}, "LocalSubjectAccessReview": {22, "authorization.k8s.io/v1"}, "SelfSubjectAccessReview": {22, "authorization.k8s.io/v1"}, "SelfSubjectRulesReview": {22, "authorization.k8s.io/v1"}},
	"certificates.k8s.io/v1beta1":          {"CertificateSigningRequest": {22, "certificates.k8s.io/v1"}},
	"coordination.k8s.io/v1beta1":          {"Lease": {22, "coordination.k8s.io/v1"}},
	"networking.k8s.io/v1beta1":            {"Ingress": {22, "networking.k8s.io/v1"}, "IngressClass": {22, "networking.k8s.io/v1"}},
	"rbac.authorization.k8s.io/v1beta1":    {"*": {22, "rbac.authorization.k8s.io/v1"}},
	"rbac.authorization.k8s.io/v1alpha1":   {"*": {22, "rbac.authorization.k8s.io/v1"}},
	"scheduling.k8s.io/v1beta1":            {"*": {22, "scheduling.k8s.io/v1"}},
	"scheduling.k8s.io/v1alpha1":           {"*": {22, "scheduling.k8s.io/v1"}},
	"storage.k8s.io/v1beta1":               {"CSIDriver": {22, "storage.k8s.io/v1"}, "CSINode": {22, "storage.k8s.io/v1"}, "StorageClass": {22, "storage.k8s.io/v1"}, "VolumeAttachment": {22, "storage.k8s.io/v1"}, "CSIStorageCapacity": {27, "storage.k8s.io/v1"}},
	"batch/v1beta1":                        {"CronJob": {25, "batch/v1"}},
	"batch/v2alpha1":                       {"CronJob": {21, "batch/v1"}},
	"discovery.k8s.io/v1beta1":             {"EndpointSlice": {25, "discovery.k8s.io/v1"}},
	"events.k8s.io/v1beta1":                {"Event": {25, "events.k8s.io/v1"}},
	"autoscaling/v2beta1":                  {"HorizontalPodAutoscaler": {25, "autoscaling/v2"}},
	"autoscaling/v2beta2":                  {"HorizontalPodAutoscaler": {26, "autoscaling/v2"}},
	"policy/v1beta1":                       {"PodDisruptionBudget": {25, "policy/v1"}, "PodSecurityPolicy": {25, ""}},
	"node.k8s.io/v1beta1":                  {"RuntimeClass": {25, "node.k8s.io/v1"}},
	"node.k8s.io/v1alpha1":                 {"RuntimeClass": {22, "node.k8s.io/v1"}},
	"flowcontrol.apiserver.k8s.io/v1beta1": {"FlowSchema": {26, "flowcontrol.apiserver.k8s.io/v1"}, "PriorityLevelConfiguration": {26, "flowcontrol.apiserver.k8s.io/v1"}},
	"flowcontrol.apiserver.k8s.io/v1beta2": {"FlowSchema": {29, "flowcontrol.apiserver.k8s.io/v1"}, "PriorityLevelConfiguration": {29, "flowcontrol.apiserver.k8s.io/v1"}},
	"flowcontrol.apiserver.k8s.io/v1beta3": {"FlowSchema": {32, "flowcontrol.apiserver.k8s.io/v1"}, "PriorityLevelConfiguration": {32, "flowcontrol.apiserver.k8s.io/v1"}},
	"settings.k8s.io/v1alpha1":             {"PodPreset": {20, ""}},
}

func lookupRemoved(apiVersion, kind string) (removedAPI, bool) {
	m := removedAPIList[apiVersion]
	if r, ok := m[kind]; ok {
		return r, true
	}
	r, ok := m["*"]
	return r, ok
}

func removedAPIs() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "removed-api", Title: "API version removed in the target Kubernetes version", Severity: finding.High, Category: "api-versions",
			Tags:        []string{"deprecation"},
			Rationale:   "The API server of the target version no longer serves this apiVersion: applying the manifest fails, and tooling that silently skips it leaves the intended object — often a security control such as a NetworkPolicy, an RBAC rule or a PodSecurityPolicy — missing. PodSecurityPolicy is gone altogether since 1.25; its replacement is Pod Security Admission.",
			Remediation: "Migrate the object to the replacement apiVersion (kubectl convert helps); replace PodSecurityPolicies with pod-security.kubernetes.io/enforce, audit and warn labels on namespaces (and a policy engine for what PSS does not cover).",
			Example:     "apiVersion: networking.k8s.io/v1\nkind: Ingress\n",
			References:  []string{"https://kubernetes.io/docs/reference/using-api/deprecation-guide/", "https://kubernetes.io/docs/tasks/configure-pod-container/migrate-from-psp/"},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			r, ok := lookupRemoved(o.APIVersion, o.Kind)
			if !ok {
				return
			}
			if v := c.Settings().KubernetesVersion; v != "" {
				if major, minor, ok := engine.ParseKubernetesVersion(v); ok && major == 1 && minor < r.minor {
					return
				}
			}
			p := manifest.ParsePath("apiVersion")
			switch {
			case o.Kind == "PodSecurityPolicy":
				c.Reportf(p, "%s uses %s, removed in Kubernetes 1.%d: PodSecurityPolicy no longer exists; enforce Pod Security Standards with Pod Security Admission by labelling namespaces pod-security.kubernetes.io/enforce=restricted (or baseline), with matching audit and warn labels", o.Ref(), o.APIVersion, r.minor)
			case r.replacement == "":
				c.Reportf(p, "%s uses %s, removed in Kubernetes 1.%d with no replacement", o.Ref(), o.APIVersion, r.minor)
			default:
				c.Reportf(p, "%s uses %s, removed in Kubernetes 1.%d: use %s", o.Ref(), o.APIVersion, r.minor, r.replacement)
			}
		},
	}
}

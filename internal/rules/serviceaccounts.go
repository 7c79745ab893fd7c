package rules

import (
	"strconv"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const saRef = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/"

// runsPods reports whether o's pod template runs: every workload except a
// bare PodTemplate.
func runsPods(w *engine.Workload, o *manifest.Object) bool {
	return w != nil && !(o.Kind == "PodTemplate" && o.Group() == "")
}

func serviceAccountName(w *engine.Workload) string {
	if n := w.Spec.ServiceAccountName; n != "" {
		return n
	}
	if n := w.Spec.DeprecatedServiceAccount; n != "" {
		return n
	}
	return "default"
}

func defaultServiceAccount() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "default-service-account", Title: "Pod uses the default service account", Severity: finding.Low, Category: "service-accounts",
			Tags:        []string{"service-accounts", "cis:5.1.5"},
			Rationale:   "Pods that do not name a service account share their namespace's default one, so any permission granted to it (by anyone, later) reaches all of them, and audit logs cannot tell them apart.",
			Remediation: "Create a service account per workload (with automountServiceAccountToken: false unless it calls the API) and set spec.serviceAccountName.",
			Example:     "spec:\n  serviceAccountName: web\n  automountServiceAccountToken: false\n",
			References:  []string{saRef, cis("5.1.5", "Ensure that default service accounts are not actively used")},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if !runsPods(w, o) || serviceAccountName(w) != "default" {
				return
			}
			p := w.SpecPath.Key("serviceAccountName")
			if w.Spec.ServiceAccountName == "" && w.Spec.DeprecatedServiceAccount != "" {
				p = w.SpecPath.Key("serviceAccount")
			}
			c.Report(p, o.Ref().String()+" runs as the default service account")
		},
	}
}

func automountToken() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "automount-service-account-token", Title: "Service account token mounted where the API is not used", Severity: finding.Medium, Category: "service-accounts",
			Tags:        []string{"service-accounts", "cis:5.1.6"},
			Rationale:   "Kubernetes mounts an API token into every container unless told not to. A pod whose service account has no role bindings in the linted set does not need it, and an attacker who gets code execution in the pod uses it to explore and attack the API server.",
			Remediation: "Set automountServiceAccountToken: false on the pod (or on its ServiceAccount). Workloads that call the API should have their own service account and role binding, which this rule recognises.",
			Example:     "spec:\n  automountServiceAccountToken: false\n",
			References:  []string{saRef + "#opt-out-of-api-credential-automounting", cis("5.1.6", "Ensure that Service Account Tokens are only mounted where necessary")},
		},
		CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
			saAutomount := map[saKey]*bool{}
			bound := map[saKey]bool{}
			boundAnyNS := map[string]bool{} // bound with no namespace known
			boundNames := map[string]bool{} // bound in some namespace
			for _, o := range objs {
				switch {
				case o.Kind == "ServiceAccount" && o.Group() == "":
					if v := o.Get(manifest.ParsePath("automountServiceAccountToken")); v != nil {
						b := v.Value == "true"
						saAutomount[saKey{o.Namespace, o.Name}] = &b
					}
				case isBinding(o):
					b := readBinding(o)
					for _, s := range b.subjects {
						if s.kind == "ServiceAccount" {
							ns := b.saNamespace(s)
							bound[saKey{ns, s.name}] = true
							boundNames[s.name] = true
							if ns == "" {
								boundAnyNS[s.name] = true
							}
						}
					}
				}
			}
			for _, o := range objs {
				w := c.Workload(o)
				if !runsPods(w, o) {
					continue
				}
				sa := serviceAccountName(w)
				k := saKey{o.Namespace, sa}
				if bound[k] || boundAnyNS[sa] || o.Namespace == "" && boundNames[sa] {
					continue // the pod calls the API
				}
				if v := w.Spec.AutomountServiceAccountToken; v != nil {
					if *v {
						c.Reportf(o, w.SpecPath.Key("automountServiceAccountToken"), "%s mounts the token of service account %q, which has no role binding in the linted set", o.Ref(), sa)
					}
					continue
				}
				if v := saAutomount[k]; v != nil && !*v {
					continue
				}
				c.Report(o, w.SpecPath.Key("automountServiceAccountToken"), o.Ref().String()+" mounts the API token of service account "+strconv.Quote(sa)+", which has no role binding in the linted set; set automountServiceAccountToken: false")
			}
		},
	}
}

type saKey struct{ ns, name string }

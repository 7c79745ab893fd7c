package rules

import (
	"fmt"
	"strconv"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// NoRoleBinding ends the message of a token mounted for an account that
// nothing in the linted set binds: turning the token off is then a safe
// one-line fix (internal/fix offers it only then).
const NoRoleBinding = "which has no role binding in the linted set"

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
			ID: "automount-service-account-token", Title: "Service account token mounted where it is not needed or too powerful", Severity: finding.Medium, Category: "service-accounts",
			Tags:        []string{"service-accounts", "cis:5.1.6"},
			Rationale:   "Kubernetes mounts an API token into every container unless told not to; an attacker who gets code execution in the pod uses it against the API server. The finding is graded by what the token carries, resolved through the bindings of the linted set (to the account itself and to the system:serviceaccounts groups; aggregated ClusterRoles included): critical when that is cluster-admin or a role granting every verb on every resource, high when it is another risky permission (the rbac-* rules: reading Secrets, creating pods, exec, escalate, ..., or the built-in admin and edit roles), medium when the account has no role binding at all. A pod whose account is bound only to modest permissions (or to roles not in the set) calls the API and is not reported.",
			Remediation: "Set automountServiceAccountToken: false on the pod (or on its ServiceAccount) unless it calls the API. Workloads that do should have their own service account, bound to a role granting only what they use.",
			Example:     "spec:\n  automountServiceAccountToken: false\n",
			References:  []string{saRef + "#opt-out-of-api-credential-automounting", cis("5.1.6", "Ensure that Service Account Tokens are only mounted where necessary")},
		},
		Reads: readsRBAC,
		CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
			rs := NewRBAC(objs)
			saAutomount := map[saKey]*bool{}
			for _, o := range objs {
				if o.Kind == "ServiceAccount" && o.Group() == "" {
					if v := o.Get(manifest.ParsePath("automountServiceAccountToken")); v != nil {
						b := v.Value == "true"
						saAutomount[saKey{o.Namespace, o.Name}] = &b
					}
				}
			}
			// What each service account's token carries, graded once.
			type grade struct {
				level  riskLevel
				why    string
				direct bool
			}
			graded := map[saKey]grade{}
			for _, o := range objs {
				w := c.Workload(o)
				if !runsPods(w, o) {
					continue
				}
				sa := serviceAccountName(w)
				at := w.SpecPath.Key("automountServiceAccountToken")
				if v := w.Spec.AutomountServiceAccountToken; v != nil && !*v {
					continue
				} else if v == nil {
					if v := saAutomount[saKey{o.Namespace, sa}]; v != nil && !*v {
						continue
					}
				}
				k := saKey{o.Namespace, sa}
				g, ok := graded[k]
				if !ok {
					grants, unresolved, direct := rs.ServiceAccountGrants(o.Namespace, sa)
					g.level, g.why = grantsRisk(rs, append(grants, unresolved...))
					g.direct = direct
					graded[k] = g
				}
				level, why, direct := g.level, g.why, g.direct
				switch {
				case level == riskSuperuser:
					c.ReportSeverity(o, at, finding.Critical, fmt.Sprintf("%s mounts the API token of service account %q, and %s: code execution in the pod is control of the cluster; set automountServiceAccountToken: false unless the pod calls the API, and bind a narrower role", o.Ref(), sa, why))
				case level == riskDangerous:
					c.ReportSeverity(o, at, finding.High, fmt.Sprintf("%s mounts the API token of service account %q, and %s: code execution in the pod carries those permissions; set automountServiceAccountToken: false unless the pod calls the API, and narrow the role", o.Ref(), sa, why))
				case direct:
					// Bound to modest (or unknown) permissions: the pod
					// calls the API.
				case w.Spec.AutomountServiceAccountToken != nil:
					c.Reportf(o, at, "%s mounts the token of service account %q, %s", o.Ref(), sa, NoRoleBinding)
				default:
					c.Report(o, at, o.Ref().String()+" mounts the API token of service account "+strconv.Quote(sa)+", "+NoRoleBinding+"; set automountServiceAccountToken: false")
				}
			}
		},
	}
}

// grantsRisk grades what a service account's token carries: the riskiest
// of the bindings that grant it something (built-in roles by name), and
// why.
func grantsRisk(rs *RBAC, grants []Grant) (riskLevel, string) {
	level, why := riskModest, ""
	var seen *Binding
	for _, g := range grants {
		if g.Binding == seen {
			continue
		}
		seen = g.Binding
		l, w := bindingRisk(rs, g.Binding)
		if l > level {
			who := "it"
			if g.Subject.Kind == "Group" {
				who = "group " + g.Subject.Name
			}
			level, why = l, fmt.Sprintf("%s binds %s to %s", g.Binding.Obj.Ref(), who, w)
		}
	}
	return level, why
}

type saKey struct{ ns, name string }

package rules

// Cluster configuration that a repository may hold and a cluster always
// does: long-lived service account token Secrets.

import (
	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const saTokenSecretType = "kubernetes.io/service-account-token"

func clusterConfigRules() []*engine.Rule {
	return []*engine.Rule{
		{
			RuleInfo: finding.RuleInfo{
				ID: "legacy-service-account-token", Title: "Long-lived service account token Secret", Severity: finding.Medium, Category: "service-accounts",
				Tags:        []string{"service-accounts", "cis:5.1.6"},
				Rationale:   "A Secret of type kubernetes.io/service-account-token holds a token that never expires and is not bound to a pod: whoever reads it once (from the Secret, a backup, a log) keeps the service account's permissions until the Secret is deleted. Since Kubernetes 1.24 pods get short-lived projected tokens instead, and 1.29+ cleans up unused legacy tokens.",
				Remediation: "Delete the Secret and let pods use projected tokens; for a client outside the cluster, mint a bounded token with `kubectl create token SA --duration=…` (TokenRequest) or use workload identity federation.",
				Example:     "kubectl create token ci-deployer --duration=1h\n",
				References:  []string{"https://kubernetes.io/docs/concepts/security/service-accounts/#get-a-token", "https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#legacy-serviceaccount-token-cleaner", cis("5.1.6", "Ensure that Service Account Tokens are only mounted where necessary")},
			},
			Check: func(c *engine.Context, o *manifest.Object) {
				if o.Kind != "Secret" || o.Group() != "" {
					return
				}
				p := manifest.ParsePath("type")
				if n := o.Get(p); n == nil || n.Value != saTokenSecretType {
					return
				}
				sa := o.Annotations["kubernetes.io/service-account.name"]
				if sa == "" {
					sa = "(unnamed)"
				}
				c.Reportf(p, "%s is a long-lived, unbound token of service account %q in namespace %q", o.Ref(), sa, o.Namespace)
			},
		},
	}
}

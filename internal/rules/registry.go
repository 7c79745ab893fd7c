package rules

import (
	"github.com/kubectl-secure/kubectl-secure/internal/engine"
)

// All returns every rule, freshly built. The list is explicit — no init()
// registration — so the catalogue is visible in one place.
func All() []*engine.Rule {
	var all []*engine.Rule
	// Pod Security Standards, evaluated by k8s.io/pod-security-admission.
	all = append(all, pssRules()...)
	all = append(all,
		// Pod security beyond the Pod Security Standards (PodSecurityPolicy).
		hostPathWritable(),
		hostPIDPtrace(),
		readOnlyRootFS(),
		runAsRootGroup(),
		appArmorUnset(),
		// Resources.
		memoryLimit(),
		cpuLimit(),
		resourceRequests(),
		// Images.
		latestTag(),
		imageDigest(),
		imagePullPolicy(),
		imageRegistry(),
		// Secrets.
		secretInManifest(),
		hardcodedCredential(),
		hardcodedPassword(),
		secretInEnv(),
		// Service accounts.
		defaultServiceAccount(),
		automountToken(),
	)
	// RBAC, coverage of the linted set, exposure, admission and APIs.
	all = append(all, rbacRoleRules()...)
	all = append(all, bindingRules()...)
	all = append(all, coverageRules()...)
	all = append(all, exposureRules()...)
	all = append(all, admissionRules()...)
	// What a whole cluster (or repository) shows: Pod Security readiness.
	all = append(all, podSecurityReadinessRules()...)
	all = append(all, kubeletRules()...) // CIS 4.2, from kubelet config files or /configz
	all = append(all, clusterConfigRules()...)
	all = append(all, rbacEscalationRule()) // effective RBAC per subject
	return all
}

// NewRegistry builds the registry of All.
func NewRegistry() (*engine.Registry, error) {
	return engine.NewRegistry(All()...)
}

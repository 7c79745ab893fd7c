package rules

import (
	"github.com/kubectl-secure/kubectl-secure/internal/engine"
)

// All returns every rule, freshly built. The list is explicit — no init()
// registration — so the catalogue is visible in one place.
func All() []*engine.Rule {
	var all []*engine.Rule
	all = append(all, pssRules()...)
	all = append(all,
		// Pod security beyond the Pod Security Standards.
		hostPathSensitive(),
		hostPathWritable(),
		hostPIDPtrace(),
		readOnlyRootFS(),
		runAsRootGroup(),
		appArmorUnset(),
		// Images.
		latestTag(),
	)
	return all
}

// NewRegistry builds the registry of All.
func NewRegistry() (*engine.Registry, error) {
	return engine.NewRegistry(All()...)
}

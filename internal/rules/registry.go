// Package rules holds kubectl-secure's rule catalogue: one file per rule
// (or per family of closely related rules) and one explicit list, All.
package rules

import (
	"github.com/kubectl-secure/kubectl-secure/internal/engine"
)

// All returns every rule, freshly built. The list is explicit — no init()
// registration — so the catalogue is visible in one place.
func All() []*engine.Rule {
	return []*engine.Rule{
		privilegedContainer(),
		hostNetwork(),
		hostPID(),
		hostIPC(),
		latestTag(),
	}
}

// NewRegistry builds the registry of All.
func NewRegistry() (*engine.Registry, error) {
	return engine.NewRegistry(All()...)
}

// Package rules holds kubectl-secure's rule catalogue: one file per family
// of closely related rules and one explicit list, All.
package rules

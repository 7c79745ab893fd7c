package render

import "github.com/kubectl-secure/kubectl-secure/internal/manifest"

// The locators of rendered objects say how each field was produced.
var (
	_ manifest.Explainer = (*sourceLocator)(nil)
	_ manifest.Explainer = (*helmLocator)(nil)
)

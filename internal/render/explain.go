package render

import "github.com/kubectl-secure/kubectl-secure/internal/manifest"

// Explainer is implemented by the Locators of rendered objects. Explain
// says how the field at p was produced, for the finding's message: the
// overlay patch or transform that wrote it ("set by patch
// overlays/dev/privileged.yaml"), or the Helm values key and the values
// file or flag that set it ("securityContext.privileged from
// values-debug.yaml"). It returns "" when the field is written plainly in
// the source the location points at.
type Explainer interface {
	Explain(p manifest.Path) string
}

var (
	_ Explainer = (*sourceLocator)(nil)
	_ Explainer = (*helmLocator)(nil)
)

package pipeline

import (
	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// EdgeSource is a Source that knows more than its objects: a live
// cluster knows what is running and what it could not read. Run asks
// for the Edges once Load has returned.
type EdgeSource interface {
	Source
	Edges() *Edges
}

// Edges is what such a source adds to a run.
type Edges struct {
	// Findings from the source itself (e.g. a running image without a
	// digest); they go through the processors like any rule's. Their
	// rules are documented through PolicyInput.ExtraRules.
	Findings []engine.Raw
	// Images, when not nil, are what --verify-images verifies instead of
	// the image: fields of the objects (a cluster supplies the digests
	// that are running).
	Images []ImageRef
	// NotEvaluated is what the source could not read.
	NotEvaluated []finding.NotEvaluated
	// Uncounted objects were read but not checked on their own (pods
	// reported on their owners); they count in the summary.
	Uncounted int
	// Decorate, when set, adjusts each reported finding (e.g. says how
	// many replicas of the object are running).
	Decorate func(*finding.Finding)
}

// ImageRef is one image to verify, reported at a container of an object.
type ImageRef struct {
	Object    *manifest.Object
	Ref       string
	Path      manifest.Path
	Container string
}

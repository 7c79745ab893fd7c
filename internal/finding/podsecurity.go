package finding

// PodSecurityNamespace is one row of the Pod Security readiness table: for
// a namespace, the level Pod Security Admission enforces there, the
// strictest level all its pods satisfy today and the pods that block the
// next one (rules.PodSecurityReadiness builds it).
type PodSecurityNamespace struct {
	Namespace string `json:"namespace"`
	// Enforce is the level enforced (privileged when unlabelled), or
	// "unknown" when the Namespace object was not read. Labelled tells
	// whether the enforce label is set; EnforceVersion is the
	// enforce-version label ("latest" when unset).
	Enforce        string `json:"enforce"`
	EnforceVersion string `json:"enforceVersion,omitempty"`
	Labelled       bool   `json:"labelled"`
	// Pods is how many pods (or, in files, unowned pod templates) were
	// evaluated.
	Pods int `json:"pods"`
	// Satisfies is the strictest level every pod satisfies: privileged,
	// baseline or restricted.
	Satisfies string `json:"satisfies"`
	// Next is the level above Satisfies ("" at restricted) and Blockers
	// the pods that fail it, with the controls they fail.
	Next     string               `json:"next,omitempty"`
	Blockers []PodSecurityBlocker `json:"blockers,omitempty"`
}

// PodSecurityBlocker is a pod (or pod template) that fails a level.
type PodSecurityBlocker struct {
	Object   ObjectRef `json:"object"`
	Controls []string  `json:"controls"`
}

package finding

import "fmt"

// NotEvaluated is something a run could not read — a resource in a
// namespace (or everywhere) of a live cluster — and so the rules that did
// not run on it. Reports list these: what could not be read is never
// "none found".
type NotEvaluated struct {
	// Resource as kubectl names it: "pods", "deployments.apps",
	// "nodes/proxy".
	Resource string `json:"resource"`
	// Namespace is "" for cluster-scoped resources or every namespace,
	// "*" for namespaces that could not even be enumerated.
	Namespace string   `json:"namespace,omitempty"`
	Reason    string   `json:"reason"`
	Rules     []string `json:"rules"`
}

// Where renders the resource and its namespace for reports.
func (n NotEvaluated) Where() string {
	switch n.Namespace {
	case "":
		return n.Resource
	case "*":
		return n.Resource + " in namespaces that could not be listed"
	default:
		return fmt.Sprintf("%s in namespace %s", n.Resource, n.Namespace)
	}
}

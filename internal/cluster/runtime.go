package cluster

import "github.com/kubectl-secure/kubectl-secure/internal/finding"

// RuntimeCategory is the category of rules about what is really running.
const RuntimeCategory = "runtime"

// Rules whose findings come from the cluster's state rather than from an
// object's fields: the engine never sees pod statuses of owned pods, the
// scan source reports them on the owner.
var (
	RunningImageNoDigest = finding.RuleInfo{
		ID:       "running-image-no-digest",
		Title:    "Running container has no image digest",
		Severity: finding.Medium,
		Category: RuntimeCategory,
		Tags:     []string{"images", "supply-chain", "cluster"},
		Rationale: "The pod's status names no digest for the image the container runs, so nothing proves which bytes " +
			"are running: a moved tag or a node-local image is indistinguishable from the one that was reviewed.",
		Remediation: "Deploy images by digest (image: registry/app@sha256:…) from a registry the kubelet pulls from; " +
			"an image loaded onto the node by hand has no repository digest.",
		References: []string{"docs/scan.md"},
	}
	RunningImageDrift = finding.RuleInfo{
		ID:       "running-image-drift",
		Title:    "Pod runs another image than its owner's spec",
		Severity: finding.Medium,
		Category: RuntimeCategory,
		Tags:     []string{"images", "cluster"},
		Rationale: "A pod of this workload runs an image other than the one the workload's current spec asks for: a " +
			"rollout that is stuck or paused, or pods changed behind the controller's back. What was reviewed is not what runs.",
		Remediation: "Finish or roll back the rollout (kubectl rollout status / undo), or delete the stray pods so the " +
			"controller recreates them from the current spec.",
		References: []string{"docs/scan.md"},
	}
)

// Rules documents the rules whose findings the scan source makes itself
// (pipeline.PolicyInput.ExtraRules).
func Rules() []finding.RuleInfo {
	return []finding.RuleInfo{RunningImageDrift, RunningImageNoDigest}
}

package report

// The Pod Security readiness table (Result.PodSecurity, filled by scan):
// one row per namespace with what it enforces, what its pods satisfy today
// and the next step — the kubectl label to run, or what blocks it.

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

const psaEnforceLabel = "pod-security.kubernetes.io/enforce"

var psaRank = map[string]int{"privileged": 0, "baseline": 1, "restricted": 2}

// psaEnforces renders what a namespace enforces: "restricted (v1.30)",
// "none" when unlabelled.
func psaEnforces(r finding.PodSecurityNamespace) string {
	switch {
	case r.Enforce == "unknown":
		return "unknown (Namespace not read)"
	case !r.Labelled:
		return "none"
	case r.EnforceVersion != "" && r.EnforceVersion != "latest":
		return r.Enforce + " (" + r.EnforceVersion + ")"
	}
	return r.Enforce
}

// psaNextStep is the action a row calls for, or "".
func psaNextStep(r finding.PodSecurityNamespace, maxBlockers int) (label string, blocked string) {
	if r.Pods > 0 && r.Enforce != "unknown" && psaRank[r.Satisfies] > psaRank[r.Enforce] {
		label = fmt.Sprintf("kubectl label --overwrite ns %s %s=%s", r.Namespace, psaEnforceLabel, r.Satisfies)
	}
	if r.Next != "" && psaRank[r.Enforce] < psaRank["restricted"] && len(r.Blockers) > 0 {
		var parts []string
		for i, b := range r.Blockers {
			if i == maxBlockers {
				parts = append(parts, fmt.Sprintf("and %d more", len(r.Blockers)-maxBlockers))
				break
			}
			parts = append(parts, fmt.Sprintf("%s/%s (%s)", b.Object.Kind, b.Object.Name, strings.Join(b.Controls, ", ")))
		}
		blocked = r.Next + " blocked by " + strings.Join(parts, "; ")
	}
	return label, blocked
}

// writePodSecurityText prints the table after the findings.
func writePodSecurityText(ew *errWriter, p painter, rows []finding.PodSecurityNamespace) {
	if len(rows) == 0 {
		return
	}
	ew.printf("%s\n", p.paint("Pod Security readiness", ansiBold))
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAMESPACE\tENFORCES\tPODS\tSATISFIES\tNEXT STEP")
	for _, r := range rows {
		label, blocked := psaNextStep(r, 3)
		step := "—"
		switch {
		case label != "" && blocked != "":
			step = label + "; " + blocked
		case label != "":
			step = label
		case blocked != "":
			step = blocked
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", sanitize(r.Namespace), sanitize(psaEnforces(r)), r.Pods, sanitize(r.Satisfies), sanitize(step))
	}
	tw.Flush()
	ew.printf("\n")
}

// writePodSecurityMarkdown prints the table as a section.
func writePodSecurityMarkdown(ew *errWriter, rows []finding.PodSecurityNamespace) {
	if len(rows) == 0 {
		return
	}
	ew.printf("\n### Pod Security readiness\n\n| Namespace | Enforces | Pods | Satisfies today | Next step |\n| --- | --- | --: | --- | --- |\n")
	for _, r := range rows {
		label, blocked := psaNextStep(r, 5)
		var steps []string
		if label != "" {
			steps = append(steps, codeCell(label))
		}
		if blocked != "" {
			steps = append(steps, escapeCell(blocked))
		}
		ew.printf("| %s | %s | %d | %s | %s |\n", codeCell(r.Namespace), escapeCell(psaEnforces(r)), r.Pods, escapeCell(r.Satisfies), nonEmpty(strings.Join(steps, "<br>"), "—"))
	}
}

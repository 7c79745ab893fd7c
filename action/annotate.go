package action

import (
	"fmt"
	"strconv"

	"github.com/sethvargo/go-githubactions"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/report"
)

// GitHub shows at most this many annotations of one level from one step,
// and this many in a job; it drops the rest silently.
const (
	AnnotationsPerLevel = 10
	AnnotationsPerJob   = 50
)

// Annotate writes annotations for input errors first, then the findings
// most severe first, within GitHub's limits. It returns how many were
// written and how many were left out.
func Annotate(gha *githubactions.Action, findings []finding.Finding, errs []finding.InputError, rules map[string]*finding.RuleInfo) (written, left int) {
	perLevel := map[string]int{}
	take := func(lvl string) bool {
		if perLevel[lvl] >= AnnotationsPerLevel || written >= AnnotationsPerJob {
			left++
			return false
		}
		perLevel[lvl]++
		written++
		return true
	}
	for _, e := range errs {
		if take("error") {
			fields := map[string]string{"title": "kubectl-secure: input error"}
			if e.File != "" {
				fields["file"] = e.File
				if e.Line > 0 {
					fields["line"] = strconv.Itoa(e.Line)
				}
			}
			gha.WithFieldsMap(fields).Errorf("%s", e.Message)
		}
	}
	for _, f := range sortBySeverity(findings) {
		lvl := report.AnnotationLevel(f.Severity)
		if !take(lvl) {
			continue
		}
		fields := map[string]string{"title": fmt.Sprintf("%s (%s, %s)", ruleTitle(rules, f.RuleID), f.Severity, f.RuleID)}
		if l := f.Location; l.File != "" {
			fields["file"] = l.File
			if l.Line > 0 {
				fields["line"] = strconv.Itoa(l.Line)
				if l.Column > 0 {
					fields["col"] = strconv.Itoa(l.Column)
				}
			}
		}
		msg := f.Message
		if f.Remediation != "" {
			msg += "\nRemediation: " + f.Remediation
		}
		a := gha.WithFieldsMap(fields)
		switch lvl {
		case "error":
			a.Errorf("%s", msg)
		case "warning":
			a.Warningf("%s", msg)
		default:
			a.Noticef("%s", msg)
		}
	}
	return written, left
}

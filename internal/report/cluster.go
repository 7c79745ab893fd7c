package report

// Findings on objects read from a live cluster (scan) have no file: they
// are placed at the object and the field path, and the report says what
// could not be read (Summary.NotEvaluated). Everything cluster-specific
// in the printers is here.

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// containerIndex matches a container's index in a field path.
var containerIndex = regexp.MustCompile(`((?:^|\.)(?:initContainers|containers|ephemeralContainers))\[\d+\]`)

// objectPosition renders a file-less finding's place:
// "Deployment/shop/web spec.template.spec.containers[app].securityContext.privileged".
func objectPosition(f finding.Finding) string {
	var b strings.Builder
	b.WriteString(nonEmpty(f.Object.Kind, "<unknown>"))
	if f.Object.Namespace != "" {
		b.WriteString("/" + f.Object.Namespace)
	}
	b.WriteString("/" + nonEmpty(f.Object.Name, "<unnamed>"))
	if f.Path != "" {
		b.WriteString(" " + fieldPath(f))
	}
	return b.String()
}

// fieldPath is the finding's path with its container named rather than
// numbered: "spec.containers[app].image".
func fieldPath(f finding.Finding) string {
	if f.Container == "" {
		return f.Path
	}
	return containerIndex.ReplaceAllString(f.Path, "${1}["+f.Container+"]")
}

// objectURI is the stable SARIF artifact URI of a file-less finding's
// object (docs/output.md): k8s:<group>/<Kind>/<namespace>/<name>, with
// "core" for the core group and "_" for no namespace (cluster-scoped).
// The version is left out so that an API version bump does not move the
// results of code scanning.
func objectURI(o finding.ObjectRef) string {
	group := "core"
	if i := strings.IndexByte(o.APIVersion, '/'); i >= 0 {
		group = o.APIVersion[:i]
	}
	ns := nonEmpty(o.Namespace, "_")
	seg := func(s string) string { return url.PathEscape(s) }
	return "k8s:" + seg(group) + "/" + seg(nonEmpty(o.Kind, "_")) + "/" + seg(ns) + "/" + seg(nonEmpty(o.Name, "_"))
}

// notEvaluatedLine describes one thing that was not read.
func notEvaluatedLine(n finding.NotEvaluated) string {
	return fmt.Sprintf("%s (%s): %s did not run there", n.Where(), n.Reason, plural(len(n.Rules), "rule", "rules"))
}

// notEvaluatedSummary is the summary line's note, or "".
func notEvaluatedSummary(s finding.Summary) string {
	if len(s.NotEvaluated) == 0 {
		return ""
	}
	return ", " + plural(len(s.NotEvaluated), "scope", "scopes") + " not evaluated"
}

// notEvaluatedNotifications are SARIF tool notifications, one per scope
// not read, so that code scanning never shows "no problems" for them.
func notEvaluatedNotifications(s finding.Summary) []sarifNotification {
	var out []sarifNotification
	for _, n := range s.NotEvaluated {
		out = append(out, sarifNotification{Level: "warning", Message: sarifText{Text: "not evaluated: " + notEvaluatedLine(n)}})
	}
	return out
}

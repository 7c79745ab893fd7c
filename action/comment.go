package action

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/report"
)

// Hidden markers in what the action posts: they let a rerun recognise its
// own comments, replies and reviews.
const (
	markerPrefix = "<!-- kubectl-secure:"
	fixedMarker  = "<!-- kubectl-secure:fixed -->"
	// RulesDocURL is where each rule is documented (anchor = rule ID).
	RulesDocURL = report.InformationURI + "/blob/main/docs/rules.md#"
)

var (
	fingerprintRE = regexp.MustCompile(`<!-- kubectl-secure:fingerprint=([0-9a-f]+) -->`)
	seenRE        = regexp.MustCompile(`<!-- kubectl-secure:review seen=([0-9a-z:,]*) digest=([0-9a-f]+) -->`)
)

func fingerprintMarker(fp string) string { return markerPrefix + "fingerprint=" + fp + " -->" }

// commentFingerprint is the fingerprint an earlier comment carries, "" for
// comments not posted by this tool.
func commentFingerprint(body string) string {
	if m := fingerprintRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

var severityIcon = map[finding.Severity]string{finding.Critical: "🔴", finding.High: "🟠", finding.Medium: "🟡", finding.Low: "🔵"}

// ruleTitle is "Title" or the rule ID when undocumented.
func ruleTitle(rules map[string]*finding.RuleInfo, id string) string {
	if ri := rules[id]; ri != nil && ri.Title != "" {
		return ri.Title
	}
	return id
}

// CommentBody renders one inline comment: rule title and severity, the
// message, the remediation, a suggestion when a one-line change fixes it,
// the rule's documentation and the hidden fingerprint.
func CommentBody(f *finding.Finding, rules map[string]*finding.RuleInfo, suggestion string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s **%s** · %s · `%s`\n\n", severityIcon[f.Severity], mdText(ruleTitle(rules, f.RuleID)), f.Severity, f.RuleID)
	b.WriteString(mdText(f.Message))
	if f.Origin != "" {
		fmt.Fprintf(&b, "\n\n<sub>%s</sub>", mdText(f.Origin))
	}
	if f.Remediation != "" {
		fmt.Fprintf(&b, "\n\n**Remediation:** %s", mdText(f.Remediation))
	}
	if suggestion != "" {
		b.WriteString("\n\n" + strings.TrimRight(suggestion, "\n"))
	}
	fmt.Fprintf(&b, "\n\n[Rule documentation](%s%s)\n\n%s", RulesDocURL, f.RuleID, fingerprintMarker(f.Fingerprint))
	return b.String()
}

// mdText keeps text from a manifest from opening HTML or markers.
func mdText(s string) string { return mdEscaper.Replace(s) }

var mdEscaper = strings.NewReplacer("<", "&lt;", ">", "&gt;", "\r", "", "@", "&#64;") // no @mentions from manifests

// seenKey is how a review body remembers a finding it summarised.
func seenKey(fp string) string {
	if len(fp) > 12 {
		fp = fp[:12]
	}
	return fp
}

// errorKey is how a review body remembers an input error.
func errorKey(e finding.InputError) string {
	h := sha256.Sum256([]byte(e.Error()))
	return "e:" + hex.EncodeToString(h[:6])
}

// seenMarker renders the keys a review body said: the list, bounded so
// that the body stays under GitHub's 65,536 characters, and a digest of
// them all for when the list is cut.
func seenMarker(keys map[string]bool) string {
	list := make([]string, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	sort.Strings(list)
	d := keysDigest(list)
	if len(list) > 2000 {
		list = list[:2000]
	}
	return markerPrefix + "review seen=" + strings.Join(list, ",") + " digest=" + d + " -->"
}

// keysDigest identifies a sorted set of keys.
func keysDigest(sorted []string) string {
	h := sha256.Sum256([]byte(strings.Join(sorted, ",")))
	return hex.EncodeToString(h[:8])
}

// parseSeen adds the keys a review body remembers to into, and its
// digest to digests.
func parseSeen(body string, into, digests map[string]bool) bool {
	m := seenRE.FindStringSubmatch(body)
	if m == nil {
		return false
	}
	for _, k := range strings.Split(m[1], ",") {
		if k != "" {
			into[k] = true
		}
	}
	digests[m[2]] = true
	return true
}

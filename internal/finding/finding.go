// Package finding holds the one diagnostic model every part of kubectl-secure
// shares: rules produce findings, processors filter them, printers format them,
// and the GitHub reviewer posts them. It has no dependencies beyond the
// standard library so that every edge (reports, review, cluster) can import it.
package finding

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Severity orders findings; the zero value is invalid so that a forgotten
// severity is caught by Validate rather than silently treated as "low".
type Severity int

// Severities from least to most severe.
const (
	SeverityUnknown Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"unknown", "low", "medium", "high", "critical"}

// String returns the lower-case name used in flags, config and reports.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return "unknown"
	}
	return severityNames[s]
}

// ParseSeverity parses "low", "medium", "high" or "critical" (any case).
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if i > 0 && strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return SeverityUnknown, fmt.Errorf("unknown severity %q (want low, medium, high or critical)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// SecuritySeverity is the CVSS-like score GitHub code scanning uses to bucket
// SARIF results (critical >= 9.0, high >= 7.0, medium >= 4.0, low > 0).
func (s Severity) SecuritySeverity() string {
	switch s {
	case Critical:
		return "9.5"
	case High:
		return "8.0"
	case Medium:
		return "5.5"
	default:
		return "3.0"
	}
}

// ObjectRef identifies the Kubernetes object a finding is about.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// String renders "Kind namespace/name" (or "Kind name" when cluster-scoped).
func (o ObjectRef) String() string {
	name := o.Name
	if name == "" {
		name = "<unnamed>"
	}
	if o.Namespace != "" {
		return o.Kind + " " + o.Namespace + "/" + name
	}
	return o.Kind + " " + name
}

// Location is a position in a file the user owns. Lines and columns are
// 1-based; End* are inclusive-exclusive like SARIF regions (EndColumn is one
// past the last character).
type Location struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"endLine,omitempty"`
	EndColumn int    `json:"endColumn,omitempty"`
}

// String renders file:line:col, the form editors jump to.
func (l Location) String() string {
	return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Column)
}

// Finding is one problem found in one object.
type Finding struct {
	RuleID      string    `json:"ruleId"`
	Severity    Severity  `json:"severity"`
	Message     string    `json:"message"`
	Location    Location  `json:"location"`
	Object      ObjectRef `json:"object"`
	Container   string    `json:"container,omitempty"`
	Path        string    `json:"path,omitempty"`
	Remediation string    `json:"remediation,omitempty"`
	Fingerprint string    `json:"fingerprint"`
	// Origin explains how the location was reached when the object was
	// rendered (e.g. "kustomize overlay overlays/prod"); empty for plain YAML.
	Origin string `json:"origin,omitempty"`
}

// Fingerprint returns a stable identity for a finding: it hashes the rule, the
// object's identity and the field path (with container names rather than
// indices), never the line number, so unrelated edits do not change it.
func Fingerprint(ruleID string, obj ObjectRef, identityPath string) string {
	h := sha256.New()
	for _, s := range []string{ruleID, obj.Kind, obj.Namespace, obj.Name, identityPath} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// RuleInfo is the documentation of a rule: what reports, `rules` and the
// generated docs show. It carries no behaviour.
type RuleInfo struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Severity    Severity `json:"severity"`
	Category    string   `json:"category"`
	Tags        []string `json:"tags,omitempty"`
	Rationale   string   `json:"rationale"`
	Remediation string   `json:"remediation"`
	// Example is a YAML snippet showing the fix.
	Example    string   `json:"example,omitempty"`
	References []string `json:"references,omitempty"`
}

// InputError is an input that could not be read, parsed or rendered. The run
// goes on without it and exits 2.
type InputError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Error renders file:line: message.
func (e InputError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Message)
}

// Summary describes a run for reports.
type Summary struct {
	Files   int `json:"files"`
	Objects int `json:"objects"`
	// Skipped counts documents that were not Kubernetes objects.
	Skipped int `json:"skipped"`
	// Suppressed counts findings removed by ignore annotations, config
	// exemptions or the baseline.
	Suppressed int            `json:"suppressed"`
	BySeverity map[string]int `json:"bySeverity"`
	Errors     []InputError   `json:"errors"`
	// NotEvaluated lists what a cluster scan could not read (scan only).
	NotEvaluated []NotEvaluated `json:"notEvaluated,omitempty"`
	Elapsed      time.Duration  `json:"-"`
	FailOn       Severity       `json:"failOn"`
}

// Result is everything a printer needs.
type Result struct {
	ToolName    string
	ToolVersion string
	Findings    []Finding
	// Rules holds the documentation of every rule that ran, so SARIF can
	// describe rules with no results too.
	Rules   []RuleInfo
	Summary Summary
	// PodSecurity is the Pod Security readiness table, when the run
	// asked for it (scan); nil otherwise.
	PodSecurity []PodSecurityNamespace
}

// CountBySeverity fills Summary.BySeverity from Findings.
func (r *Result) CountBySeverity() {
	m := map[string]int{"critical": 0, "high": 0, "medium": 0, "low": 0}
	for _, f := range r.Findings {
		m[f.Severity.String()]++
	}
	r.Summary.BySeverity = m
}

// Failing reports whether any finding is at or above the threshold.
func (r *Result) Failing(threshold Severity) bool {
	for _, f := range r.Findings {
		if f.Severity >= threshold {
			return true
		}
	}
	return false
}

// Compare orders findings the way every report prints them: by file,
// line and column, then most severe first, then rule, object, container,
// path and message. It does not allocate (sorting large results).
func Compare(a, b *Finding) int {
	// Early returns, not cmp.Or: its arguments would all be evaluated,
	// and sorting 100,000 findings makes millions of comparisons that
	// nearly always end at the file or line. Equal strings (usually the
	// same string) are checked with ==, which is cheap for shared ones.
	if c := CompareString(a.Location.File, b.Location.File); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Location.Line, b.Location.Line); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Location.Column, b.Location.Column); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
		return c
	}
	for _, p := range [...][2]string{
		{a.RuleID, b.RuleID},
		{a.Object.Kind, b.Object.Kind},
		{a.Object.Namespace, b.Object.Namespace},
		{a.Object.Name, b.Object.Name},
		{a.Container, b.Container},
		{a.Path, b.Path},
		{a.Message, b.Message},
	} {
		if c := CompareString(p[0], p[1]); c != 0 {
			return c
		}
	}
	return 0
}

// CompareString is strings.Compare with a fast answer for equal strings,
// which sorting findings meets constantly (shared file names, rule IDs).
func CompareString(a, b string) int {
	if a == b {
		return 0
	}
	return strings.Compare(a, b)
}

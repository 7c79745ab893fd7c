// Package report formats a finding.Result for people and machines.
//
// Printers only format: they never decide what is a finding, whether the run
// fails or which findings are suppressed. Every printer sorts its own copy of
// the findings (file, line, column, rule) so that output is deterministic and
// never mutates the Result it is given. Supported formats:
//
//   - text: grouped by file, one "file:line:col: ..." line per finding, with
//     optional ANSI colour and a one-line summary.
//   - json: a versioned document described in docs/json-schema.md and
//     testdata/schemas/kubectl-secure-report.schema.json.
//   - sarif: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//   - markdown: a report for pull-request comments and job summaries.
//   - github: GitHub Actions workflow commands (::error/::warning/::notice).
package report

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// DefaultMarkdownMaxRows is how many findings the markdown report lists in its
// table when Options.MarkdownMaxRows is zero.
const DefaultMarkdownMaxRows = 50

// Options tunes printers. The zero value is valid: no colour, no SRCROOT,
// terse output.
type Options struct {
	// Color enables ANSI colour in the text format. The caller decides, for
	// example with ColorEnabled.
	Color bool
	// SrcRoot, when set, is the directory (or file: URI) that finding paths
	// are relative to; SARIF then emits uriBaseId "%SRCROOT%" and an
	// originalUriBaseIds entry for it.
	SrcRoot string
	// Verbose adds the field path, object API version and fingerprint to
	// the text format.
	Verbose bool
	// MarkdownMaxRows caps the findings table of the markdown format;
	// zero means DefaultMarkdownMaxRows and a negative value means no cap.
	MarkdownMaxRows int
	// ErrorsShownElsewhere leaves input errors out of the text format's
	// body (they are still counted in the summary line): the CLI prints
	// them on stderr, and a terminal would show them twice.
	ErrorsShownElsewhere bool
}

type printer func(w io.Writer, res *finding.Result, opts Options) error

// printers is read-only after initialisation.
var printers = map[string]printer{
	"text":     writeText,
	"json":     writeJSON,
	"sarif":    writeSARIF,
	"markdown": writeMarkdown,
	"github":   writeGitHub,
}

// Formats returns the supported format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(printers))
	for n := range printers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Write renders res to w in the named format.
func Write(w io.Writer, format string, res *finding.Result, opts Options) error {
	p, ok := printers[strings.ToLower(strings.TrimSpace(format))]
	if !ok {
		return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats(), ", "))
	}
	if res == nil {
		res = &finding.Result{}
	}
	return p(w, res, opts)
}

// ColorEnabled reports whether colour should be used when writing to f:
// NO_COLOR set and non-empty disables it, FORCE_COLOR set and non-empty (and
// not "0" or "false") enables it, and otherwise colour is used only when f is
// a terminal (a character device).
func ColorEnabled(f *os.File, getenv func(string) string) bool {
	if getenv == nil {
		getenv = os.Getenv
	}
	if getenv("NO_COLOR") != "" {
		return false
	}
	if v := getenv("FORCE_COLOR"); v != "" && v != "0" && !strings.EqualFold(v, "false") {
		return true
	}
	if f == nil {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	return st.Mode()&os.ModeCharDevice != 0
}

// severities lists the real severities from most to least severe.
var severities = []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low}

// sortedFindings returns a sorted copy of the findings.
func sortedFindings(fs []finding.Finding) []finding.Finding {
	// The engine already sorts; avoid a copy of a large result then.
	if slices.IsSortedFunc(fs, compareFindings) {
		return fs
	}
	out := slices.Clone(fs)
	slices.SortStableFunc(out, compareFindings)
	return out
}

func compareFindings(a, b finding.Finding) int { return finding.Compare(&a, &b) }

// sortedErrors returns the input errors sorted by file and line.
func sortedErrors(errs []finding.InputError) []finding.InputError {
	out := slices.Clone(errs)
	slices.SortStableFunc(out, func(a, b finding.InputError) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Message, b.Message))
	})
	return out
}

// countBySeverity counts the findings that are printed, so that every format
// agrees with its own list. Unknown severities are not counted.
func countBySeverity(fs []finding.Finding) map[finding.Severity]int {
	m := make(map[finding.Severity]int, len(severities))
	for _, f := range fs {
		m[f.Severity]++
	}
	return m
}

// ruleIndex maps rule IDs to their documentation; the first entry wins.
func ruleIndex(rules []finding.RuleInfo) map[string]*finding.RuleInfo {
	m := make(map[string]*finding.RuleInfo, len(rules))
	for i := range rules {
		if _, ok := m[rules[i].ID]; !ok {
			m[rules[i].ID] = &rules[i]
		}
	}
	return m
}

func toolName(res *finding.Result) string {
	if res.ToolName != "" {
		return res.ToolName
	}
	return "kubectl-secure"
}

// plural renders "1 finding" or "3 findings".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// summaryLine renders the one-line summary shared by the text, github and
// markdown formats, e.g. "12 findings (2 critical, 5 high, 4 medium, 1 low)
// in 34 objects from 7 files, 3 suppressed, 1 error — 0.21s".
func summaryLine(res *finding.Result, fs []finding.Finding) string {
	var b strings.Builder
	if len(fs) == 0 {
		b.WriteString("no findings")
	} else {
		b.WriteString(plural(len(fs), "finding", "findings"))
		counts := countBySeverity(fs)
		var parts []string
		for _, s := range severities {
			if counts[s] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
			}
		}
		if len(parts) > 0 {
			b.WriteString(" (" + strings.Join(parts, ", ") + ")")
		}
	}
	s := res.Summary
	if s.Files == 0 && s.Objects > 0 {
		// A live cluster: there are no files.
		fmt.Fprintf(&b, " in %s", plural(s.Objects, "object", "objects"))
	} else {
		fmt.Fprintf(&b, " in %s from %s", plural(s.Objects, "object", "objects"), plural(s.Files, "file", "files"))
	}
	if s.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", s.Skipped)
	}
	if s.Suppressed > 0 {
		fmt.Fprintf(&b, ", %d suppressed", s.Suppressed)
	}
	if n := len(s.Errors); n > 0 {
		b.WriteString(", " + plural(n, "error", "errors"))
	}
	b.WriteString(notEvaluatedSummary(s))
	fmt.Fprintf(&b, " — %.2fs", s.Elapsed.Seconds())
	return b.String()
}

// objectLabel renders the object and container a finding is about, e.g.
// `Deployment prod/web, container "app"`; empty when neither is known.
func objectLabel(f finding.Finding) string {
	var parts []string
	// Say what the message does not already say.
	// A file-less finding (a cluster's) is already placed at its object.
	if obj := f.Object.String(); (f.Object.Kind != "" || f.Object.Name != "") && !strings.Contains(f.Message, obj) && f.Location.File != "" {
		parts = append(parts, obj)
	}
	if c := fmt.Sprintf("container %q", f.Container); f.Container != "" && !strings.Contains(f.Message, c) {
		parts = append(parts, c)
	}
	return strings.Join(parts, ", ")
}

// errWriter remembers the first write error so printers can write freely and
// check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}

// sanitize makes control characters other than newline and tab visible
// (e.g. ESC becomes `\x1b`) so that text taken from manifests cannot inject
// terminal escape sequences or fake workflow commands.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, `\x%02x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f || (r >= 0x80 && r < 0xa0)
}

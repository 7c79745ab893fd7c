package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// ANSI SGR sequences used by the text format.
const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiRed     = "\x1b[31m"
	ansiYellow  = "\x1b[33m"
	ansiGreen   = "\x1b[32m"
	ansiBlue    = "\x1b[34m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
)

type painter bool

func (p painter) paint(s string, codes ...string) string {
	if !p || s == "" {
		return s
	}
	return strings.Join(codes, "") + s + ansiReset
}

func (p painter) severity(s finding.Severity) string {
	label := fmt.Sprintf("%-8s", s.String())
	if !p {
		return label
	}
	var code string
	switch s {
	case finding.Critical:
		code = ansiBold + ansiMagenta
	case finding.High:
		code = ansiBold + ansiRed
	case finding.Medium:
		code = ansiYellow
	case finding.Low:
		code = ansiBlue
	default:
		return label
	}
	// Pad outside the colour so alignment survives.
	return p.paint(s.String(), code) + label[len(s.String()):]
}

// textPosition renders file:line:col, dropping the parts that are unknown; a
// finding without a file (e.g. from a live cluster) is placed at its object.
func textPosition(f finding.Finding) string {
	l := f.Location
	switch {
	case l.File == "":
		if f.Object.Kind != "" || f.Object.Name != "" {
			return objectPosition(f)
		}
		return "<unknown>"
	case l.Line <= 0:
		return l.File
	case l.Column <= 0:
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	default:
		return l.String()
	}
}

// indentLines indents every line after the first so that multi-line text
// never produces a line that looks like a new finding.
func indentLines(s, indent string) string {
	s = sanitize(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimRight(s, "\n")
	return strings.ReplaceAll(s, "\n", "\n"+indent)
}

func writeText(w io.Writer, res *finding.Result, opts Options) error {
	ew := &errWriter{w: w}
	p := painter(opts.Color)
	fs := sortedFindings(res.Findings)
	const indent = "    "
	for i, f := range fs {
		if i > 0 && fs[i-1].Location.File != f.Location.File {
			ew.printf("\n")
		}
		ew.printf("%s: %s %s %s", p.paint(sanitize(textPosition(f)), ansiBold), p.severity(f.Severity),
			p.paint(sanitize(f.RuleID), ansiCyan), indentLines(f.Message, indent))
		if label := objectLabel(f); label != "" {
			ew.printf(" %s", p.paint("("+sanitize(label)+")", ansiDim))
		}
		ew.printf("\n")
		if f.Remediation != "" {
			ew.printf("%s%s %s\n", indent, p.paint("remediation:", ansiDim), indentLines(f.Remediation, indent+"  "))
		}
		if f.Origin != "" {
			ew.printf("%s%s %s\n", indent, p.paint("origin:", ansiDim), indentLines(f.Origin, indent+"  "))
		}
		if opts.Verbose {
			if f.Path != "" {
				ew.printf("%s%s %s\n", indent, p.paint("path:", ansiDim), sanitize(f.Path))
			}
			if f.Object.APIVersion != "" {
				ew.printf("%s%s %s\n", indent, p.paint("apiVersion:", ansiDim), sanitize(f.Object.APIVersion))
			}
			if f.Fingerprint != "" {
				ew.printf("%s%s %s\n", indent, p.paint("fingerprint:", ansiDim), sanitize(f.Fingerprint))
			}
		}
	}
	errs := sortedErrors(res.Summary.Errors)
	if opts.ErrorsShownElsewhere {
		errs = nil
	}
	if len(errs) > 0 {
		if len(fs) > 0 {
			ew.printf("\n")
		}
		for _, e := range errs {
			pos := e.File
			if e.Line > 0 {
				pos = fmt.Sprintf("%s:%d", e.File, e.Line)
			}
			ew.printf("%s: %s %s\n", p.paint(sanitize(pos), ansiBold), p.paint("error", ansiBold+ansiRed), indentLines(e.Message, indent))
		}
	}
	if len(fs) > 0 || len(errs) > 0 {
		ew.printf("\n")
	}
	writePodSecurityText(ew, p, res.PodSecurity)
	for _, n := range res.Summary.NotEvaluated {
		ew.printf("%s %s\n", p.paint("not evaluated:", ansiBold+ansiYellow), indentLines(notEvaluatedLine(n), indent))
	}
	if len(res.Summary.NotEvaluated) > 0 {
		ew.printf("\n")
	}
	summary := summaryLine(res, fs)
	failing := res.Summary.FailOn != finding.SeverityUnknown && res.Failing(res.Summary.FailOn)
	switch {
	case len(errs) > 0 || failing:
		summary = p.paint(summary, ansiBold+ansiRed)
	case len(fs) > 0 || len(res.Summary.NotEvaluated) > 0:
		summary = p.paint(summary, ansiBold+ansiYellow)
	default:
		summary = p.paint(summary, ansiBold+ansiGreen)
	}
	ew.printf("%s\n", summary)
	return ew.err
}

package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// writeGitHub prints one GitHub Actions workflow command per finding and
// input error, so that the runner turns them into annotations on the pull
// request, followed by the plain summary line for the log.
func writeGitHub(w io.Writer, res *finding.Result, _ Options) error {
	ew := &errWriter{w: w}
	rules := ruleIndex(res.Rules)
	fs := sortedFindings(res.Findings)
	for _, f := range fs {
		title := f.RuleID
		if ri := rules[f.RuleID]; ri != nil && ri.Title != "" {
			title += " " + ri.Title
		}
		title += " (" + f.Severity.String() + ")"
		msg := nonEmpty(f.Message, f.RuleID)
		if label := objectLabel(f); label != "" {
			msg += "\n" + label
		}
		if f.Remediation != "" {
			msg += "\nRemediation: " + f.Remediation
		}
		if f.Origin != "" {
			msg += "\nOrigin: " + f.Origin
		}
		ew.printf("%s\n", workflowCommand(AnnotationLevel(f.Severity), annotationProps(f.Location, title), msg))
	}
	for _, e := range sortedErrors(res.Summary.Errors) {
		ew.printf("%s\n", workflowCommand("error", annotationProps(finding.Location{File: e.File, Line: e.Line}, "input error"), nonEmpty(e.Message, "input error")))
	}
	for _, n := range res.Summary.NotEvaluated {
		ew.printf("%s\n", workflowCommand("warning", annotationProps(finding.Location{}, "not evaluated"), notEvaluatedLine(n)))
	}
	ew.printf("%s: %s\n", sanitize(toolName(res)), summaryLine(res, fs))
	return ew.err
}

// AnnotationLevel is the workflow command (error, warning or notice) a
// finding of severity s is annotated with, in this report and the Action.
func AnnotationLevel(s finding.Severity) string {
	switch s {
	case finding.Critical, finding.High:
		return "error"
	case finding.Low:
		return "notice"
	default:
		return "warning"
	}
}

type prop struct{ key, value string }

func annotationProps(l finding.Location, title string) []prop {
	var ps []prop
	if file := checkoutPath(l.File, workingDir()); file != "" {
		ps = append(ps, prop{"file", file})
		if l.Line > 0 {
			ps = append(ps, prop{"line", fmt.Sprint(l.Line)})
			if l.Column > 0 {
				ps = append(ps, prop{"col", fmt.Sprint(l.Column)})
			}
			if l.EndLine >= l.Line {
				ps = append(ps, prop{"endLine", fmt.Sprint(l.EndLine)})
				if l.EndColumn > 0 {
					ps = append(ps, prop{"endColumn", fmt.Sprint(l.EndColumn)})
				}
			}
		}
	}
	if title != "" {
		ps = append(ps, prop{"title", title})
	}
	return ps
}

// workflowCommand renders "::name k=v,k=v::message" with the escaping of the
// Actions toolkit (@actions/core command.ts): the message escapes %, \r and
// \n; property values also escape : and ,.
func workflowCommand(name string, props []prop, message string) string {
	var b strings.Builder
	b.WriteString("::" + name)
	for i, p := range props {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(p.key + "=" + escapeProperty(sanitize(p.value)))
	}
	b.WriteString("::" + escapeData(sanitize(message)))
	return b.String()
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }

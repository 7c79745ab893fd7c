package report

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

func severityEmoji(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "🔴"
	case finding.High:
		return "🟠"
	case finding.Medium:
		return "🟡"
	case finding.Low:
		return "🔵"
	default:
		return "⚪"
	}
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// writeMarkdown renders a report for pull-request comments and job
// summaries (GitHub-flavoured Markdown).
func writeMarkdown(w io.Writer, res *finding.Result, opts Options) error {
	ew := &errWriter{w: w}
	fs := sortedFindings(res.Findings)
	// Most severe first, so that a capped table shows what matters.
	slices.SortStableFunc(fs, func(a, b finding.Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	errs := sortedErrors(res.Summary.Errors)

	ew.printf("## %s report\n\n", escapeMarkdown(toolName(res)))
	notEval := res.Summary.NotEvaluated
	switch {
	case len(fs) == 0 && len(errs) == 0 && len(notEval) > 0:
		ew.printf("⚠️ **No findings in what could be read**%s\n", escapeMarkdown(strings.TrimPrefix(summaryLine(res, fs), "no findings")))
	case len(fs) == 0 && len(errs) == 0:
		ew.printf("✅ **No findings**%s\n", escapeMarkdown(strings.TrimPrefix(summaryLine(res, fs), "no findings")))
	case len(fs) == 0:
		ew.printf("**No findings**%s\n", escapeMarkdown(strings.TrimPrefix(summaryLine(res, fs), "no findings")))
	default:
		ew.printf("%s\n", escapeMarkdown(titleCase(summaryLine(res, fs))))
	}
	if t := res.Summary.FailOn; t != finding.SeverityUnknown {
		switch {
		case len(errs) > 0:
			// Inputs that could not be read were not checked: never a pass.
			ew.printf("\n❌ %s could not be read or rendered and went unchecked, so this check fails.\n", plural(len(errs), "input", "inputs"))
		case res.Failing(t):
			ew.printf("\n❌ Findings at or above **%s** severity fail this check.\n", t)
		case len(notEval) > 0:
			ew.printf("\n⚠️ No findings at or above **%s** severity in what could be read.\n", t)
		default:
			ew.printf("\n✅ No findings at or above **%s** severity.\n", t)
		}
	}

	if len(fs) > 0 {
		counts := countBySeverity(fs)
		ew.printf("\n| Severity | Findings |\n| :-- | --: |\n")
		for _, s := range severities {
			ew.printf("| %s %s | %d |\n", severityEmoji(s), titleCase(s.String()), counts[s])
		}
		ew.printf("| **Total** | **%d** |\n", len(fs))

		limit := opts.MarkdownMaxRows
		if limit == 0 {
			limit = DefaultMarkdownMaxRows
		}
		shown := fs
		if limit > 0 && len(shown) > limit {
			shown = shown[:limit]
		}
		ew.printf("\n### Findings\n\n| Severity | Rule | Object | Location | Message |\n| --- | --- | --- | --- | --- |\n")
		for _, f := range shown {
			object := escapeCell(nonEmpty(f.Object.String(), "—"))
			if f.Object.Kind == "" && f.Object.Name == "" {
				object = "—"
			}
			if f.Container != "" {
				object += "<br>container " + codeCell(f.Container)
			}
			loc := "—"
			if f.Location.File == "" && f.Path != "" {
				loc = codeCell(fieldPath(f))
			}
			if f.Location.File != "" {
				l := f.Location.File
				if f.Location.Line > 0 {
					l = fmt.Sprintf("%s:%d", l, f.Location.Line)
				}
				loc = codeCell(l)
			}
			ew.printf("| %s %s | %s | %s | %s | %s |\n", severityEmoji(f.Severity), f.Severity,
				codeCell(f.RuleID), object, loc, escapeCell(nonEmpty(f.Message, f.RuleID)))
		}
		if more := len(fs) - len(shown); more > 0 {
			ew.printf("\n…and %d more.\n", more)
		}
	}

	writePodSecurityMarkdown(ew, res.PodSecurity)

	if len(errs) > 0 {
		ew.printf("\n### Input errors\n\n| Location | Error |\n| --- | --- |\n")
		for _, e := range errs {
			loc := e.File
			if e.Line > 0 {
				loc = fmt.Sprintf("%s:%d", e.File, e.Line)
			}
			ew.printf("| %s | %s |\n", codeCell(nonEmpty(loc, "?")), escapeCell(e.Message))
		}
	}

	if len(notEval) > 0 {
		ew.printf("\n### Not evaluated\n\nThese could not be read, so the rules below did not run on them: no finding there means nothing was checked.\n\n| Resource | Namespace | Reason | Rules not run |\n| --- | --- | --- | --: |\n")
		for _, n := range notEval {
			ew.printf("| %s | %s | %s | %d |\n", codeCell(n.Resource), escapeCell(nonEmpty(n.Namespace, "(all)")), escapeCell(n.Reason), len(n.Rules))
		}
	}

	if len(fs) > 0 {
		writeMarkdownRules(ew, res, fs)
	}
	return ew.err
}

// writeMarkdownRules writes a <details> section per rule with findings, most
// severe first, with the rule's rationale, remediation, example and
// references.
func writeMarkdownRules(ew *errWriter, res *finding.Result, fs []finding.Finding) {
	docs := ruleIndex(res.Rules)
	type group struct {
		id       string
		severity finding.Severity
		count    int
		first    finding.Finding
	}
	var groups []*group
	byID := map[string]*group{}
	for _, f := range fs {
		g := byID[f.RuleID]
		if g == nil {
			g = &group{id: f.RuleID, severity: f.Severity, first: f}
			byID[f.RuleID] = g
			groups = append(groups, g)
		}
		g.severity = max(g.severity, f.Severity)
		g.count++
	}
	slices.SortStableFunc(groups, func(a, b *group) int {
		return cmp.Or(cmp.Compare(b.severity, a.severity), cmp.Compare(a.id, b.id))
	})

	ew.printf("\n### Rules\n")
	for _, g := range groups {
		ri := finding.RuleInfo{ID: g.id, Severity: g.severity, Remediation: g.first.Remediation}
		if d := docs[g.id]; d != nil {
			ri = *d
			if ri.Remediation == "" {
				ri.Remediation = g.first.Remediation
			}
		}
		title := ""
		if ri.Title != "" {
			title = " " + html.EscapeString(ri.Title)
		}
		ew.printf("\n<details>\n<summary>%s <code>%s</code>%s — %s</summary>\n\n",
			severityEmoji(g.severity), html.EscapeString(g.id), title, plural(g.count, "finding", "findings"))
		if s := strings.TrimSpace(ri.Rationale); s != "" {
			ew.printf("%s\n\n", s)
		}
		if s := strings.TrimSpace(ri.Remediation); s != "" {
			ew.printf("**Remediation:** %s\n\n", s)
		}
		if s := strings.TrimRight(ri.Example, "\n "); s != "" {
			ew.printf("%s\n\n", fencedBlock(s, "yaml"))
		}
		if len(ri.References) > 0 {
			links := make([]string, len(ri.References))
			for i, r := range ri.References {
				links[i] = markdownLink(r)
			}
			ew.printf("**References:** %s\n\n", strings.Join(links, ", "))
		}
		ew.printf("</details>\n")
	}
}

// markdownEscaper backslash-escapes the characters that could start inline
// markup, HTML or a table cell boundary.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "&", `\&`, "~", `\~`, "#", `\#`,
)

// escapeMarkdown escapes s for use as literal inline Markdown text.
func escapeMarkdown(s string) string { return markdownEscaper.Replace(sanitize(s)) }

// escapeCell escapes s for a table cell: inline markup is escaped and line
// breaks become <br> so the row stays on one line.
func escapeCell(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = escapeMarkdown(strings.TrimRight(s, "\n"))
	return strings.ReplaceAll(s, "\n", "<br>")
}

// codeCell renders s as a code span inside a table cell. Code spans take no
// backslash escapes, but GFM splits cells before parsing spans, so "|" is
// still written "\|"; the fence is longer than any backtick run in s.
func codeCell(s string) string {
	return codeSpan(strings.ReplaceAll(s, "|", `\|`))
}

// codeSpan renders s as an inline code span, with line breaks as spaces and
// a fence longer than any backtick run in s.
func codeSpan(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(sanitize(s))
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

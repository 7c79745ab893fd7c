package action

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
)

// Size bounds: GitHub refuses a step summary over 1 MiB and a review body
// over 65,536 characters.
const (
	summaryMax    = 1 << 20
	summaryBudget = summaryMax - 64<<10 // room for the tail of the summary
	reviewBudget  = 32000               // the seen marker takes up to 26,000 more
)

var severities = []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low}

func countSeverities(fs []finding.Finding) map[finding.Severity]int {
	m := map[finding.Severity]int{}
	for i := range fs {
		m[fs[i].Severity]++
	}
	return m
}

// severityCounts renders "1 critical, 2 high" ("none" when empty).
func severityCounts(fs []finding.Finding) string {
	c := countSeverities(fs)
	var parts []string
	for _, s := range severities {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// rendered lists what was rendered (kustomizations, charts), from the
// findings' origins.
func rendered(fs []finding.Finding) []string {
	var out []string
	for i := range fs {
		if o := fs[i].Origin; o != "" && !slices.Contains(out, o) {
			out = append(out, o)
			if len(out) == 20 {
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// cell makes text safe in a Markdown table cell.
func cell(s string) string { return cellEscaper.Replace(s) }

var cellEscaper = strings.NewReplacer("|", `\|`, "\n", " ", "\r", "", "<", "&lt;", ">", "&gt;", "@", "&#64;")

// ReviewBody renders the review's body: counts, what was rendered,
// errors, and the findings without an inline comment.
func ReviewBody(out *ReviewOutcome, res *finding.Result, mode FilterMode) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### kubectl-secure\n\n**%d finding(s) in the changed lines** (filter-mode `%s`): %s. ",
		len(out.Kept), mode, severityCounts(out.Kept))
	fmt.Fprintf(&b, "The whole run: %d finding(s) (%s) in %d objects from %d files.\n",
		len(res.Findings), severityCounts(res.Findings), res.Summary.Objects, res.Summary.Files)
	if r := rendered(res.Findings); len(r) > 0 {
		fmt.Fprintf(&b, "\nRendered: %s.\n", cell(strings.Join(r, "; ")))
	}
	fmt.Fprintf(&b, "\n%d inline comment(s) in this review", out.Comments)
	if out.Already > 0 {
		fmt.Fprintf(&b, ", %d finding(s) already commented by an earlier run", out.Already)
	}
	if out.Dropped > 0 {
		fmt.Fprintf(&b, ", %d left out because GitHub refused their lines", out.Dropped)
	}
	b.WriteString(".\n")
	if len(out.Errors) > 0 {
		fmt.Fprintf(&b, "\n**%d input error(s)** — these inputs were not checked:\n\n", len(out.Errors))
		for i, e := range out.Errors {
			if b.Len() > reviewBudget || i == 50 {
				fmt.Fprintf(&b, "- … and %d more (see the job summary)\n", len(out.Errors)-i)
				break
			}
			fmt.Fprintf(&b, "- `%s`\n", strings.ReplaceAll(e.Error(), "`", "'"))
		}
	}
	if len(out.NotInline) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>%d finding(s) without an inline comment</summary>\n\n| Severity | Rule | Location | Why |\n| --- | --- | --- | --- |\n", len(out.NotInline))
		for i, n := range out.NotInline {
			if b.Len() > reviewBudget {
				fmt.Fprintf(&b, "\n… and %d more (see the job summary and the SARIF report).\n", len(out.NotInline)-i)
				break
			}
			f := n.Finding
			fmt.Fprintf(&b, "| %s %s | `%s` | `%s:%d` | %s |\n", severityIcon[f.Severity], f.Severity, f.RuleID, cell(f.Location.File), f.Location.Line, n.Why)
		}
		b.WriteString("\n</details>\n")
	}
	keys := map[string]bool{}
	for _, k := range bodyKeys(out) {
		keys[k] = true
	}
	b.WriteString("\n" + seenMarker(keys) + "\n")
	return b.String()
}

// SummaryInput is what the job summary reports.
type SummaryInput struct {
	Result *finding.Result
	// Kept are the findings the filter kept (changed lines on a pull
	// request, every finding otherwise).
	Kept   []finding.Finding
	PR     *PR
	Mode   FilterMode
	Review *ReviewOutcome
	// ServerURL and Repo build links (GITHUB_SERVER_URL, owner/name); SHA
	// is the commit linked to.
	ServerURL, Repo, SHA    string
	Annotated, NotAnnotated int
	SARIFNote               string
	VerifyImages            bool
}

// Summary renders the job summary, under GitHub's 1 MiB.
func Summary(in SummaryInput) string {
	res := in.Result
	var b strings.Builder
	b.WriteString("## kubectl-secure\n\n")
	if in.PR != nil {
		fmt.Fprintf(&b, "**%d finding(s) in the changed lines of #%d** (filter-mode `%s`); %d in the whole run, in %d objects from %d files.\n\n",
			len(in.Kept), in.PR.Number, in.Mode, len(res.Findings), res.Summary.Objects, res.Summary.Files)
	} else {
		fmt.Fprintf(&b, "**%d finding(s)** in %d objects from %d files.\n\n", len(res.Findings), res.Summary.Objects, res.Summary.Files)
	}
	b.WriteString("| Severity | Whole run | Kept |\n| --- | ---: | ---: |\n")
	all, kept := countSeverities(res.Findings), countSeverities(in.Kept)
	for _, s := range severities {
		fmt.Fprintf(&b, "| %s %s | %d | %d |\n", severityIcon[s], s, all[s], kept[s])
	}
	if r := rendered(res.Findings); len(r) > 0 {
		fmt.Fprintf(&b, "\nRendered: %s.\n", cell(strings.Join(r, "; ")))
	}
	if rv := in.Review; rv != nil {
		switch {
		case rv.Degraded != "":
			fmt.Fprintf(&b, "\n⚠️ No review was posted (%s); the findings are in the annotations and below.\n", cell(rv.Degraded))
		case rv.Posted:
			fmt.Fprintf(&b, "\nReview posted with %d inline comment(s)", rv.Comments)
		default:
			b.WriteString("\nNo new review: nothing new to say")
		}
		if rv.Degraded == "" {
			fmt.Fprintf(&b, "; %d already commented, %d outdated comment(s) deleted, %d answered as fixed.\n", rv.Already, rv.Deleted, rv.Replied)
		}
	}
	if in.Annotated+in.NotAnnotated > 0 {
		fmt.Fprintf(&b, "\n%d annotation(s) written, most severe first", in.Annotated)
		if in.NotAnnotated > 0 {
			fmt.Fprintf(&b, "; **%d not annotated** (GitHub shows at most %d per level per step and %d per job)", in.NotAnnotated, AnnotationsPerLevel, AnnotationsPerJob)
		}
		b.WriteString(".\n")
	}
	if in.SARIFNote != "" {
		fmt.Fprintf(&b, "\n⚠️ %s\n", cell(in.SARIFNote))
	}

	if len(in.Kept) > 0 {
		b.WriteString("\n### Findings\n\n| Severity | Rule | Location | Message |\n| --- | --- | --- | --- |\n")
		for i, f := range sortBySeverity(in.Kept) {
			if b.Len() > summaryBudget {
				fmt.Fprintf(&b, "\n… and %d more: see the JSON report and the SARIF file.\n", len(in.Kept)-i)
				break
			}
			fmt.Fprintf(&b, "| %s %s | `%s` | %s | %s |\n", severityIcon[f.Severity], f.Severity, f.RuleID, in.link(f.Location), cell(f.Message))
		}
	}
	if errs := res.Summary.Errors; len(errs) > 0 {
		fmt.Fprintf(&b, "\n### Errors\n\n%d input(s) could not be read or rendered and were not checked:\n\n", len(errs))
		for i, e := range errs {
			if b.Len() > summaryMax-32<<10 {
				fmt.Fprintf(&b, "- … and %d more\n", len(errs)-i)
				break
			}
			fmt.Fprintf(&b, "- %s: %s\n", in.link(finding.Location{File: e.File, Line: e.Line}), cell(e.Message))
		}
	}
	if in.VerifyImages {
		var bad []finding.Finding
		for _, f := range res.Findings {
			if f.RuleID == pipeline.ImageSignatureRuleID {
				bad = append(bad, f)
			}
		}
		b.WriteString("\n### Image verification\n\n")
		if len(bad) == 0 {
			b.WriteString("✅ Every image verified against the imageVerification policy.\n")
		}
		for i, f := range bad {
			if b.Len() > summaryMax-16<<10 {
				fmt.Fprintf(&b, "- … and %d more\n", len(bad)-i)
				break
			}
			fmt.Fprintf(&b, "- %s %s: %s\n", severityIcon[f.Severity], in.link(f.Location), cell(f.Message))
		}
	}
	return b.String()
}

// link renders file:line as a link to the line at the commit.
func (in SummaryInput) link(l finding.Location) string {
	text := cell(l.File)
	if l.Line > 0 {
		text = fmt.Sprintf("%s:%d", text, l.Line)
	}
	if in.ServerURL == "" || in.Repo == "" || in.SHA == "" || l.File == "" || strings.HasPrefix(l.File, "../") || strings.HasPrefix(l.File, "/") {
		return "`" + text + "`"
	}
	u := fmt.Sprintf("%s/%s/blob/%s/%s", strings.TrimSuffix(in.ServerURL, "/"), in.Repo, in.SHA, (&url.URL{Path: l.File}).EscapedPath())
	if l.Line > 0 {
		u += fmt.Sprintf("#L%d", l.Line)
	}
	return fmt.Sprintf("[%s](%s)", text, u)
}

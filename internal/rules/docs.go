package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
)

// Categories in documentation order, with headings.
var categories = []struct{ id, title string }{
	{"pod-security", "Pod security"},
	{"resources", "Resources"},
	{"images", "Images"},
	{"secrets", "Secrets"},
	{"service-accounts", "Service accounts"},
	{"rbac", "RBAC"},
	{"coverage", "Namespace coverage"},
	{"exposure", "Exposure"},
	{"admission", "Admission control"},
	{"nodes", "Nodes (kubelet)"},
	{"api-versions", "API versions"},
}

// Markdown renders the catalogue: docs/rules.md is generated from it.
func Markdown(rules []*engine.Rule) string {
	byCat := map[string][]*engine.Rule{}
	for _, r := range rules {
		byCat[r.Category] = append(byCat[r.Category], r)
	}
	cats := categories
	known := map[string]bool{}
	for _, c := range categories {
		known[c.id] = true
	}
	var extra []string
	for c := range byCat {
		if !known[c] {
			extra = append(extra, c)
		}
	}
	sort.Strings(extra)
	for _, c := range extra {
		cats = append(cats, struct{ id, title string }{c, c})
	}
	for _, rs := range byCat {
		sort.Slice(rs, func(i, j int) bool {
			if rs[i].Severity != rs[j].Severity {
				return rs[i].Severity > rs[j].Severity
			}
			return rs[i].ID < rs[j].ID
		})
	}

	var b strings.Builder
	b.WriteString("# Rules\n\n")
	b.WriteString("<!-- Generated from the rule registry by `go test ./internal/rules -run TestRulesDoc -update`. Do not edit. -->\n\n")
	fmt.Fprintf(&b, "kubectl-secure checks %d rules. Every finding points at the `file:line:col` of the field to change (or, when the field is missing, of the object or container that lacks it).\n\n", len(rules))
	b.WriteString("Rules tagged `pss:baseline` or `pss:restricted` implement the [Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/) by running the checks of `k8s.io/pod-security-admission` for the target Kubernetes version: the `pss:baseline` rules report exactly what a namespace labelled `pod-security.kubernetes.io/enforce: baseline` rejects, and the `pss:baseline` and `pss:restricted` rules together exactly what `enforce: restricted` rejects. Tags `psp:*` name the PodSecurityPolicy control a rule replaces and `cis:*` the CIS Kubernetes Benchmark (v1.9) recommendation.\n\n")
	b.WriteString("## Contents\n\n")
	for _, c := range cats {
		rs := byCat[c.id]
		if len(rs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "**[%s](#%s)**\n\n", c.title, anchor(c.title))
		b.WriteString("| Rule | Severity | Title | Tags |\n|---|---|---|---|\n")
		for _, r := range rs {
			fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", r.ID, r.ID, r.Severity, r.Title, tagList(r.Tags))
		}
		b.WriteString("\n")
	}
	for _, c := range cats {
		rs := byCat[c.id]
		if len(rs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n", c.title)
		for _, r := range rs {
			fmt.Fprintf(&b, "### %s\n\n", r.ID)
			fmt.Fprintf(&b, "**%s**\n\n", r.Title)
			fmt.Fprintf(&b, "- Severity: %s\n- Category: %s\n", r.Severity, r.Category)
			if len(r.Tags) > 0 {
				fmt.Fprintf(&b, "- Tags: %s\n", tagList(r.Tags))
			}
			if r.CheckSet != nil {
				b.WriteString("- Scope: evaluated across the whole linted set\n")
			}
			fmt.Fprintf(&b, "\n%s\n\n", r.Rationale)
			fmt.Fprintf(&b, "**Remediation:** %s\n\n", r.Remediation)
			if r.Example != "" {
				fmt.Fprintf(&b, "```yaml\n%s```\n\n", r.Example)
			}
			if len(r.References) > 0 {
				b.WriteString("**References:**\n\n")
				for _, ref := range r.References {
					if strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://") {
						fmt.Fprintf(&b, "- <%s>\n", ref)
					} else {
						fmt.Fprintf(&b, "- %s\n", ref)
					}
				}
				b.WriteString("\n")
			}
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func tagList(tags []string) string {
	if len(tags) == 0 {
		return ""
	}
	return "`" + strings.Join(tags, "` `") + "`"
}

// anchor is GitHub's heading anchor for simple titles.
func anchor(title string) string {
	return strings.ReplaceAll(strings.ToLower(title), " ", "-")
}

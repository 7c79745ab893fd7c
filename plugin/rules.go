package plugin

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// RulesOptions is the `rules` command.
type RulesOptions struct {
	genericiooptions.IOStreams
	ID    string
	Tag   string
	infos []finding.RuleInfo
}

// NewCmdRules builds `kubectl secure rules [ID]`.
func NewCmdRules(streams genericiooptions.IOStreams) *cobra.Command {
	o := &RulesOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "rules [RULE-ID]",
		Short: "List the rules, or explain one",
		Example: `  # Every rule
  kubectl secure rules

  # What enforce=restricted would reject
  kubectl secure rules --tag pss:restricted

  # Rationale, remediation and references of one rule
  kubectl secure rules privileged-container`,
		Args: cobra.MaximumNArgs(1),
		RunE: runOptions(o),
	}
	cmd.Flags().StringVar(&o.Tag, "tag", "", "list only rules with this tag (e.g. pss:baseline)")
	return cmd
}

// Complete builds the registry.
func (o *RulesOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.ID = args[0]
	}
	reg, err := rules.NewRegistry()
	if err != nil {
		return fmt.Errorf("building rule registry: %w", err)
	}
	// The registry's rules, plus image-signature, which --verify-images
	// reports from the edge rather than through the engine, and scan's
	// rules about what is running.
	o.infos = append(append(reg.Infos(), pipeline.ImageSignatureInfo), cluster.Rules()...)
	sort.Slice(o.infos, func(i, j int) bool { return o.infos[i].ID < o.infos[j].ID })
	return nil
}

func (o *RulesOptions) get(id string) (finding.RuleInfo, bool) {
	for _, r := range o.infos {
		if r.ID == id {
			return r, true
		}
	}
	return finding.RuleInfo{}, false
}

// Validate checks the rule ID.
func (o *RulesOptions) Validate() error {
	if o.ID == "" {
		return nil
	}
	if _, ok := o.get(o.ID); !ok {
		return usageError("unknown rule %q; 'kubectl secure rules' lists them", o.ID)
	}
	return nil
}

// Run prints the list or one rule.
func (o *RulesOptions) Run() error {
	if o.ID != "" {
		r, _ := o.get(o.ID)
		return o.explain(r)
	}
	tw := tabwriter.NewWriter(o.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tCATEGORY\tTITLE")
	for _, r := range o.infos {
		if o.Tag != "" && !hasTag(r.Tags, o.Tag) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Category, r.Title)
	}
	return tw.Flush()
}

func hasTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

func (o *RulesOptions) explain(r finding.RuleInfo) error {
	w := o.Out
	fmt.Fprintf(w, "%s — %s\n\n", r.ID, r.Title)
	fmt.Fprintf(w, "Severity: %s\nCategory: %s\n", r.Severity, r.Category)
	if len(r.Tags) > 0 {
		tags := append([]string(nil), r.Tags...)
		sort.Strings(tags)
		fmt.Fprintf(w, "Tags:     %s\n", strings.Join(tags, ", "))
	}
	fmt.Fprintf(w, "\nWhy it matters\n  %s\n\nHow to fix\n  %s\n", wrap(r.Rationale), wrap(r.Remediation))
	if r.Example != "" {
		fmt.Fprintf(w, "\nExample\n")
		for _, l := range strings.Split(strings.TrimRight(r.Example, "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	if len(r.References) > 0 {
		fmt.Fprintf(w, "\nReferences\n")
		for _, ref := range r.References {
			fmt.Fprintf(w, "  - %s\n", ref)
		}
	}
	fmt.Fprintf(w, "\nSilence it for one object with the annotation\n    kubectl-secure.io/ignore: %q\n    kubectl-secure.io/ignore-reason: \"…\"\n", r.ID)
	return nil
}

// wrap folds text at about 76 columns with a two-space indent.
func wrap(s string) string {
	var b strings.Builder
	col := 0
	for i, word := range strings.Fields(s) {
		if i > 0 {
			if col+len(word) > 74 {
				b.WriteString("\n  ")
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

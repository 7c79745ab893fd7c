package plugin

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/report"
)

// Shell completion. Cobra provides `kubectl-secure completion
// bash|zsh|fish|powershell` and the hidden `__complete` command the
// scripts call; kubectl ≥ 1.26 completes `kubectl secure …` by running
// kubectl_complete-secure, which calls `kubectl-secure __complete`. This
// file supplies the values: flags complete by name in every command that
// has them, so a new command gets completion by reusing the flag names.

// registerCompletions adds value completion to root and its subcommands.
// A command that registered its own completion for a flag keeps it.
func registerCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, fn := range flagCompletions(c) {
			if c.Flags().Lookup(name) == nil {
				continue
			}
			if _, ok := c.GetFlagCompletionFunc(name); ok {
				continue
			}
			_ = c.RegisterFlagCompletionFunc(name, fn) // cannot fail: the flag exists and has none
		}
		if c.Name() == "rules" && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return completeRuleIDs(ruleInfos(), nil, toComplete)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// flagCompletions is how each flag name completes in command c.
func flagCompletions(c *cobra.Command) map[string]cobra.CompletionFunc {
	severities := severityNames()
	outputs := report.Formats()
	rules := ruleInfos()
	switch c.Name() {
	case "version", "verify":
		outputs = []string{"text", "json"}
	case "scan":
		// Rules whose findings the cluster source makes itself.
		rules = append(rules, cluster.Rules()...)
	}
	return map[string]cobra.CompletionFunc{
		"enable":       completeRuleIDList(rules),
		"disable":      completeRuleIDList(rules),
		"tag":          completeRuleTags,
		"output":       completeValues(outputs...),
		"fail-on":      completeValues(append(severities, "none")...),
		"min-severity": completeValues(severities...),
		"color":        completeValues("auto", "always", "never"),
	}
}

// completeValues offers the values starting with what is typed.
func completeValues(values ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func severityNames() []string {
	var names []string
	for s := finding.Low; s <= finding.Critical; s++ {
		names = append(names, s.String())
	}
	return names
}

// ruleInfos lists every rule `rules` lists.
func ruleInfos() []finding.RuleInfo {
	o := &RulesOptions{}
	if err := o.Complete(nil); err != nil {
		return nil
	}
	return o.infos
}

// completeRuleIDs offers the IDs of rules starting with toComplete,
// titles as descriptions, leaving out those in skip.
func completeRuleIDs(rules []finding.RuleInfo, skip []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, r := range rules {
		if strings.HasPrefix(r.ID, toComplete) && !slices.Contains(skip, r.ID) {
			out = append(out, cobra.CompletionWithDesc(r.ID, r.Title))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeRuleIDList completes the last element of a comma-separated
// list of rule IDs (--enable a,b), keeping what comes before it.
func completeRuleIDList(rules []finding.RuleInfo) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		i := strings.LastIndexByte(toComplete, ',')
		if i < 0 {
			return completeRuleIDs(rules, nil, toComplete)
		}
		prefix := toComplete[:i+1]
		ids, dir := completeRuleIDs(rules, strings.Split(toComplete[:i], ","), toComplete[i+1:])
		for j := range ids {
			// A description would be shown for the whole list; leave it out.
			id, _, _ := strings.Cut(ids[j], "\t")
			ids[j] = prefix + id
		}
		return ids, dir | cobra.ShellCompDirectiveNoSpace
	}
}

func completeRuleTags(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var tags []string
	for _, r := range ruleInfos() {
		tags = append(tags, r.Tags...)
	}
	slices.Sort(tags)
	return completeValues(slices.Compact(tags)...)(c, args, toComplete)
}

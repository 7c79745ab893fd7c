package plugin

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
	"github.com/kubectl-secure/kubectl-secure/internal/report"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// complete runs cobra's hidden __complete command, as the shell scripts
// and kubectl_complete-secure do, and returns the values offered (without
// descriptions) and the directive.
func complete(t *testing.T, root *cobra.Command, args ...string) ([]string, cobra.ShellCompDirective) {
	t.Helper()
	if root == nil {
		root = newRootCmd(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, func(string) string { return "" })
	}
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{cobra.ShellCompRequestCmd}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("__complete %q: %v\n%s", args, err, errOut.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	last := lines[len(lines)-1]
	d, err := strconv.Atoi(strings.TrimPrefix(last, ":"))
	if !strings.HasPrefix(last, ":") || err != nil {
		t.Fatalf("__complete %q: no directive in %q", args, out.String())
	}
	var values []string
	for _, l := range lines[:len(lines)-1] {
		v, _, _ := strings.Cut(l, "\t")
		values = append(values, v)
	}
	return values, cobra.ShellCompDirective(d)
}

// ruleIDs are the IDs `rules` knows, straight from the registry.
func ruleIDs(t *testing.T, prefix string) []string {
	t.Helper()
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range append(append(reg.Infos(), pipeline.ImageSignatureInfo), cluster.Rules()...) {
		if strings.HasPrefix(r.ID, prefix) {
			ids = append(ids, r.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func TestCompleteRuleIDs(t *testing.T) {
	all := ruleIDs(t, "")
	if len(all) < 60 {
		t.Fatalf("registry has %d rules", len(all))
	}
	for _, args := range [][]string{
		{"lint", "--enable", ""},
		{"lint", "--disable", ""},
		{"lint", "--disable="},
		{"rules", ""},
	} {
		got, dir := complete(t, nil, args...)
		if !slices.Equal(sorted(got), all) || dir != cobra.ShellCompDirectiveNoFileComp {
			t.Errorf("%q: %d values %v, directive %d; want the %d rule IDs, no files", args, len(got), got, dir, len(all))
		}
	}

	want := ruleIDs(t, "host-")
	if len(want) == 0 {
		t.Fatal("no rule starts with host-")
	}
	if got, _ := complete(t, nil, "lint", "--enable", "host-"); !slices.Equal(sorted(got), want) {
		t.Errorf("--enable host-: %v, want %v", got, want)
	}

	// The last element of a list completes; listed IDs are not offered again.
	got, dir := complete(t, nil, "lint", "--enable", "privileged-container,host-")
	var wantList []string
	for _, id := range want {
		wantList = append(wantList, "privileged-container,"+id)
	}
	if !slices.Equal(sorted(got), wantList) || dir&cobra.ShellCompDirectiveNoSpace == 0 {
		t.Errorf("list: %v (directive %d), want %v without a trailing space", got, dir, wantList)
	}
	got, _ = complete(t, nil, "lint", "--enable", "privileged-container,")
	if slices.Contains(got, "privileged-container,privileged-container") || len(got) != len(all)-1 {
		t.Errorf("an ID already listed is offered again: %d of %d", len(got), len(all))
	}

	// scan also knows the rules its cluster source reports.
	wantScan := all
	for _, r := range cluster.Rules() {
		wantScan = append(wantScan, r.ID)
	}
	slices.Sort(wantScan)
	if got, _ := complete(t, nil, "scan", "--disable", ""); !slices.Equal(sorted(got), wantScan) || len(wantScan) == len(all) {
		t.Errorf("scan --disable: %v, want %v", got, wantScan)
	}

	// `rules` takes one ID.
	if got, _ := complete(t, nil, "rules", "privileged-container", ""); len(got) != 0 {
		t.Errorf("rules with an ID offers more: %v", got)
	}
	if got, _ := complete(t, nil, "rules", "--tag", "pss:"); !slices.Contains(got, "pss:baseline") || !slices.Contains(got, "pss:restricted") {
		t.Errorf("--tag pss: %v", got)
	}
}

func TestCompleteFlagValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"lint", "-o", ""}, report.Formats()},
		{[]string{"lint", "--output", "s"}, []string{"sarif"}},
		{[]string{"version", "-o", ""}, []string{"text", "json"}},
		{[]string{"verify", "-o", ""}, []string{"text", "json"}},
		{[]string{"lint", "--fail-on", ""}, []string{"low", "medium", "high", "critical", "none"}},
		{[]string{"lint", "--min-severity", ""}, []string{"low", "medium", "high", "critical"}},
		{[]string{"lint", "--color", ""}, []string{"auto", "always", "never"}},
		{[]string{"scan", "-o", ""}, report.Formats()},
		{[]string{"scan", "--fail-on", "h"}, []string{"high"}},
	} {
		got, dir := complete(t, nil, c.args...)
		if !slices.Equal(got, c.want) || dir != cobra.ShellCompDirectiveNoFileComp {
			t.Errorf("%q: %v (directive %d), want %v", c.args, got, dir, c.want)
		}
	}
	// Inputs of lint are files.
	if _, dir := complete(t, nil, "lint", ""); dir&cobra.ShellCompDirectiveNoFileComp != 0 {
		t.Errorf("lint PATH does not complete files (directive %d)", dir)
	}
	// Subcommands, including cobra's completion command.
	got, _ := complete(t, nil, "")
	for _, want := range []string{"completion", "lint", "rules", "verify", "version"} {
		if !slices.Contains(got, want) {
			t.Errorf("commands %v lack %s", got, want)
		}
	}
}

// `completion SHELL` prints a script that calls back into __complete.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		out, errOut, code := run(t, "", "", nil, "completion", shell)
		if code != 0 || !strings.Contains(out, "__complete") || !strings.Contains(out, "kubectl-secure") {
			t.Errorf("completion %s: code %d, stderr %q, %d bytes", shell, code, errOut, len(out))
		}
	}
}

package plugin

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/fix"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
)

// FixFlags is lint's --fix.
type FixFlags struct {
	Fix bool
}

// AddFlags registers --fix.
func (f *FixFlags) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&f.Fix, "fix", false, "rewrite files in place where a one-line change fixes a finding (privileged: true → false, …; see docs/fix.md), print each change on standard error, then report what remains")
}

// Validate refuses --fix on standard input: there is no file to rewrite.
func (f *FixFlags) Validate(paths []string) error {
	if !f.Fix {
		return nil
	}
	for _, p := range paths {
		if p == "-" {
			return usageError("--fix rewrites files; it cannot be used with - (standard input)")
		}
	}
	return nil
}

// fixThenFinish applies the one-line fixes of out's findings, prints
// each change on stderr, lints again (run) so that the report and the exit
// code say what remains, and finishes as lint does. A fix that could not
// be written (the file changed meanwhile, a read-only file) is printed
// and makes the exit code 2, after the report.
func (o *LintOptions) fixThenFinish(out *pipeline.Outcome, run func() (*pipeline.Outcome, error)) error {
	n, fixErr := applyFixes(o.ErrOut, out.Result.Findings)
	if fixErr != nil {
		fmt.Fprintln(o.ErrOut, fixErr)
	}
	if n > 0 {
		again, err := run()
		if err != nil {
			return runError(err)
		}
		out = again
	}
	err := finish(o.IOStreams, o.getenv, o.Output, o.policy, out)
	if fixErr != nil && ExitCode(err) < ExitCodeError {
		return &ExitError{Code: ExitCodeError, Err: fmt.Errorf("some fixes could not be written"), quiet: true}
	}
	return err
}

// applyFixes writes the edits of findings to disk and prints them.
func applyFixes(errOut io.Writer, findings []finding.Finding) (int, error) {
	var edits []fix.Edit
	read := fix.Cached(os.ReadFile)
	for _, f := range findings {
		if e, ok := fix.For(f, read); ok {
			edits = append(edits, e)
		}
	}
	applied, err := fix.Apply(edits, "")
	for _, e := range applied {
		fmt.Fprintln(errOut, e.String())
	}
	if len(applied) > 0 {
		fmt.Fprintf(errOut, "%d fix(es) applied; linting again\n", len(applied))
	}
	return len(applied), err
}

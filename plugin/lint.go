package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster"
	"github.com/kubectl-secure/kubectl-secure/internal/config"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
	"github.com/kubectl-secure/kubectl-secure/internal/render"
)

const lintExample = `  # Lint a directory of manifests
  kubectl secure lint deploy/

  # Lint what kustomize would build, from stdin
  kustomize build overlays/prod | kubectl secure lint -

  # SARIF for GitHub code scanning, failing only on critical findings
  kubectl secure lint -o sarif --output-file results.sarif --fail-on critical .

  # Adopt on a legacy repository: record today's findings, then gate only new ones
  kubectl secure lint --write-baseline .kubectl-secure-baseline.json .
  kubectl secure lint --baseline .kubectl-secure-baseline.json .

  # Rewrite what a one-line change fixes (privileged: true → false, …), then report the rest
  kubectl secure lint --fix .`

// LintOptions is the `lint` command: its source of objects is files,
// kustomizations and charts; everything after that is the shared pipeline.
type LintOptions struct {
	Output OutputFlags
	Policy PolicyFlags
	Load   LoadFlags
	Render RenderFlags
	Verify VerifyImagesFlags
	Fix    FixFlags

	Paths []string

	genericiooptions.IOStreams
	getenv Env
	now    func() time.Time

	// Completed state.
	policy *pipeline.Policy
	render render.Options
}

// NewLintOptions returns options with defaults.
func NewLintOptions(streams genericiooptions.IOStreams, getenv Env) *LintOptions {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &LintOptions{IOStreams: streams, getenv: getenv, now: time.Now}
}

// NewCmdLint builds `kubectl secure lint`.
func NewCmdLint(streams genericiooptions.IOStreams, getenv Env) *cobra.Command {
	o := NewLintOptions(streams, getenv)
	cmd := &cobra.Command{
		Use:     "lint PATH... | -",
		Short:   "Lint manifests for security problems",
		Long:    "Lint Kubernetes manifests (files, directories, or - for standard input) and report\nfindings with the file, line and column of the field to change.\n\nExit codes: 0 nothing at or above --fail-on; 1 findings at or above it;\n2 an input could not be read or parsed, or a usage error (everything else\nis still linted and reported).",
		Example: lintExample,
		RunE:    runOptions(o),
	}
	o.Output.AddFlags(cmd.Flags())
	o.Policy.AddFlags(cmd.Flags())
	o.Load.AddFlags(cmd.Flags())
	o.Render.AddFlags(cmd.Flags())
	o.Verify.AddFlags(cmd.Flags())
	o.Fix.AddFlags(cmd.Flags())
	return cmd
}

// Complete loads the config file and builds the policy.
func (o *LintOptions) Complete(args []string) error {
	o.Paths = args
	p, err := completePolicy(&o.Policy, o.getenv)
	if err != nil {
		return err
	}
	o.policy = p
	return nil
}

// Validate checks flags and arguments.
func (o *LintOptions) Validate() error {
	if len(o.Paths) == 0 {
		return usageError("lint needs at least one path, or - for standard input\nSee 'kubectl secure lint --help'.")
	}
	stdin := 0
	for _, p := range o.Paths {
		if p == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usageError("- (standard input) can be given only once")
	}
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if err := o.Fix.Validate(o.Paths); err != nil {
		return err
	}
	if o.Load.MaxFileSize <= 0 {
		return usageError("--max-file-size must be positive")
	}
	ropt, err := o.Render.Options()
	if err == nil {
		err = o.Render.Resolve(&ropt, o.policy, o.Policy.KubernetesVersion)
	}
	if err != nil {
		return usageError("%v", err)
	}
	for _, w := range o.Render.Deprecations() {
		fmt.Fprintln(o.ErrOut, "Warning:", w)
	}
	o.render = ropt
	return o.Verify.Validate(o.policy)
}

// Source is what lint reads: files, directories and stdin, with every
// kustomization and chart among them rendered.
func (o *LintOptions) Source() pipeline.Source {
	return pipeline.SourceFunc(func(_ context.Context, visit func(*manifest.Object)) *manifest.Result {
		ropt := o.render
		ropt.Disabled = o.Load.NoRender
		ropt.Manifest = manifest.Options{MaxFileSize: o.Load.MaxFileSize, Stdin: o.In, Visit: visit}
		if o.Output.Verbose {
			ropt.Log = newOnceLines(o.ErrOut)
		}
		ropt.Abort = abortRun(o.ErrOut)
		return render.Load(o.Paths, ropt)
	})
}

// Run lints and reports.
func (o *LintOptions) Run() error {
	defer governHeap(defaultHeapTarget, o.getenv)()
	run := func() (*pipeline.Outcome, error) {
		return pipeline.Run(context.Background(), o.Source(), o.policy, pipeline.Options{
			Verify:        o.Verify.Options(),
			WriteBaseline: o.Policy.WriteBaseline,
			ToolVersion:   version,
			Now:           o.now,
		})
	}
	out, err := run()
	if err != nil {
		return runError(err)
	}
	if o.Fix.Fix {
		return o.fixThenFinish(out, run)
	}
	return finish(o.IOStreams, o.getenv, o.Output, o.policy, out)
}

// finish prints a finished run and picks the exit status: input errors on
// stderr, the report, then 2 for input errors, 1 for failing findings.
func finish(streams genericiooptions.IOStreams, getenv Env, output OutputFlags, policy *pipeline.Policy, out *pipeline.Outcome) error {
	res := out.Result
	for _, e := range res.Summary.Errors {
		fmt.Fprintln(streams.ErrOut, e.Error())
	}
	if output.Verbose {
		for _, s := range out.Skipped {
			fmt.Fprintf(streams.ErrOut, "%s:%d: skipped document %d: %s\n", s.File, s.Line, s.Doc+1, s.Reason)
		}
	}
	if err := output.Output().Write(streams.Out, res, getenv); err != nil {
		return &ExitError{Code: ExitCodeError, Err: err}
	}
	switch {
	case len(res.Summary.Errors) > 0:
		return &ExitError{Code: ExitCodeError, Err: fmt.Errorf("%d input error(s)", len(res.Summary.Errors)), quiet: true}
	case out.WroteBaseline:
		return nil
	case policy.Failing(res):
		return &ExitError{Code: ExitCodeFindings}
	}
	return nil
}

// completePolicy reads the config file (flag, env, or discovered) and
// validates the policy flags against it; extra documents rules whose
// findings the source makes itself (scan's). The config file is shared by
// every command, so it may also name the rules only scan has.
func completePolicy(f *PolicyFlags, getenv Env, extra ...finding.RuleInfo) (*pipeline.Policy, error) {
	configOnly := cluster.Rules()
	reg, err := pipeline.NewRegistry()
	if err != nil {
		return nil, err
	}
	var cfg *config.File
	if !f.NoConfig {
		file := f.ConfigFile
		if file == "" {
			file = getenv(EnvConfig)
		}
		if cfg, err = pipeline.LoadConfig(file, ".", reg, append(extra, configOnly...)...); err != nil {
			return nil, runError(err)
		}
	}
	in := f.Input()
	in.ExtraRules = extra
	in.ConfigOnlyRules = configOnly
	p, err := pipeline.NewPolicy(reg, cfg, in)
	return p, runError(err)
}

// abortRun ends the process with exit 2 after saying why: the one exit
// outside main, for a render that cannot be stopped and would otherwise
// exhaust the machine's memory (the error names it).
func abortRun(errOut io.Writer) func(error) {
	return func(err error) {
		fmt.Fprintf(errOut, "Error: %v\n", err)
		os.Exit(ExitCodeError)
	}
}

// runError maps pipeline errors to exit errors: usage errors and runtime
// failures both exit 2.
func runError(err error) error {
	if err == nil {
		return nil
	}
	var ue *pipeline.UsageError
	if errors.As(err, &ue) {
		return usageError("%v", ue.Err)
	}
	return &ExitError{Code: ExitCodeError, Err: err}
}

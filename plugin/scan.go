package plugin

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
)

const scanExample = `  # Scan every namespace the current context may read
  kubectl secure scan

  # One namespace, as another context, JSON for a nightly job
  kubectl secure scan --context prod -n shop -o json --output-file scan.json

  # Fail unless every resource in every namespace could be read
  kubectl secure scan -A --require-full-coverage

  # Verify the signatures of the image digests that are running
  kubectl secure scan --verify-images --config .kubectl-secure.yaml`

// ScanOptions is the `scan` command: its source of objects is a live
// cluster; everything after that is the shared pipeline.
type ScanOptions struct {
	Output OutputFlags
	Policy PolicyFlags
	Verify VerifyImagesFlags
	// Kube holds every kubectl connection flag (--kubeconfig, --context,
	// --token, --as, -n, …).
	Kube *genericclioptions.ConfigFlags

	AllNamespaces       bool
	RequireFullCoverage bool
	Quiet               bool

	genericiooptions.IOStreams
	getenv Env
	now    func() time.Time

	// Completed state.
	policy *pipeline.Policy
	source *cluster.Source
}

// NewScanOptions returns options with defaults.
func NewScanOptions(streams genericiooptions.IOStreams, getenv Env) *ScanOptions {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &ScanOptions{Kube: genericclioptions.NewConfigFlags(true), IOStreams: streams, getenv: getenv, now: time.Now}
}

// NewCmdScan builds `kubectl secure scan`.
func NewCmdScan(streams genericiooptions.IOStreams, getenv Env) *cobra.Command {
	o := NewScanOptions(streams, getenv)
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan a live cluster for security problems (read-only)",
		Long: "Scan a running cluster with the same rules as lint, read-only: findings on the owning\n" +
			"workloads (not on each pod), the images really running, and exactly what could not be\n" +
			"read (\"not evaluated\", never \"none found\").\n\n" +
			"Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 the cluster\n" +
			"could not be read at all (or, with --require-full-coverage, not completely), or a usage error.",
		Example: scanExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	o.Kube.AddFlags(fs)
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "scan every namespace the caller may read (the default unless -n is given)")
	fs.BoolVar(&o.RequireFullCoverage, "require-full-coverage", false, "exit 2 when anything could not be read (forbidden or failed), even if nothing else is wrong")
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress on standard error")
	o.Output.AddFlags(fs)
	o.Policy.AddFlags(fs)
	o.Verify.AddFlags(fs)
	o.registerCompletions(cmd)
	return cmd
}

// Complete builds the policy and the cluster source from the flags.
func (o *ScanOptions) Complete() error {
	p, err := completePolicy(&o.Policy, o.getenv, cluster.Rules()...)
	if err != nil {
		return err
	}
	o.policy = p
	cfg, err := o.Kube.ToRESTConfig()
	if err != nil {
		return usageError("%v", err)
	}
	client, err := cluster.New(cfg)
	if err != nil {
		return &ExitError{Code: ExitCodeError, Err: err}
	}
	ns, explicit, err := o.Kube.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return usageError("%v", err)
	}
	var namespaces cluster.Namespaces
	switch {
	case explicit && !o.AllNamespaces:
		namespaces.Only = []string{ns}
	case ns != "":
		// Where to look when the caller may not list namespaces.
		namespaces.Fallback = []string{ns}
	}
	o.source = &cluster.Source{
		Client:     client,
		Namespaces: namespaces,
		Server:     cfg.Host,
		Rules:      p.RuleInfos(o.Verify.Enabled),
		Kubelet:    true,
	}
	if !o.Quiet {
		if f, ok := o.ErrOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			o.source.Progress = o.ErrOut
		}
	}
	return nil
}

// Validate checks the flags.
func (o *ScanOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	return o.Verify.Validate(o.policy)
}

// Run scans and reports.
func (o *ScanOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	defer governHeap(defaultHeapTarget, o.getenv)()
	out, err := pipeline.Run(ctx, o.source, o.policy, pipeline.Options{
		Verify:        o.Verify.Options(),
		WriteBaseline: o.Policy.WriteBaseline,
		ToolVersion:   version,
		Now:           o.now,
		PodSecurity:   true,
	})
	if err != nil {
		return runError(err)
	}
	ferr := finish(o.IOStreams, o.getenv, o.Output, o.policy, out)
	if ExitCode(ferr) == ExitCodeError {
		return ferr
	}
	// Coverage decides before findings do: what could not be read is
	// never a pass.
	notEval := out.Result.Summary.NotEvaluated
	switch {
	case o.source.ReadNothing():
		return &ExitError{Code: ExitCodeError, Err: fmt.Errorf("nothing could be read from the cluster (%d scopes not evaluated)", len(notEval))}
	case o.RequireFullCoverage && len(notEval) > 0:
		return &ExitError{Code: ExitCodeError, Err: fmt.Errorf("--require-full-coverage: %d scopes could not be read (see \"not evaluated\" in the report)", len(notEval))}
	}
	return ferr
}

// registerCompletions completes namespaces from the cluster, and
// contexts, clusters and users from the kubeconfig.
func (o *ScanOptions) registerCompletions(cmd *cobra.Command) {
	registerKubeconfigCompletions(cmd, o.Kube)
	_ = cmd.RegisterFlagCompletionFunc("namespace", func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		cfg, err := o.Kube.ToRESTConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := cluster.New(cfg)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		names, _ := c.NamespaceNames(ctx)
		var out []string
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

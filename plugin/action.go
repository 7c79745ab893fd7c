package plugin

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/sethvargo/go-githubactions"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/action"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
)

// NewCmdAction builds the hidden `kubectl-secure action`, which action.yml
// runs: lint's source and pipeline, then the GitHub Action's outputs.
func NewCmdAction(streams genericiooptions.IOStreams, getenv Env) *cobra.Command {
	return &cobra.Command{
		Use:    "action",
		Short:  "Run as the GitHub Action (reads INPUT_* and the workflow context)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAction(cmd.Context(), streams, getenv, nil)
		},
	}
}

// runAction lints the workspace as `lint` would with the flags the inputs
// stand for and publishes the outcome. rt, when set, is a runtime tests
// tune (transport, limits); its GHA and Getenv are filled here.
func runAction(ctx context.Context, streams genericiooptions.IOStreams, getenv Env, rt *action.Runtime) error {
	if ctx == nil {
		ctx = context.Background()
	}
	gha := githubactions.New(githubactions.WithWriter(streams.Out), githubactions.WithGetenv(githubactions.GetenvFunc(getenv)))
	if rt == nil {
		rt = &action.Runtime{}
	}
	rt.GHA, rt.Getenv = gha, getenv
	in, err := action.ReadInputs(gha)
	if in.Token != "" {
		gha.AddMask(in.Token)
	}
	if err != nil {
		return actionUsage(gha, err)
	}
	if !in.VerifyImages && (in.TUFMirror != "" || in.TUFRoot != "") {
		gha.Warningf("kubectl-secure: tuf-mirror and tuf-root take effect only with verify-images: true")
	}

	o := NewLintOptions(streams, getenv)
	fs := pflag.NewFlagSet("action", pflag.ContinueOnError)
	o.Output.AddFlags(fs)
	o.Policy.AddFlags(fs)
	o.Load.AddFlags(fs)
	o.Render.AddFlags(fs)
	o.Verify.AddFlags(fs)
	if err := fs.Parse(in.LintArgs()); err != nil {
		return actionUsage(gha, err)
	}
	if err := o.Complete(fs.Args()); err != nil {
		return actionUsage(gha, err)
	}
	if err := o.Validate(); err != nil {
		return actionUsage(gha, err)
	}
	defer governHeap(defaultHeapTarget, getenv)()
	out, err := pipeline.Run(ctx, o.Source(), o.policy, pipeline.Options{Verify: o.Verify.Options(), ToolVersion: version})
	if err != nil {
		return actionUsage(gha, runError(err))
	}
	// The log gets lint's own report and exit status; GitHub gets the rest.
	// Text from manifests is in the report: the runner must not take a
	// line of it for a workflow command.
	stop := make([]byte, 16)
	rand.Read(stop)
	resume := hex.EncodeToString(stop)
	gha.IssueCommand(&githubactions.Command{Name: "stop-commands", Message: resume})
	result := finish(streams, getenv, o.Output, o.policy, out)
	gha.IssueCommand(&githubactions.Command{Name: resume})
	if _, err := rt.Publish(ctx, in, out.Result, ExitCode(result)); err != nil {
		gha.Errorf("kubectl-secure: %v", err)
		if result == nil {
			return &ExitError{Code: ExitCodeError, Err: err}
		}
	}
	return result
}

// actionUsage reports a bad input or setup: an error annotation, the
// exit-code output, exit 2.
func actionUsage(gha *githubactions.Action, err error) error {
	gha.Errorf("kubectl-secure: %v", err)
	gha.SetOutput(action.OutExitCode, "2")
	return &ExitError{Code: ExitCodeError, Err: err, quiet: true}
}

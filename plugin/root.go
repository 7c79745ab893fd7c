// Package plugin holds the cobra commands of `kubectl secure`. Every
// command follows kubectl's Options pattern (Complete → Validate → Run)
// with injected IO streams, so each is testable without a terminal. Exit
// codes travel up as *ExitError; main is the only place that exits.
package plugin

import (
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Build information, set with -ldflags "-X .../plugin.version=…".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

// Env is the process environment as the commands see it; tests inject
// their own.
type Env func(string) string

// NewRootCmd builds `kubectl secure` and its subcommands.
func NewRootCmd(streams genericiooptions.IOStreams) *cobra.Command {
	return newRootCmd(streams, os.Getenv)
}

func newRootCmd(streams genericiooptions.IOStreams, getenv Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubectl-secure",
		Short: "Find Kubernetes security problems before merge and in running clusters",
		Long: `kubectl secure lints Kubernetes manifests — plain YAML, kustomize overlays and
Helm charts — for Pod Security Standards, PodSecurityPolicy controls, RBAC
risk, secrets, images and more. Every finding points at the file, line and
column of the field to change.`,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl secure",
		},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v\nSee '%s --help'.", err, c.CommandPath())
	})
	cmd.AddCommand(
		NewCmdLint(streams, getenv),
		NewCmdScan(streams, getenv),
		NewCmdRules(streams),
		NewCmdVerify(streams),
		NewCmdVersion(streams),
		NewCmdWhoCan(streams, getenv),
		NewCmdAction(streams, getenv),
	)
	registerCompletions(cmd)
	return cmd
}

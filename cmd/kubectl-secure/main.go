// Command kubectl-secure is the kubectl plugin `kubectl secure` and the
// GitHub Action entry point. It only wires streams and picks the exit code.
package main

import (
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/plugin"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := plugin.NewRootCmd(streams).Execute()
	code := plugin.ExitCode(err)
	if err != nil && err.Error() != "" && !plugin.Quiet(err) {
		fmt.Fprintln(os.Stderr, "Error:", err)
	}
	os.Exit(code)
}

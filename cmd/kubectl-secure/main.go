// Command kubectl-secure is the kubectl plugin `kubectl secure` and the
// GitHub Action entry point. It only wires streams and picks the exit code.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/plugin"
)

// memoryLimit is a soft heap limit: large inputs trade a little GC time
// for a bounded footprint. GOMEMLIMIT overrides it.
const memoryLimit = 160 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := plugin.NewRootCmd(streams).Execute()
	code := plugin.ExitCode(err)
	if err != nil && err.Error() != "" && !plugin.Quiet(err) {
		fmt.Fprintln(os.Stderr, "Error:", err)
	}
	os.Exit(code)
}

// Package toolstest finds the external programs that integration tests
// drive for real (cosign, kube-apiserver, etcd, act, krew, …). The Makefile
// builds them under $TOOLS_CACHE and passes each path in an environment
// variable. A test whose tool is missing is skipped when run by hand, and
// fails under `make test` (KUBECTL_SECURE_REQUIRE_TOOLS=1) or in CI, so a
// missing install step can never turn into a silently green run.
package toolstest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireEnv is set by `make test`: missing tools fail the test.
const RequireEnv = "KUBECTL_SECURE_REQUIRE_TOOLS"

// Required reports whether missing tools must fail rather than skip.
func Required() bool {
	return os.Getenv(RequireEnv) != "" || os.Getenv("CI") != ""
}

// Path returns the executable named by the environment variable env, or
// else the first of fallbacks that exists (a bare name is looked up in
// PATH). makeTarget names what builds it, for the message.
func Path(tb testing.TB, env, makeTarget string, fallbacks ...string) string {
	tb.Helper()
	cands := fallbacks
	if p := os.Getenv(env); p != "" {
		cands = append([]string{p}, fallbacks...)
	}
	for _, c := range cands {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	Missing(tb, fmt.Sprintf("%s not found (set %s, or run `make %s`)", env, env, makeTarget))
	return ""
}

// Missing skips the test, or fails it when tools are required.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if Required() {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

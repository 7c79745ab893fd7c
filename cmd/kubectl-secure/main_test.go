package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildBinary builds kubectl-secure into a fresh directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "kubectl-secure")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return dir
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// The binary is a kubectl plugin: on PATH, kubectl finds it as
// `kubectl secure`, and main turns typed errors into exit codes.
func TestKubectlPlugin(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kubectl not found in CI (make kubectl installs it)")
		}
		t.Skip("kubectl not installed")
	}
	dir := buildBinary(t)
	env := append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "NO_COLOR=1", "KUBECONFIG="+filepath.Join(dir, "none"))
	runKubectl := func(args ...string) (string, string, int) {
		cmd := exec.Command(kubectl, args...)
		cmd.Env = env
		cmd.Dir = "../.."
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), exitCode(err)
	}
	out, _, code := runKubectl("plugin", "list")
	if !strings.Contains(out, filepath.Join(dir, "kubectl-secure")) {
		t.Errorf("kubectl plugin list (code %d) does not list kubectl-secure:\n%s", code, out)
	}
	out, _, code = runKubectl("secure", "version")
	if code != 0 || !strings.HasPrefix(out, "kubectl-secure ") {
		t.Errorf("kubectl secure version: code %d, %q", code, out)
	}
	out, _, code = runKubectl("secure", "lint", "--help")
	if code != 0 || !strings.Contains(out, "kubectl secure lint PATH") {
		t.Errorf("help: code %d\n%s", code, out)
	}
	out, _, code = runKubectl("secure", "lint", "--no-config", "testdata/demo/web.yaml")
	if code != 1 || !strings.Contains(out, "testdata/demo/web.yaml:25:13: critical privileged-container") {
		t.Errorf("lint demo: code %d\n%s", code, out)
	}
	_, errOut, code := runKubectl("secure", "lint", "--no-config", "--fail-on", "bogus", "testdata/demo")
	if code != 2 || !strings.Contains(errOut, "--fail-on") {
		t.Errorf("usage error: code %d %q", code, errOut)
	}
	_, errOut, code = runKubectl("secure", "lint", "--no-config", "does-not-exist.yaml")
	if code != 2 || !strings.Contains(errOut, "does-not-exist.yaml: no such file or directory") {
		t.Errorf("missing input: code %d %q", code, errOut)
	}
}

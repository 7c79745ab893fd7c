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

// A chart whose template allocates without bound ends the run with exit 2
// and an error naming it, at --render-max-memory, instead of exhausting
// the machine (Helm's engine cannot be interrupted).
func TestRenderMemoryLimitEndsTheRun(t *testing.T) {
	bin := filepath.Join(buildBinary(t), "kubectl-secure")
	dir := t.TempDir()
	for name, content := range map[string]string{
		"bomb/Chart.yaml":        "apiVersion: v2\nname: bomb\nversion: 0.1.0\n",
		"bomb/templates/cm.yaml": "{{- range until 100000000 }}{{ end }}\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "lint", "--no-config", "--render-max-memory", "256Mi", "bomb")
	cmd.Dir = dir
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err := cmd.Run()
	if code := exitCode(err); code != 2 || !strings.Contains(errOut.String(), "rendering chart bomb: stopped at") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut.String())
	}
}

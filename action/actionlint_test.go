package action

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/toolstest"
)

// actionlint checks the workflow that uses this action, and through it
// action.yml: the inputs a workflow passes must be ones the action
// declares, with the required ones given.
func TestActionlintSelfTest(t *testing.T) {
	bin := toolstest.Path(t, "KUBECTL_SECURE_ACTIONLINT", "actionlint")
	root, _ := filepath.Abs("..")
	wf := filepath.Join(".github", "workflows", "self-test.yml")
	if _, err := os.Stat(filepath.Join(root, wf)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-no-color", wf)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("actionlint %s: %v\n%s", wf, err, out)
	}
	// And it would catch a wrong input name (in a scratch project, so
	// that nothing else sees the probe).
	tmp := t.TempDir()
	b, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(tmp, ".git"), 0o755)
	os.MkdirAll(filepath.Join(tmp, ".github", "workflows"), 0o755)
	os.WriteFile(filepath.Join(tmp, "action.yml"), b, 0o644)
	probe := filepath.Join(".github", "workflows", "probe.yml")
	os.WriteFile(filepath.Join(tmp, probe), []byte("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./\n        with:\n          max-comment: 3\n"), 0o644)
	cmd = exec.Command(bin, "-no-color", probe)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("actionlint accepted an undeclared input:\n%s", out)
	} else if !strings.Contains(string(out), `input "max-comment" is not defined`) {
		t.Errorf("actionlint failed for another reason:\n%s", out)
	}
}

// The install step's script passes shellcheck (actionlint checks only
// workflows' inline scripts).
func TestInstallScriptShellcheck(t *testing.T) {
	bin := toolstest.Path(t, "KUBECTL_SECURE_SHELLCHECK", "shellcheck", "shellcheck")
	if out, err := exec.Command(bin, "install.sh").CombinedOutput(); err != nil {
		t.Errorf("shellcheck install.sh: %v\n%s", err, out)
	}
}

package action

import (
	"os"
	"os/exec"
	"path/filepath"
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
	// And it would catch a wrong input name.
	bad := filepath.Join(root, ".github", "workflows", "zz-actionlint-probe.yml")
	probe := "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./\n        with:\n          max-comment: 3\n"
	if err := os.WriteFile(bad, []byte(probe), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(bad)
	cmd = exec.Command(bin, "-no-color", bad)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("actionlint accepted an undeclared input:\n%s", out)
	}
}

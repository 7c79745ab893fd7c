package release

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/toolstest"
)

// actionlint runs actionlint (with shellcheck on run: scripts) on files
// and returns its report and whether it found nothing.
func actionlint(t *testing.T, dir string, files ...string) (string, bool) {
	t.Helper()
	bin := toolstest.Path(t, "KUBECTL_SECURE_ACTIONLINT", "actionlint")
	shellcheck := toolstest.Path(t, "KUBECTL_SECURE_SHELLCHECK", "shellcheck", "shellcheck")
	cmd := exec.Command(bin, append([]string{"-no-color", "-oneline", "-shellcheck=" + shellcheck, "-pyflakes="}, files...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("actionlint: %v\n%s", err, out) // 1 is "problems found"; anything else is a failure to run
	}
	return string(out), err == nil
}

// Every workflow of the repository passes actionlint, release.yml and
// ci.yml among them.
func TestWorkflows(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, want := range []string{"ci.yml", "release.yml"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
			t.Errorf(".github/workflows lacks %s (has %v)", want, names)
		}
	}
	if out, ok := actionlint(t, root, files...); !ok {
		t.Errorf("actionlint:\n%s", out)
	}

	// The check can fail: a broken workflow is reported, shell problems
	// included.
	out, ok := actionlint(t, ".", filepath.Join("testdata", "broken-workflow.yml"))
	for _, want := range []string{`input "subject-paths" is not defined`, "SC2086", "potentially untrusted"} {
		if ok || !strings.Contains(out, want) {
			t.Errorf("broken workflow: report lacks %q:\n%s", want, out)
		}
	}
}

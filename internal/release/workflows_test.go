package release

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

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

// The README's verification commands check what release.yml produces: a
// cosign bundle of checksums.txt signed by that workflow's identity at the
// tag, published with the archives.
func TestReleaseSigningMatchesReadme(t *testing.T) {
	root := repoRoot(t)
	raw := mustRead(t, filepath.Join(root, ".github", "workflows", "release.yml"))
	var wf struct {
		Jobs map[string]struct {
			Permissions map[string]string `json:"permissions"`
			Steps       []struct {
				Uses string            `json:"uses"`
				Run  string            `json:"run"`
				With map[string]string `json:"with"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "tags: ['v*']") {
		t.Error("release.yml does not run on v* tags")
	}
	job, ok := wf.Jobs["release"]
	if !ok {
		t.Fatal("release.yml has no release job")
	}
	for k, v := range map[string]string{"id-token": "write", "contents": "write", "attestations": "write"} {
		if job.Permissions[k] != v {
			t.Errorf("release job permission %s = %q, want %q", k, job.Permissions[k], v)
		}
	}
	bundle := "dist/" + ChecksumsFile + ".sigstore.json"
	var signed, selfChecked, attested, published bool
	for _, s := range job.Steps {
		signed = signed || strings.Contains(s.Run, "sign-blob") && strings.Contains(s.Run, "--bundle "+bundle+" dist/"+ChecksumsFile)
		selfChecked = selfChecked || strings.Contains(s.Run, "verify-blob --bundle "+bundle) &&
			strings.Contains(s.Run, `--certificate-identity "https://github.com/`+strings.TrimPrefix(Module, "github.com/")+`/.github/workflows/release.yml@${GITHUB_REF}"`)
		attested = attested || strings.HasPrefix(s.Uses, "actions/attest-build-provenance@") &&
			strings.Contains(s.With["subject-path"], "dist/*.tar.gz") && strings.Contains(s.With["subject-path"], "dist/*.zip")
		published = published || strings.Contains(s.Run, "gh release create") && strings.Contains(s.Run, bundle) &&
			strings.Contains(s.Run, "dist/"+ChecksumsFile+" ") && strings.Contains(s.Run, "dist/*.tar.gz dist/*.zip")
	}
	if !signed || !selfChecked || !attested || !published {
		t.Errorf("release.yml: signs checksums.txt into %s %v, verifies it as README says %v, attests the archives %v, publishes them with the bundle %v",
			bundle, signed, selfChecked, attested, published)
	}

	readme := string(mustRead(t, filepath.Join(root, "README.md")))
	repo := strings.TrimPrefix(Module, "github.com/")
	for _, want := range []string{
		"cosign verify-blob --bundle " + ChecksumsFile + ".sigstore.json",
		`--certificate-identity "https://github.com/` + repo + `/.github/workflows/release.yml@refs/tags/$VERSION"`,
		"--certificate-oidc-issuer https://token.actions.githubusercontent.com",
		"sha256sum --ignore-missing -c " + ChecksumsFile,
		"releases/download/$VERSION",
		"kubectl-secure_${VERSION}_${OS}_${ARCH}.tar.gz",
		"kubectl krew install secure",
		"go install " + Module + "/cmd/kubectl-secure@latest",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
	// The archive name the README downloads is the one make dist writes.
	if got := ArchiveName("${VERSION}", Platform{"${OS}", "${ARCH}"}); got != "kubectl-secure_${VERSION}_${OS}_${ARCH}.tar.gz" {
		t.Errorf("archives are named %s", got)
	}
}

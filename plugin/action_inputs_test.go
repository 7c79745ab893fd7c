package plugin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

// reportFiles are the files of the findings in the run's JSON report.
func reportFiles(t *testing.T, run *actionRun) []string {
	t.Helper()
	b, err := os.ReadFile(run.outputs["report-json"])
	if err != nil {
		t.Fatalf("report-json: %v", err)
	}
	var rep struct {
		Findings []struct {
			Location struct{ File string } `json:"location"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range rep.Findings {
		if !slices.Contains(files, f.Location.File) {
			files = append(files, f.Location.File)
		}
	}
	slices.Sort(files)
	return files
}

// exclude keeps a path out of the run (so out of the review), and the
// repository's .gitignore is honoured unless no-gitignore.
func TestActionInputsExcludeAndNoGitignore(t *testing.T) {
	r := newPRRepo(t)
	os.WriteFile(filepath.Join(r.dir, ".gitignore"), []byte("generated/\n"), 0o644)
	r.commit(t, "ignore generated/")
	// A build output the checkout step would not have, but an earlier
	// step of the job wrote.
	os.MkdirAll(filepath.Join(r.dir, "generated"), 0o755)
	os.WriteFile(filepath.Join(r.dir, "generated", "pod.yaml"), []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: gen\nspec:\n  hostNetwork: true\n  containers:\n    - name: c\n      image: nginx:1.27\n"), 0o644)
	srv := newFake(t, r, "")

	run := runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"exclude": "deploy/,\n**/no-such-dir/**"}))
	if ExitCode(run.err) == ExitCodeError {
		t.Fatalf("exit 2: %v\n%s", run.err, run.stderr.String())
	}
	noViolations(t, srv)
	comments, _, _, _ := srv.Snapshot()
	want := slices.DeleteFunc(expectedComments(t), func(c string) bool { return strings.HasPrefix(c, "deploy/") })
	if got := commentSet(comments); !slices.Equal(got, want) {
		t.Errorf("with exclude deploy/: comments %q, want %q", got, want)
	}
	for _, f := range reportFiles(t, run) {
		if strings.HasPrefix(f, "deploy/") || strings.HasPrefix(f, "generated/") {
			t.Errorf("finding in %s: excluded or ignored by .gitignore", f)
		}
	}

	run = runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"exclude": "deploy/", "no-gitignore": "true"}))
	files := reportFiles(t, run)
	if !slices.Contains(files, "generated/pod.yaml") || slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(f, "deploy/") }) {
		t.Errorf("with no-gitignore: findings in %q, want generated/pod.yaml and nothing under deploy/", files)
	}
}

// tuf-mirror and tuf-root reach image verification: a keyless image
// verifies with the trust root from the given TUF repository, cached in
// the runner's tool cache so that a later step verifies with the mirror
// down; with neither cache nor mirror the image is not verified (a high
// finding that fails the step) and the reason names the mirror.
func TestActionInputsTUFMirror(t *testing.T) {
	reg := ist.NewRegistry(t)
	ss := ist.NewSigstore(t)
	const id, iss = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main", "https://token.actions.githubusercontent.com"
	img := reg.PushImage(t, "keyless/app:v1")
	reg.PushBundleReferrer(t, img, ss.AttestBundle(t, id, iss, ist.Statement(img, "https://sigstore.dev/cosign/sign/v1", "")), "https://sigstore.dev/cosign/sign/v1")
	trJSON, err := os.ReadFile(ss.WriteTrustedRoot(t, t.TempDir(), false))
	if err != nil {
		t.Fatal(err)
	}
	tuf := ist.NewTUFRepo(t, trJSON)

	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	os.MkdirAll(filepath.Join(dir, "sigstore"), 0o755)
	os.WriteFile(filepath.Join(dir, "sigstore", "root.json"), tuf.RootJSON(t), 0o644)
	// The config names the public-good repository; the inputs override it.
	os.WriteFile(filepath.Join(dir, ".kubectl-secure.yaml"), []byte(fmt.Sprintf(
		"imageVerification:\n  tuf: {mirror: \"https://tuf.invalid\"}\n  images:\n    - glob: \"%s/keyless/**\"\n      authorities:\n        - keyless: {identity: %q, issuer: %q}\n",
		reg.Host, id, iss)), 0o644)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "base")
	r := &prRepo{dir: dir, base: git(t, dir, "rev-parse", "HEAD")}
	os.WriteFile(filepath.Join(dir, "pod.yaml"), []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: c\n      image: "+reg.Ref("keyless/app:v1")+"\n"), 0o644)
	r.commit(t, "pod")
	srv := newFake(t, r, "")

	// Without verify-images they do nothing, and the log says so.
	env := workflowEnv(t, r, srv, map[string]string{"tuf-mirror": tuf.URL})
	if run := runActionIn(t, r, env); !strings.Contains(run.stdout.String(), "::warning::kubectl-secure: tuf-mirror and tuf-root take effect only with verify-images") || tuf.Requests() != 0 {
		t.Errorf("tuf-mirror without verify-images: no warning, or %d TUF requests\n%s", tuf.Requests(), run.stdout.String())
	}

	toolCache := t.TempDir()
	inputs := map[string]string{"verify-images": "true", "fail-on": "high", "tuf-mirror": tuf.URL, "tuf-root": "sigstore/root.json"}
	step := func() *actionRun {
		env := workflowEnv(t, r, srv, inputs)
		env["RUNNER_TOOL_CACHE"] = toolCache
		return runActionIn(t, r, env)
	}
	verified := func(run *actionRun) {
		t.Helper()
		if run.err != nil {
			t.Fatalf("%v\n%s\n%s", run.err, run.stdout.String(), run.stderr.String())
		}
		if i := strings.Index(run.summary, "### Image verification"); i >= 0 && strings.Contains(run.summary[i:], "keyless/app") {
			t.Errorf("the keyless image did not verify:\n%s", run.summary[i:])
		}
	}
	verified(step())
	if tuf.Requests() == 0 {
		t.Fatal("verified without asking the TUF mirror of tuf-mirror")
	}
	if entries, _ := os.ReadDir(filepath.Join(toolCache, "kubectl-secure", "tuf")); len(entries) == 0 {
		t.Fatal("nothing cached in the runner's tool cache")
	}

	// A later step: the mirror is down, the cache is warm.
	tuf.Close()
	verified(step())

	// Another runner (cold cache), mirror down: fails closed.
	toolCache = t.TempDir()
	run := step()
	i := strings.Index(run.summary, "### Image verification")
	if ExitCode(run.err) != ExitCodeFindings || run.outputs["exit-code"] != "1" || i < 0 || !strings.Contains(run.summary[i:], "TUF mirror "+tuf.URL+" unreachable") {
		t.Errorf("cold cache, mirror down: exit %d (%v), outputs %v; want 1 and the summary naming the mirror %s\n%s", ExitCode(run.err), run.err, run.outputs, tuf.URL, run.summary)
	}
}

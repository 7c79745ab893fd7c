package plugin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/githubfake"
	"github.com/kubectl-secure/kubectl-secure/internal/toolstest"
)

// The workflow of the end-to-end test: the action from its checkout in
// the repository, built from source, and a step that prints its outputs.
const actWorkflow = `name: pr
on: pull_request
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      # act copies the local repository for actions/checkout, offline.
      - uses: actions/checkout@v4
      - id: ks
        uses: ./.github/actions/kubectl-secure
        continue-on-error: true
        with:
          version: source
          sarif-file: out/results.sarif
      - name: outputs
        if: always()
        run: |
          echo "OUT findings=${{ steps.ks.outputs.findings }} new-findings=${{ steps.ks.outputs.new-findings }} errors=${{ steps.ks.outputs.errors }} exit-code=${{ steps.ks.outputs.exit-code }} sarif=${{ steps.ks.outputs.sarif-file }} report=${{ steps.ks.outputs.report-json }}"
          test -s "${{ steps.ks.outputs.sarif-file }}" && echo "OUT sarif-written"
          test -s "${{ steps.ks.outputs.report-json }}" && echo "OUT report-written"
`

// repoRoot is this repository, resolved before tests change directory.
var repoRoot, _ = filepath.Abs("..")

// copyActionSource copies what building the action from source needs:
// action.yml, its install script and the Go sources (no tests).
func copyActionSource(t testing.TB, to string) {
	t.Helper()
	files := strings.Fields(git(t, repoRoot, "ls-files", "--cached", "--others", "--exclude-standard", "go.mod", "go.sum", "action.yml", "action/install.sh", "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "hack/") || strings.Contains(f, "testdata/") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			continue // deleted in the work tree
		}
		dst := filepath.Join(to, f)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		mode := os.FileMode(0o644)
		if strings.HasSuffix(f, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(dst, b, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// actRun runs the pull_request workflow under act against srv.
func actRun(t *testing.T, act string, r *prRepo, srv *githubfake.Server, wfDir string) string {
	t.Helper()
	goenv := func(k string) string {
		out, _ := exec.Command("go", "env", k).Output()
		return strings.TrimSpace(string(out))
	}
	gobin := filepath.Dir(must(exec.LookPath("go")))
	args := []string{"pull_request", "-e", r.event(t), "-W", wfDir, "-P", "ubuntu-latest=-self-hosted",
		"-C", r.dir, "-s", "GITHUB_TOKEN=" + testToken, "--no-cache-server", "--pull=false",
		"--action-cache-path", filepath.Join(t.TempDir(), "act-cache"),
		"--env", "GITHUB_API_URL=" + srv.APIURL(), "--env", "GITHUB_SERVER_URL=" + srv.URL,
		"--env", "GITHUB_REPOSITORY=" + testOwner + "/" + testRepo,
		"--env", "PATH=" + gobin + ":/usr/local/bin:/usr/bin:/bin",
		"--env", "GOCACHE=" + goenv("GOCACHE"), "--env", "GOMODCACHE=" + goenv("GOMODCACHE"),
		"--env", "GOTOOLCHAIN=local", "--env", "GOFLAGS=-mod=mod", "--env", "GOPROXY=off",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, act, args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "ACT_DISABLE_VERSION_CHECK=1", "HOME="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("act: %v\n%s", err, out.String())
	}
	return out.String()
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestActionYAMLUnderAct runs action.yml itself under act on a
// pull_request event against the fake API: install from source, the
// review on exactly the changed lines, a quiet rerun, a fix that deletes
// its comment, a read-only token that yields annotations, and outputs.
func TestActionYAMLUnderAct(t *testing.T) {
	act := toolstest.Path(t, "KUBECTL_SECURE_ACT", "act")
	if testing.Short() {
		t.Skip("builds the action from source under act")
	}
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	copyActionSource(t, filepath.Join(dir, ".github", "actions", "kubectl-secure"))
	copyTree(t, filepath.Join(actionTestdata, "base"), dir)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "base")
	r := &prRepo{dir: dir, base: git(t, dir, "rev-parse", "HEAD")}
	copyTree(t, filepath.Join(actionTestdata, "head"), dir)
	r.commit(t, "head")
	wf := t.TempDir()
	os.WriteFile(filepath.Join(wf, "pr.yml"), []byte(actWorkflow), 0o644)

	srv := newFake(t, r, "")
	log := actRun(t, act, r, srv, wf)
	noViolations(t, srv)
	comments, reviews, _, _ := srv.Snapshot()
	want := expectedComments(t)
	if got := commentSet(comments); !slices.Equal(got, want) {
		t.Fatalf("comments under act\n got %q\nwant %q\n%s", got, want, log)
	}
	if len(reviews) != 1 {
		t.Errorf("%d reviews", len(reviews))
	}
	outs := fmt.Sprintf("new-findings=%d errors=0 exit-code=1 sarif=", len(want))
	for _, s := range []string{outs, "OUT sarif-written", "OUT report-written"} {
		if !strings.Contains(log, s) {
			t.Errorf("act log lacks %q:\n%s", s, log)
		}
	}
	// act logs each step's summary.
	link := fmt.Sprintf("%s/%s/%s/blob/%s/deploy/web.yaml#L23", srv.URL, testOwner, testRepo, r.head)
	if !strings.Contains(log, "Summary - ## kubectl-secure") || !strings.Contains(log, link) {
		t.Errorf("act log lacks the job summary with %s:\n%s", link, log)
	}
	if strings.Contains(log, testToken) {
		t.Errorf("the token is printed in act's log")
	}

	// Rerun: nothing new.
	srv.ResetRequests()
	actRun(t, act, r, srv, wf)
	noViolations(t, srv)
	_, reviews, reqs, _ := srv.Snapshot()
	for _, q := range reqs {
		if q.Method != "GET" {
			t.Errorf("rerun wrote: %s %s", q.Method, q.Path)
		}
	}

	// Fix the privileged container: its comment goes.
	web := filepath.Join(r.dir, "deploy", "web.yaml")
	b, _ := os.ReadFile(web)
	os.WriteFile(web, bytes.Replace(b, []byte("privileged: true"), []byte("privileged: false"), 1), 0o644)
	r.commit(t, "fix")
	srv.Lock()
	srv.Files, srv.HeadSHA = r.files(t), r.head
	srv.Unlock()
	actRun(t, act, r, srv, wf)
	noViolations(t, srv)
	comments, reviews2, _, _ := srv.Snapshot()
	got := commentSet(comments)
	if slices.Contains(got, "deploy/web.yaml:23 privileged-container") {
		t.Errorf("the fixed finding's comment is still there: %q", got)
	}
	for _, keep := range []string{"deploy/web.yaml:18 host-pid", "app/prod/patch.yaml:12 allow-privilege-escalation", "chart/values.yaml:2 host-network"} {
		if !slices.Contains(got, keep) {
			t.Errorf("comment %q went though its finding stays: %q", keep, got)
		}
	}
	if len(reviews2) != len(reviews) {
		t.Errorf("the fix posted a review")
	}

	// A fork's read-only token: annotations instead.
	srv.Lock()
	srv.ReadOnly, srv.Comments, srv.Reviews = true, nil, nil
	srv.Unlock()
	log = actRun(t, act, r, srv, wf)
	if !strings.Contains(log, "the token cannot write") || !strings.Contains(log, "file=deploy/web.yaml,line=18") {
		t.Errorf("no fallback to annotations under act:\n%s", log)
	}
}

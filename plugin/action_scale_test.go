package plugin

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/internal/githubfake"
)

// scalePod is a new file of a pull request: a pod with two problems on
// its added lines (with scaleConfig) when bad is "true".
const scalePod = `apiVersion: v1
kind: Pod
metadata:
  name: p%d
  namespace: ns%d
spec:
  hostPID: %[3]s
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: %[3]s
`

// scaleConfig runs the two rules the pods break, so that the finding
// count is exact.
const scaleConfig = "rules:\n  enable: [privileged-container, host-pid]\n"

// newScaleRepo is a pull request adding files pods, the first bad of
// them with two findings each (base: the config).
func newScaleRepo(t testing.TB, files, bad int) *prRepo {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(dir, ".kubectl-secure.yaml"), []byte(scaleConfig), 0o644)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "base")
	r := &prRepo{dir: dir, base: git(t, dir, "rev-parse", "HEAD")}
	os.MkdirAll(filepath.Join(dir, "pods"), 0o755)
	for i := range files {
		os.WriteFile(filepath.Join(dir, "pods", fmt.Sprintf("p%03d.yaml", i)), []byte(fmt.Sprintf(scalePod, i, i%20, strconv.FormatBool(i < bad))), 0o644)
	}
	r.commit(t, "pods")
	return r
}

// Pagination: 120 changed files and 130 earlier comments take two pages
// each; 240 findings in the changed lines get max-comments comments, the
// rest go to the review body.
func TestActionPaginationAndMaxComments(t *testing.T) {
	r := newScaleRepo(t, 120, 120)
	srv := newFake(t, r, "")
	for i := range 130 {
		line := 7
		srv.AddComment(githubfake.Comment{Path: fmt.Sprintf("pods/p%03d.yaml", i%120), Line: &line, Body: "a colleague's remark"})
	}
	srv.ResetRequests()
	run := runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"max-comments": "25", "fail-on": "none"}))
	if run.err != nil {
		t.Fatalf("%v\n%s", run.err, run.stderr.String())
	}
	noViolations(t, srv)
	comments, reviews, reqs, _ := srv.Snapshot()
	pages := map[string]int{}
	for _, q := range reqs {
		if q.Method == "GET" {
			pages[q.Path[strings.LastIndex(q.Path, "/")+1:]]++
		}
	}
	if pages["files"] != 2 || pages["comments"] != 2 {
		t.Errorf("pages read: %v (want 2 of files and 2 of comments)", pages)
	}
	var ours int
	for _, c := range comments {
		if strings.Contains(c.Body, "kubectl-secure:fingerprint") {
			ours++
		}
	}
	if len(reviews) != 1 || ours != 25 {
		t.Fatalf("%d reviews, %d comments of ours (want 1 and 25)", len(reviews), ours)
	}
	kept := run.outputs["new-findings"]
	if !strings.Contains(reviews[0].Body, "over max-comments") || !strings.Contains(reviews[0].Body, "**"+kept+" finding(s) in the changed lines**") {
		t.Errorf("review body does not summarise the rest:\n%.1500s", reviews[0].Body)
	}
	// A rerun posts nothing: the overflow stays in the body.
	srv.ResetRequests()
	runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"max-comments": "25", "fail-on": "none"}))
	if _, reviews2, _, _ := srv.Snapshot(); len(reviews2) != 1 {
		t.Errorf("the rerun posted the overflow: %d reviews", len(reviews2))
	}
	// The 25 are the most severe: there are 120 critical findings
	// (privileged) and 120 high ones (host-pid).
	for _, c := range comments {
		if strings.Contains(c.Body, "kubectl-secure:fingerprint") && !strings.Contains(c.Body, "· critical ·") {
			t.Errorf("a less severe comment was posted: %.80s", c.Body)
		}
	}
}

// One run on a pull request of 300 files with 500 findings in the
// changed lines stays within 12 API requests.
func TestActionRequestBudget(t *testing.T) {
	r := newScaleRepo(t, 300, 250)
	srv := newFake(t, r, "")
	run := runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"fail-on": "none"}))
	noViolations(t, srv)
	_, _, reqs, _ := srv.Snapshot()
	var kept int
	fmt.Sscan(run.outputs["new-findings"], &kept)
	if kept != 500 {
		t.Fatalf("%d findings in the changed lines; the fixture must make 500", kept)
	}
	if len(reqs) > 12 {
		for _, q := range reqs {
			t.Logf("%s %s?%s", q.Method, q.Path, q.Query)
		}
		t.Errorf("%d requests for %d findings in 300 files, want at most 12", len(reqs), kept)
	}
}

// BenchmarkActionPullRequest measures one run of the Action on a pull
// request of 300 files (500 findings): the API requests it makes and the
// time it adds to lint's own (target: under 0.5 s).
func BenchmarkActionPullRequest(b *testing.B) {
	r := newScaleRepo(b, 300, 250)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	var lintTime, actionTime time.Duration
	var requests int
	for range b.N {
		// lint alone, as a user would run it.
		os.Chdir(r.dir)
		start := time.Now()
		cmd := NewCmdLint(genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, func(string) string { return "" })
		cmd.SetArgs([]string{"--fail-on", "none", "."})
		cmd.SetOut(io.Discard)
		if err := cmd.Execute(); err != nil {
			b.Fatal(err)
		}
		lintTime += time.Since(start)

		srv := githubfake.New(nil, "", testOwner, testRepo, testPR, r.head, testToken)
		srv.Files = r.files(b)
		env := workflowEnv(b, r, srv, map[string]string{"fail-on": "none"})
		start = time.Now()
		run := runActionIn(b, r, env)
		actionTime += time.Since(start)
		if run.err != nil {
			b.Fatal(run.err)
		}
		_, reviews, reqs, _ := srv.Snapshot()
		if len(reviews) != 1 {
			b.Fatalf("%d reviews", len(reviews))
		}
		requests = len(reqs)
		srv.Close()
	}
	n := time.Duration(b.N)
	overhead := (actionTime - lintTime) / n
	b.ReportMetric(float64(requests), "requests/op")
	b.ReportMetric((lintTime / n).Seconds(), "lint-s/op")
	b.ReportMetric(overhead.Seconds(), "overhead-s/op")
	if requests > 12 {
		b.Errorf("%d API requests, target at most 12", requests)
	}
	if overhead > 500*time.Millisecond {
		b.Errorf("the Action adds %v to lint, target under 0.5s", overhead)
	}
}

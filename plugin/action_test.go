package plugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/action"
	"github.com/kubectl-secure/kubectl-secure/internal/githubfake"
)

const (
	testToken = "ghs_fakeTokenThatMustNeverBePrinted0123"
	testOwner = "acme"
	testRepo  = "shop"
	testPR    = 7
)

// actionTestdata is resolved before any test changes directory.
var actionTestdata, _ = filepath.Abs(filepath.Join("..", "testdata", "action"))

// prRepo is a git repository with a base and a head commit, and the
// pull request's files as GitHub lists them.
type prRepo struct {
	dir        string
	base, head string
}

func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func copyTree(t testing.TB, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// newPRRepo commits testdata/action/base, then head over it.
func newPRRepo(t testing.TB) *prRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	copyTree(t, filepath.Join(actionTestdata, "base"), dir)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "base")
	r := &prRepo{dir: dir, base: git(t, dir, "rev-parse", "HEAD")}
	copyTree(t, filepath.Join(actionTestdata, "head"), dir)
	r.commit(t, "head")
	return r
}

func (r *prRepo) commit(t testing.TB, msg string) {
	git(t, r.dir, "add", "-A")
	git(t, r.dir, "commit", "-q", "-m", msg)
	r.head = git(t, r.dir, "rev-parse", "HEAD")
}

// files are the pull request's files as GET …/pulls/{n}/files lists them.
func (r *prRepo) files(t testing.TB) []githubfake.File {
	var out []githubfake.File
	for _, line := range strings.Split(git(t, r.dir, "diff", "--name-status", r.base, r.head), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		status := map[string]string{"A": "added", "M": "modified", "D": "removed"}[f[0][:1]]
		patch := git(t, r.dir, "diff", "--no-color", r.base, r.head, "--", f[1])
		if i := strings.Index(patch, "\n@@"); i >= 0 {
			patch = patch[i+1:]
		}
		out = append(out, githubfake.File{Filename: f[1], Status: status, Patch: patch})
	}
	return out
}

// actionRun is one run of `kubectl-secure action` in a workflow.
type actionRun struct {
	env            map[string]string
	stdout, stderr bytes.Buffer
	err            error
	outputs        map[string]string
	summary        string
	sleeps         []time.Duration
}

func (r *prRepo) event(t testing.TB) string {
	p := filepath.Join(t.TempDir(), "event.json")
	ev := map[string]any{"action": "synchronize", "number": testPR, "pull_request": map[string]any{"number": testPR, "head": map[string]any{"sha": r.head}, "base": map[string]any{"sha": r.base}}}
	b, _ := json.Marshal(ev)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// workflowEnv is what the runner and action.yml give the step.
func workflowEnv(t testing.TB, r *prRepo, srv *githubfake.Server, inputs map[string]string) map[string]string {
	tmp := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": r.event(t),
		"GITHUB_REPOSITORY": testOwner + "/" + testRepo, "GITHUB_API_URL": srv.APIURL(), "GITHUB_SERVER_URL": srv.URL,
		"GITHUB_WORKSPACE": r.dir, "GITHUB_SHA": r.head, "RUNNER_TEMP": tmp,
		"GITHUB_OUTPUT": filepath.Join(tmp, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary"),
	}
	for _, f := range []string{"output", "summary"} {
		os.WriteFile(filepath.Join(tmp, f), nil, 0o644)
	}
	for name, def := range action.InputDefaults() {
		env["INPUT_"+strings.ToUpper(name)] = def
	}
	env["INPUT_GITHUB-TOKEN"] = testToken
	env["INPUT_SARIF-FILE"] = filepath.Join(tmp, "out.sarif")
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	return env
}

// runAction runs the command in r's workspace against srv.
func runActionIn(t testing.TB, r *prRepo, env map[string]string) *actionRun {
	t.Helper()
	run := &actionRun{env: env}
	if tt, ok := t.(*testing.T); ok {
		tt.Chdir(r.dir)
	} else {
		wd, _ := os.Getwd()
		os.Chdir(r.dir)
		defer os.Chdir(wd)
	}
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &run.stdout, ErrOut: &run.stderr}
	rt := &action.Runtime{Client: action.ClientOptions{
		MaxWait: 30 * time.Second,
		Sleep:   func(_ context.Context, d time.Duration) error { run.sleeps = append(run.sleeps, d); return nil },
	}}
	run.err = runAction(context.Background(), streams, func(k string) string { return env[k] }, rt)
	run.outputs = readOutputs(t, env["GITHUB_OUTPUT"])
	b, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	run.summary = string(b)
	return run
}

// readOutputs parses the GITHUB_OUTPUT file (name<<delimiter blocks).
func readOutputs(t testing.TB, path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok {
			continue
		}
		var val []string
		for sc.Scan() && sc.Text() != delim {
			val = append(val, sc.Text())
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

var ruleInBody = regexp.MustCompile("· `([a-z0-9-]+)`")

// commentSet renders the top-level comments as "path:line rule".
func commentSet(cs []githubfake.Comment) []string {
	var out []string
	for _, c := range cs {
		if c.InReplyToID != 0 || c.Line == nil {
			continue
		}
		rule := "?"
		if m := ruleInBody.FindStringSubmatch(c.Body); m != nil {
			rule = m[1]
		}
		out = append(out, fmt.Sprintf("%s:%d %s", c.Path, *c.Line, rule))
	}
	slices.Sort(out)
	return out
}

func expectedComments(t testing.TB) []string {
	b, err := os.ReadFile(filepath.Join(actionTestdata, "expect.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

func newFake(t testing.TB, r *prRepo, prefix string) *githubfake.Server {
	var api *githubfake.OpenAPI
	if tt, ok := t.(*testing.T); ok {
		api = githubfake.OpenAPIFromEnv(tt)
	}
	srv := githubfake.New(api, prefix, testOwner, testRepo, testPR, r.head, testToken)
	t.Cleanup(srv.Close)
	srv.Files = r.files(t)
	return srv
}

func noViolations(t *testing.T, srv *githubfake.Server) {
	t.Helper()
	_, _, _, v := srv.Snapshot()
	for _, s := range v {
		t.Errorf("GitHub would refuse: %s", s)
	}
}

// tokenNeverPrinted: the token appears only in the ::add-mask:: command
// that hides it.
func tokenNeverPrinted(t *testing.T, run *actionRun) {
	t.Helper()
	out := strings.ReplaceAll(run.stdout.String(), "::add-mask::"+testToken, "")
	for name, s := range map[string]string{"stdout": out, "stderr": run.stderr.String(), "summary": run.summary, "outputs": fmt.Sprint(run.outputs)} {
		if strings.Contains(s, testToken) {
			t.Errorf("the token is printed in %s", name)
		}
	}
	if !strings.Contains(run.stdout.String(), "::add-mask::"+testToken) {
		t.Errorf("the token is not masked")
	}
}

func TestActionReviewsChangedLinesAndRerunsQuietly(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	run := runActionIn(t, r, workflowEnv(t, r, srv, nil))
	if ExitCode(run.err) != ExitCodeFindings {
		t.Fatalf("exit %d (%v), want 1 (a critical finding); stderr:\n%s", ExitCode(run.err), run.err, run.stderr.String())
	}
	noViolations(t, srv)
	tokenNeverPrinted(t, run)
	comments, reviews, _, _ := srv.Snapshot()
	if got, want := commentSet(comments), expectedComments(t); !slices.Equal(got, want) {
		t.Errorf("comments\n got %q\nwant %q", got, want)
	}
	if len(reviews) != 1 || reviews[0].State != "COMMENTED" || reviews[0].CommitID != r.head {
		t.Fatalf("want one COMMENT review on the head, got %+v", reviews)
	}
	for _, c := range comments {
		if !strings.Contains(c.Body, "<!-- kubectl-secure:fingerprint=") || !strings.Contains(c.Body, action.RulesDocURL) || !strings.Contains(c.Body, "**Remediation:**") {
			t.Errorf("comment at %s:%d lacks marker, docs or remediation:\n%s", c.Path, *c.Line, c.Body)
		}
	}
	n := len(expectedComments(t))
	if !strings.Contains(reviews[0].Body, fmt.Sprintf("%d finding(s) in the changed lines", n)) || !strings.Contains(reviews[0].Body, "helm chart chart") {
		t.Errorf("review body:\n%s", reviews[0].Body)
	}
	want := map[string]string{"new-findings": fmt.Sprint(n), "errors": "0", "exit-code": "1", "sarif-file": run.env["INPUT_SARIF-FILE"]}
	for k, v := range want {
		if run.outputs[k] != v {
			t.Errorf("output %s = %q, want %q", k, run.outputs[k], v)
		}
	}
	for _, name := range action.OutputNames() {
		if _, ok := run.outputs[name]; !ok {
			t.Errorf("output %s not set (outputs %v)", name, run.outputs)
		}
	}
	if len(run.outputs) != len(action.OutputNames()) {
		t.Errorf("outputs set %v, declared %v", run.outputs, action.OutputNames())
	}
	if _, err := os.Stat(run.outputs["report-json"]); err != nil {
		t.Errorf("report-json: %v", err)
	}
	link := fmt.Sprintf("%s/%s/%s/blob/%s/deploy/web.yaml#L23", srv.URL, testOwner, testRepo, r.head)
	if !strings.Contains(run.summary, link) || !strings.Contains(run.summary, fmt.Sprintf("Review posted with %d inline comment(s)", n)) {
		t.Errorf("summary lacks %s or the review:\n%s", link, run.summary)
	}

	// A rerun on the same head says nothing new: reads only.
	srv.ResetRequests()
	run = runActionIn(t, r, workflowEnv(t, r, srv, nil))
	noViolations(t, srv)
	comments2, reviews2, reqs, _ := srv.Snapshot()
	if len(reviews2) != 1 || len(comments2) != len(comments) {
		t.Errorf("rerun: %d reviews, %d comments (want 1 and %d)", len(reviews2), len(comments2), len(comments))
	}
	for _, q := range reqs {
		if q.Method != "GET" {
			t.Errorf("rerun wrote: %s %s", q.Method, q.Path)
		}
	}
	if !strings.Contains(run.summary, "No new review") {
		t.Errorf("rerun summary:\n%s", run.summary)
	}
}

var suggestionRE = regexp.MustCompile("(?s)```suggestion\n(.*?)\n```")

// One-click suggestions: each replaces exactly the commented line,
// indentation kept; applying them (as GitHub's "Commit suggestion" does)
// and re-linting makes the findings go: their comments are deleted, or
// answered "fixed" when somebody replied.
func TestActionSuggestionsFixAndCommentsGo(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	runActionIn(t, r, workflowEnv(t, r, srv, nil))
	comments, _, _, _ := srv.Snapshot()
	type edit struct {
		path string
		line int
		new  string
	}
	var edits []edit
	suggested := map[string]bool{}
	var hostPID githubfake.Comment
	for _, c := range comments {
		rule := ruleInBody.FindStringSubmatch(c.Body)[1]
		if rule == "host-pid" {
			hostPID = c
		}
		m := suggestionRE.FindStringSubmatch(c.Body)
		if m == nil {
			continue
		}
		suggested[rule] = true
		src, _ := os.ReadFile(filepath.Join(r.dir, c.Path))
		old := strings.Split(string(src), "\n")[*c.Line-1]
		indent := func(s string) string { return s[:len(s)-len(strings.TrimLeft(s, " "))] }
		if strings.Contains(m[1], "\n") || indent(m[1]) != indent(old) || m[1] == old {
			t.Errorf("%s:%d: suggestion %q does not replace %q in place", c.Path, *c.Line, m[1], old)
		}
		edits = append(edits, edit{c.Path, *c.Line, m[1]})
	}
	for _, rule := range []string{"privileged-container", "host-pid", "allow-privilege-escalation", "host-network"} {
		if !suggested[rule] {
			t.Errorf("no suggestion for %s", rule)
		}
	}
	if hostPID.ID == 0 {
		t.Fatal("no host-pid comment")
	}
	// Somebody answers the host-pid comment before it is fixed.
	srv.AddComment(githubfake.Comment{InReplyToID: hostPID.ID, Path: hostPID.Path, Line: hostPID.Line, Body: "we need this for the profiler"})
	for _, e := range edits {
		p := filepath.Join(r.dir, e.path)
		src, _ := os.ReadFile(p)
		lines := strings.Split(string(src), "\n")
		lines[e.line-1] = e.new
		os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
	}
	r.commit(t, "apply suggestions")
	srv.Lock()
	srv.Files, srv.HeadSHA = r.files(t), r.head
	srv.Unlock()

	srv.ResetRequests()
	run := runActionIn(t, r, workflowEnv(t, r, srv, nil))
	noViolations(t, srv)
	if run.outputs["new-findings"] != "0" {
		t.Errorf("after the suggestions %s findings remain in the changed lines", run.outputs["new-findings"])
	}
	comments, reviews, _, _ := srv.Snapshot()
	if got := commentSet(comments); !slices.Equal(got, []string{"deploy/web.yaml:18 host-pid"}) {
		t.Errorf("after the fix: %q, want only the answered host-pid comment", got)
	}
	var answered bool
	for _, c := range comments {
		if c.InReplyToID == hostPID.ID && strings.Contains(c.Body, "Fixed in "+r.head) {
			answered = true
		}
	}
	if !answered {
		t.Errorf("the answered host-pid comment got no 'Fixed in %s' reply", r.head)
	}
	if len(reviews) != 1 {
		t.Errorf("fixing posts no new review; got %d reviews", len(reviews))
	}
}

func TestActionReadOnlyTokenFallsBackToAnnotations(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	srv.ReadOnly = true
	run := runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"annotations": "false"}))
	if ExitCode(run.err) != ExitCodeFindings {
		t.Errorf("a 403 changed the exit code: %v", run.err)
	}
	noViolations(t, srv)
	tokenNeverPrinted(t, run)
	out := run.stdout.String()
	if n := strings.Count(out, "the token cannot write"); n != 1 {
		t.Errorf("the fallback is said %d times, want once:\n%s", n, out)
	}
	for _, want := range expectedComments(t) {
		loc, _, _ := strings.Cut(want, " ")
		path, line, _ := strings.Cut(loc, ":")
		if !strings.Contains(out, "file="+path+",line="+line) {
			t.Errorf("no annotation at %s", loc)
		}
	}
	if !strings.Contains(run.summary, "No review was posted") || run.outputs["exit-code"] != "1" {
		t.Errorf("summary or outputs miss the fallback: %v\n%s", run.outputs, run.summary)
	}
}

func TestActionDropsCommentsGitHubRefuses(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	// A force-push GitHub has seen but the listed files have not: the
	// values line is no longer in its diff.
	srv.Refuse = map[string]map[int]bool{"chart/values.yaml": {2: true}}
	run := runActionIn(t, r, workflowEnv(t, r, srv, nil))
	noViolations(t, srv)
	comments, reviews, _, _ := srv.Snapshot()
	want := slices.DeleteFunc(expectedComments(t), func(c string) bool { return strings.HasPrefix(c, "chart/values.yaml:2 ") })
	if got := commentSet(comments); !slices.Equal(got, want) {
		t.Errorf("comments %q, want %q", got, want)
	}
	if len(reviews) != 1 || !strings.Contains(reviews[0].Body, "GitHub refused the line") {
		t.Errorf("want one review naming the refused comment; got %d: %+v", len(reviews), reviews)
	}
	if ExitCode(run.err) != ExitCodeFindings {
		t.Errorf("exit code changed by a 422: %v", run.err)
	}
}

func TestActionWaitsOutRateLimits(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	srv.RateLimits = []githubfake.RateLimit{
		{Method: "GET", PathSuffix: "/files", Times: 1, Status: 403, ResetIn: 20 * time.Second},
		{Method: "POST", PathSuffix: "/reviews", Times: 1, Status: 429, RetryAfter: 7},
	}
	run := runActionIn(t, r, workflowEnv(t, r, srv, nil))
	noViolations(t, srv)
	_, reviews, _, _ := srv.Snapshot()
	if len(reviews) != 1 {
		t.Fatalf("the review was not posted after the limits: %d reviews\n%s", len(reviews), run.stdout.String())
	}
	if len(run.sleeps) != 2 || run.sleeps[1] != 7*time.Second || run.sleeps[0] < 15*time.Second || run.sleeps[0] > 22*time.Second {
		t.Errorf("waits %v, want ~20s (x-ratelimit-reset) then 7s (Retry-After)", run.sleeps)
	}
}

// A rate limit that would need a longer wait than the bound is not
// waited for: the review degrades to annotations, the exit code stays.
func TestActionRateLimitBeyondTheBound(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	srv.RateLimits = []githubfake.RateLimit{{Method: "POST", PathSuffix: "/reviews", Times: 10, Status: 429, RetryAfter: 3600}}
	run := runActionIn(t, r, workflowEnv(t, r, srv, nil))
	noViolations(t, srv)
	if len(run.sleeps) != 0 {
		t.Errorf("waited %v for a limit beyond the bound", run.sleeps)
	}
	if _, reviews, _, _ := srv.Snapshot(); len(reviews) != 0 {
		t.Errorf("a review was posted through the limit")
	}
	if ExitCode(run.err) != ExitCodeFindings || !strings.Contains(run.stdout.String(), "file=deploy/web.yaml,line=23,title=Privileged container") || !strings.Contains(run.summary, "No review was posted") {
		t.Errorf("exit %d; want annotations and the summary to say so\n%s\n%s", ExitCode(run.err), run.stdout.String(), run.summary)
	}
}

func TestActionGitHubEnterpriseServer(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "/api/v3")
	env := workflowEnv(t, r, srv, nil)
	env["GITHUB_EVENT_NAME"] = "pull_request_target" // reviewed the same way
	run := runActionIn(t, r, env)
	noViolations(t, srv) // a request outside /api/v3 is a violation
	_, reviews, reqs, _ := srv.Snapshot()
	if len(reviews) != 1 || len(reqs) == 0 {
		t.Fatalf("%d reviews after %d requests", len(reviews), len(reqs))
	}
	if !strings.Contains(run.summary, srv.URL+"/"+testOwner+"/"+testRepo+"/blob/") {
		t.Errorf("summary links do not use GITHUB_SERVER_URL:\n%s", run.summary)
	}
}

func TestActionOnPushHasNoReview(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	env := workflowEnv(t, r, srv, nil)
	env["GITHUB_EVENT_NAME"] = "push"
	run := runActionIn(t, r, env)
	_, _, reqs, _ := srv.Snapshot()
	if len(reqs) != 0 {
		t.Errorf("a push run called the API %d times", len(reqs))
	}
	if run.outputs["findings"] == "" || run.outputs["findings"] != run.outputs["new-findings"] {
		t.Errorf("outputs on push: %v", run.outputs)
	}
	if !strings.Contains(run.stdout.String(), "::error ") || !strings.Contains(run.summary, "finding(s)** in ") {
		t.Errorf("no annotations or summary on push")
	}
	if _, err := os.Stat(run.outputs["sarif-file"]); err != nil {
		t.Errorf("SARIF: %v", err)
	}
}

func TestActionBadInputExitsTwo(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	run := runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"filter-mode": "everything", "fail-on": "loud"}))
	if ExitCode(run.err) != ExitCodeError || run.outputs["exit-code"] != "2" {
		t.Errorf("exit %d, outputs %v", ExitCode(run.err), run.outputs)
	}
	if !strings.Contains(run.stdout.String(), "filter-mode") {
		t.Errorf("the bad input is not named:\n%s", run.stdout.String())
	}
}

// Two runs on one pull request over different paths (a matrix) leave
// each other's comments alone.
func TestActionRunsOverOtherPathsKeepComments(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"path": "deploy"}))
	first, _, _, _ := srv.Snapshot()
	runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"path": "app"}))
	noViolations(t, srv)
	comments, reviews, _, _ := srv.Snapshot()
	var deploy, app int
	for _, c := range commentSet(comments) {
		switch {
		case strings.HasPrefix(c, "deploy/"):
			deploy++
		case strings.HasPrefix(c, "app/"):
			app++
		}
	}
	if deploy != len(commentSet(first)) || deploy == 0 || app == 0 || len(reviews) != 2 {
		t.Errorf("deploy comments %d (first run posted %d), app comments %d, reviews %d", deploy, len(commentSet(first)), app, len(reviews))
	}
}

// Text from a manifest in lint's report cannot pass for a workflow
// command: the report is printed between stop-commands and its resume.
func TestActionReportCannotInjectCommands(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	run := runActionIn(t, r, workflowEnv(t, r, srv, nil))
	out := run.stdout.String()
	m := regexp.MustCompile(`(?m)^::stop-commands::([0-9a-f]{32})$`).FindStringSubmatchIndex(out)
	if m == nil {
		t.Fatalf("no stop-commands before the report:\n%.500s", out)
	}
	token := out[m[2]:m[3]]
	end := strings.Index(out, "\n::"+token+"::\n")
	if end < 0 || !strings.Contains(out[m[1]:end], "privileged-container") {
		t.Fatalf("the report is not between stop-commands and its resume")
	}
	if !strings.Contains(out[end:], "::error ") {
		t.Errorf("no annotations after commands resumed")
	}
}

// filter-mode file keeps every finding of a changed file; those outside
// the diff's hunks go to the review body, never to a refused comment.
func TestActionFilterModeFile(t *testing.T) {
	r := newPRRepo(t)
	srv := newFake(t, r, "")
	run := runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"filter-mode": "file", "max-comments": "100"}))
	noViolations(t, srv)
	comments, reviews, _, _ := srv.Snapshot()
	diff := map[string]map[int]bool{}
	for _, f := range r.files(t) {
		fd, err := action.ParsePatch(f.Filename, f.Patch)
		if err != nil {
			t.Fatal(err)
		}
		diff[f.Filename] = fd.Right
	}
	for _, c := range comments {
		if !diff[c.Path][*c.Line] {
			t.Errorf("comment outside the diff at %s:%d", c.Path, *c.Line)
		}
	}
	var kept int
	fmt.Sscan(run.outputs["new-findings"], &kept)
	if kept <= len(expectedComments(t)) || len(reviews) != 1 || !strings.Contains(reviews[0].Body, "not in the diff") {
		t.Errorf("file mode kept %d findings; review body:\n%s", kept, reviews[0].Body)
	}
}

package action

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/sethvargo/go-githubactions"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
)

// Runtime publishes a finished lint run to GitHub.
type Runtime struct {
	GHA *githubactions.Action
	// Getenv reads the workflow's environment (the same one GHA reads).
	Getenv func(string) string
	// Client tunes the REST client (tests: transport, waits); APIURL and
	// Token are filled from the workflow.
	Client ClientOptions
	// SARIF limits; zero means code scanning's.
	SARIF SARIFLimits
	// Suggest returns a suggestion block for a finding; nil means the
	// fix package's.
	Suggest func(*finding.Finding) string
}

// Published is what a run published.
type Published struct {
	// Kept are the findings the filter kept.
	Kept         []finding.Finding
	PR           *PR
	Review       *ReviewOutcome
	Requests     int64
	SARIFNote    string
	Annotated    int
	NotAnnotated int
}

// Publish reports res (the outcome of lint over the workspace, exiting
// with exitCode) to GitHub: on a pull request one review of the changed
// lines, then annotations, the job summary, the SARIF and JSON reports
// and the step outputs. Problems with the API degrade the report; they
// never fail the run. The error is for reports that cannot be written.
func (rt *Runtime) Publish(ctx context.Context, in *Inputs, res *finding.Result, exitCode int) (*Published, error) {
	gha := rt.GHA
	ghctx, err := gha.Context()
	if err != nil {
		gha.Warningf("kubectl-secure: reading the workflow context: %v", err)
	}
	if ghctx == nil {
		ghctx = &githubactions.GitHubContext{}
	}
	workspace := ghctx.Workspace
	if workspace == "" {
		workspace, _ = os.Getwd()
	}
	RepoRelative(res, workspace)
	rules := ruleIndex(res.Rules)
	pub := &Published{Kept: res.Findings}
	var ferr []string

	// The reports are written while the API is talked to: res is only
	// read from here on.
	report := filepath.Join(tempDir(rt.Getenv), "kubectl-secure-report.json")
	sarif := in.SARIFFile
	if sarif != "" && !filepath.IsAbs(sarif) {
		sarif = filepath.Join(workspace, sarif)
	}
	var reportErr, sarifErr error
	var wg sync.WaitGroup
	wg.Go(func() { reportErr = (pipeline.Output{Format: "json", File: report}).Write(nil, res, rt.Getenv) })
	if sarif != "" {
		wg.Go(func() {
			lim := rt.SARIF
			if lim.Results == 0 {
				lim = SARIFLimits{Results: SARIFMaxResults, Gzipped: SARIFMaxGzipped}
			}
			pub.SARIFNote, sarifErr = WriteSARIF(sarif, res, lim)
		})
	}

	// Reports keep lint's locations; the review, annotations and summary
	// put Helm findings on the values line that caused them.
	located := reviewLocations(res.Findings, workspace)
	pub.Kept = located
	fallback := false
	if pr := pullRequest(ghctx); pr != nil {
		pub.PR = pr
		if client, err := rt.client(ghctx, in); err != nil {
			// A bad GITHUB_API_URL degrades like any API failure.
			gha.Warningf("kubectl-secure: no review (%v); the findings are reported as annotations and in the job summary instead", err)
			fallback = true
		} else {
			pub.Kept, pub.Review, fallback = rt.review(ctx, client, pr, in, res, located, rules, workspace)
			pub.Requests = client.Requests()
		}
	}

	wg.Wait()
	if reportErr != nil {
		ferr, report = append(ferr, reportErr.Error()), ""
	}
	if sarifErr != nil {
		ferr, sarif = append(ferr, sarifErr.Error()), ""
	} else if pub.SARIFNote != "" {
		gha.Warningf("%s", pub.SARIFNote)
	}
	if in.Annotations || fallback {
		pub.Annotated, pub.NotAnnotated = Annotate(gha, pub.Kept, res.Summary.Errors, rules)
	}
	if in.Summary {
		sha := ghctx.SHA
		if pub.PR != nil {
			sha = pub.PR.HeadSHA
		}
		gha.AddStepSummary(Summary(SummaryInput{
			Result: res, Kept: pub.Kept, PR: pub.PR, Mode: in.FilterMode, Review: pub.Review,
			ServerURL: ghctx.ServerURL, Repo: ghctx.Repository, SHA: sha,
			Annotated: pub.Annotated, NotAnnotated: pub.NotAnnotated, SARIFNote: pub.SARIFNote, VerifyImages: in.VerifyImages,
		}))
	}

	gha.SetOutput(OutFindings, strconv.Itoa(len(res.Findings)))
	gha.SetOutput(OutNewFindings, strconv.Itoa(len(pub.Kept)))
	gha.SetOutput(OutErrors, strconv.Itoa(len(res.Summary.Errors)))
	gha.SetOutput(OutSARIFFile, sarif)
	gha.SetOutput(OutReportJSON, report)
	gha.SetOutput(OutExitCode, strconv.Itoa(exitCode))
	if len(ferr) > 0 {
		return pub, fmt.Errorf("%s", strings.Join(ferr, "; "))
	}
	return pub, nil
}

func (rt *Runtime) client(ghctx *githubactions.GitHubContext, in *Inputs) (*Client, error) {
	opt := rt.Client
	opt.APIURL, opt.Token = ghctx.APIURL, in.Token
	if opt.Logf == nil {
		opt.Logf = rt.GHA.Infof
	}
	return NewClient(opt)
}

// pullRequest is the pull request of a pull_request or
// pull_request_target event, nil for any other.
func pullRequest(ghctx *githubactions.GitHubContext) *PR {
	if ghctx.EventName != "pull_request" && ghctx.EventName != "pull_request_target" {
		return nil
	}
	pr, _ := ghctx.Event["pull_request"].(map[string]any)
	num, _ := pr["number"].(float64)
	head, _ := pr["head"].(map[string]any)
	sha, _ := head["sha"].(string)
	owner, repo := ghctx.Repo()
	if num <= 0 || sha == "" || owner == "" || repo == "" {
		return nil
	}
	return &PR{Owner: owner, Repo: repo, Number: int(num), HeadSHA: sha}
}

// RepoRelative rewrites finding and error paths relative to the
// repository root, as GitHub names files (slash-separated, no "./").
func RepoRelative(res *finding.Result, workspace string) {
	rel := func(p string) string { return RepoPath(p, workspace) }
	memo := map[string]string{}
	for i := range res.Findings {
		l := &res.Findings[i].Location
		r, ok := memo[l.File]
		if !ok {
			r = rel(l.File)
			memo[l.File] = r
		}
		l.File = r
	}
	for i := range res.Summary.Errors {
		res.Summary.Errors[i].File = rel(res.Summary.Errors[i].File)
	}
}

// under returns whether a repository path lies under dir ("." is all).
func under(dir string) func(string) bool {
	return func(p string) bool {
		return dir == "." || dir == "" || p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
	}
}

// RepoPath is p (relative to the working directory) relative to the
// workspace, slash-separated; p itself when it lies outside.
func RepoPath(p, workspace string) string {
	if p == "" || p == "-" {
		return p
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	if r, err := filepath.Rel(workspace, abs); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(p)
}

func ruleIndex(rules []finding.RuleInfo) map[string]*finding.RuleInfo {
	m := make(map[string]*finding.RuleInfo, len(rules))
	for i := range rules {
		m[rules[i].ID] = &rules[i]
	}
	return m
}

// tempDir is RUNNER_TEMP (emptied after each job), else the system's.
func tempDir(getenv func(string) string) string {
	if getenv != nil {
		if d := getenv("RUNNER_TEMP"); d != "" {
			return d
		}
	}
	return os.TempDir()
}

// review reads the pull request's diff, keeps the findings the filter
// mode keeps and, with review on, posts the review. fallback is set when
// the findings must go to annotations because GitHub could not be told.
func (rt *Runtime) review(ctx context.Context, client *Client, pr *PR, in *Inputs, res *finding.Result, located []finding.Finding, rules map[string]*finding.RuleInfo, workspace string) (kept []finding.Finding, rv *ReviewOutcome, fallback bool) {
	r := &Reviewer{
		Client: client, PR: *pr, Rules: rules, MaxComments: in.MaxComments,
		Suggest: rt.Suggest,
		Owns:    under(RepoPath(in.Path, workspace)),
		Logf:    func(f string, a ...any) { rt.GHA.Warningf(f, a...) },
	}
	if r.Suggest == nil {
		r.Suggest = fixSuggester(res.Findings, workspace)
	}
	r.Body = func(out *ReviewOutcome) string { return ReviewBody(out, res, in.FilterMode) }
	diff, err := r.ListFiles(ctx)
	if err != nil {
		// Without the diff nothing is known to be changed: report every
		// finding, as on a push.
		r.degrade(err, "reading the pull request's files")
		return located, nil, true
	}
	for _, f := range located {
		if diff.Keep(in.FilterMode, f.Location.File, f.Location.Line) {
			kept = append(kept, f)
		}
	}
	if !in.Review {
		return kept, nil, false
	}
	rv = r.Review(ctx, kept, located, diff, res.Summary.Errors)
	return kept, rv, rv.Degraded != ""
}

package action

import (
	"context"
	"fmt"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/githubfake"
)

// A body that lists more findings than its marker can remember is still
// recognised on a rerun (by the digest of them all): no second review.
func TestRerunWithManyBodyFindingsPostsNothing(t *testing.T) {
	api := githubfake.OpenAPIFromEnv(t)
	srv := githubfake.New(api, "", "acme", "shop", 3, "abc123", "tok")
	defer srv.Close()
	srv.Files = []githubfake.File{{Filename: "a.yaml", Status: "modified", Patch: "@@ -1,1 +1,2 @@\n x\n+y"}}
	client, err := NewClient(ClientOptions{APIURL: srv.APIURL(), Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	var fs []finding.Finding
	for i := range 2500 {
		fs = append(fs, finding.Finding{RuleID: "r", Severity: finding.Medium, Message: "m",
			Location: finding.Location{File: "b.yaml", Line: i + 1, Column: 1}, Fingerprint: fmt.Sprintf("%012x%020x", i*7919, i)})
	}
	res := &finding.Result{Findings: fs}
	r := &Reviewer{Client: client, PR: PR{Owner: "acme", Repo: "shop", Number: 3, HeadSHA: "abc123"}, MaxComments: 25}
	r.Body = func(out *ReviewOutcome) string { return ReviewBody(out, res, FilterNone) }
	diff, err := r.ListFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		out := r.Review(context.Background(), fs, fs, diff, nil)
		if out.Degraded != "" || len(out.NotInline) != 2500 {
			t.Fatalf("run %d: degraded %q, %d not inline", run, out.Degraded, len(out.NotInline))
		}
	}
	_, reviews, _, violations := srv.Snapshot()
	if len(reviews) != 1 || len(violations) > 0 {
		t.Errorf("%d reviews (want 1), violations %v", len(reviews), violations)
	}
	if n := len(reviews[0].Body); n > 65536 {
		t.Errorf("review body of %d characters is over GitHub's limit", n)
	}
}

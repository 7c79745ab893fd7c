package action

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// PR is the pull request under review.
type PR struct {
	Owner, Repo string
	Number      int
	// HeadSHA is the commit reviewed (the review's commit_id).
	HeadSHA string
}

// Reviewer posts one review per run on a pull request and keeps earlier
// runs' comments in step with the findings.
type Reviewer struct {
	Client *Client
	PR     PR
	// Rules documents the rules that ran (titles).
	Rules map[string]*finding.RuleInfo
	// MaxComments caps the inline comments of one review.
	MaxComments int
	// Suggest returns a ```suggestion block for a finding, "" for none.
	Suggest func(*finding.Finding) string
	// Owns reports whether a file is linted by this run: comments on other
	// files belong to other runs (a matrix over paths) and are left be.
	// Nil owns every file.
	Owns func(path string) bool
	// Body renders the review's body from what the review holds.
	Body func(*ReviewOutcome) string
	Logf func(format string, args ...any)
}

// Skip reasons of findings that are not commented inline.
const (
	whyOutsideDiff = "not in the diff"
	whyOverLimit   = "over max-comments"
	whyRefused     = "GitHub refused the line"
)

// NotInline is a kept finding that has no inline comment, and why.
type NotInline struct {
	Finding *finding.Finding
	Why     string
}

// ReviewOutcome is what a run did to the pull request.
type ReviewOutcome struct {
	// Kept are the findings the filter kept, most severe first.
	Kept []finding.Finding
	// Posted is set when a review was posted.
	Posted   bool
	ReviewID int64
	// Comments are the inline comments posted in this run.
	Comments int
	// Already counts kept findings an earlier run commented.
	Already int
	// Dropped counts comments GitHub refused (422) that were left out.
	Dropped   int
	NotInline []NotInline
	Deleted   int
	Replied   int
	// Degraded says why the review could not be (fully) posted, "" when
	// it was; the findings then go to annotations and the summary.
	Degraded string
	// Errors are the run's input errors, for the body.
	Errors []finding.InputError
}

// HTTPStatus is the status of a failed API call, 0 when there was none.
func HTTPStatus(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response.StatusCode
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) && ab.Response != nil {
		return ab.Response.StatusCode
	}
	return 0
}

// ListFiles reads the pull request's changed files (all pages) into a
// Diff. Removed files are left out: nothing on the head side to review.
func (r *Reviewer) ListFiles(ctx context.Context) (Diff, error) {
	d := Diff{}
	var bad []string
	for f, err := range r.Client.PullRequests.ListFilesIter(ctx, r.PR.Owner, r.PR.Repo, r.PR.Number, &github.ListOptions{PerPage: 100}) {
		if err != nil {
			return nil, fmt.Errorf("listing the files of pull request #%d: %w", r.PR.Number, err)
		}
		if f.GetStatus() == "removed" {
			continue
		}
		fd, err := ParsePatch(f.GetFilename(), f.GetPatch())
		if err != nil {
			bad = append(bad, err.Error())
		}
		d[f.GetFilename()] = fd
	}
	if len(bad) > 0 && r.Logf != nil {
		r.Logf("kubectl-secure: some patches could not be read, their lines are not reviewed: %s", strings.Join(bad, "; "))
	}
	return d, nil
}

// ownComment is an earlier inline comment of this tool.
type ownComment struct {
	c       *github.PullRequestComment
	fp      string
	replied bool // somebody answered it
	fixed   bool // this tool already said it was fixed
}

func commentKey(path string, line int, fp string) string {
	return fmt.Sprintf("%s\x00%d\x00%s", path, line, fp)
}

// Review posts one review with the kept findings not yet commented and
// tidies earlier comments whose finding is gone. all are every finding of
// the run (a finding outside the diff is not gone).
func (r *Reviewer) Review(ctx context.Context, kept, all []finding.Finding, diff Diff, errs []finding.InputError) *ReviewOutcome {
	out := &ReviewOutcome{Kept: sortBySeverity(kept), Errors: errs}

	own, seen, digests, err := r.earlier(ctx)
	if err != nil {
		out.Degraded = r.degrade(err, "reading earlier review comments")
		return out
	}
	posted := map[string]bool{}
	for _, oc := range own {
		if oc.c.Line != nil {
			posted[commentKey(oc.c.GetPath(), oc.c.GetLine(), oc.fp)] = true
		}
	}

	// New comments, most severe first, up to the limit. The limit counts
	// this tool's comments still standing for current findings, so that
	// a rerun does not post the overflow of the run before.
	budget := r.MaxComments
	for i := range out.Kept {
		f := &out.Kept[i]
		if posted[commentKey(f.Location.File, f.Location.Line, f.Fingerprint)] {
			budget--
		}
	}
	var draft []*draftComment
	planned := map[string]bool{}
	for i := range out.Kept {
		f := &out.Kept[i]
		key := commentKey(f.Location.File, f.Location.Line, f.Fingerprint)
		switch {
		case !diff.Commentable(f.Location.File, f.Location.Line):
			out.NotInline = append(out.NotInline, NotInline{f, whyOutsideDiff})
		case posted[key]:
			out.Already++
		case planned[key]:
		case len(draft) >= budget:
			out.NotInline = append(out.NotInline, NotInline{f, whyOverLimit})
		default:
			planned[key] = true
			draft = append(draft, r.draft(f))
		}
	}

	// Post only when there is something an earlier review did not say.
	keys := bodyKeys(out)
	fresh := len(draft) > 0
	if !fresh && !digests[keysDigest(sortedSet(keys))] {
		for _, k := range keys {
			fresh = fresh || !seen[k]
		}
	}
	if fresh {
		r.post(ctx, out, draft)
	}
	if out.Degraded == "" {
		r.tidy(ctx, out, own, all)
	}
	return out
}

// bodyKeys are what a review body says: findings not commented inline
// and input errors.
func bodyKeys(out *ReviewOutcome) []string {
	var keys []string
	for _, n := range out.NotInline {
		keys = append(keys, seenKey(n.Finding.Fingerprint))
	}
	for _, e := range out.Errors {
		keys = append(keys, errorKey(e))
	}
	return keys
}

// sortedSet returns the distinct keys, sorted.
func sortedSet(keys []string) []string {
	out := slices.Clone(keys)
	slices.Sort(out)
	return slices.Compact(out)
}

// earlier lists this tool's earlier comments and what its earlier review
// bodies said (all pages of both).
func (r *Reviewer) earlier(ctx context.Context) (own map[int64]*ownComment, seen, digests map[string]bool, err error) {
	own = map[int64]*ownComment{}
	var replies []*github.PullRequestComment
	opts := &github.PullRequestListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for c, err := range r.Client.PullRequests.ListCommentsIter(ctx, r.PR.Owner, r.PR.Repo, r.PR.Number, opts) {
		if err != nil {
			return nil, nil, nil, fmt.Errorf("listing review comments: %w", err)
		}
		if c.GetInReplyTo() != 0 {
			replies = append(replies, c)
			continue
		}
		if fp := commentFingerprint(c.GetBody()); fp != "" {
			own[c.GetID()] = &ownComment{c: c, fp: fp}
		}
	}
	for _, c := range replies {
		if oc := own[c.GetInReplyTo()]; oc != nil {
			if strings.Contains(c.GetBody(), fixedMarker) {
				oc.fixed = true
			} else {
				oc.replied = true
			}
		}
	}
	seen, digests = map[string]bool{}, map[string]bool{}
	for rv, err := range r.Client.PullRequests.ListReviewsIter(ctx, r.PR.Owner, r.PR.Repo, r.PR.Number, &github.ListOptions{PerPage: 100}) {
		if err != nil {
			return nil, nil, nil, fmt.Errorf("listing reviews: %w", err)
		}
		parseSeen(rv.GetBody(), seen, digests)
	}
	return own, seen, digests, nil
}

// draftComment is a comment to post and the finding it is about.
type draftComment struct {
	f *finding.Finding
	c *github.DraftReviewComment
}

func (r *Reviewer) draft(f *finding.Finding) *draftComment {
	sugg := ""
	if r.Suggest != nil {
		sugg = r.Suggest(f)
	}
	return &draftComment{f: f, c: &github.DraftReviewComment{
		Path: github.Ptr(f.Location.File),
		Line: github.Ptr(f.Location.Line),
		Side: github.Ptr("RIGHT"),
		Body: github.Ptr(CommentBody(f, r.Rules, sugg)),
	}}
}

// post posts the review. GitHub refuses a whole review (422) when one
// comment is on a line outside the diff (after a force-push, say) without
// saying which: the comments it accepts are found by bisecting with
// pending reviews (validated like real ones, then deleted), and the
// review is posted once with those.
func (r *Reviewer) post(ctx context.Context, out *ReviewOutcome, draft []*draftComment) {
	err := r.create(ctx, out, draft, "COMMENT")
	if HTTPStatus(err) == http.StatusUnprocessableEntity && len(draft) > 0 {
		r.logf("kubectl-secure: GitHub refused the review (HTTP 422, a line no longer in the diff?); finding the comments it accepts")
		ok, probeErr := r.accepted(ctx, draft)
		if probeErr == nil {
			for _, d := range draft {
				if !slices.Contains(ok, d) {
					out.Dropped++
					out.NotInline = append(out.NotInline, NotInline{d.f, whyRefused})
				}
			}
			err = r.create(ctx, out, ok, "COMMENT")
		} else {
			err = probeErr
		}
	}
	if err != nil {
		out.Degraded = r.degrade(err, "posting the review")
	}
}

// create posts one review (event "" makes a pending one).
func (r *Reviewer) create(ctx context.Context, out *ReviewOutcome, draft []*draftComment, event string) error {
	req := &github.PullRequestReviewRequest{CommitID: github.Ptr(r.PR.HeadSHA)}
	for _, d := range draft {
		req.Comments = append(req.Comments, d.c)
	}
	if event != "" {
		req.Event = github.Ptr(event)
		out.Comments = len(draft) // the body says how many
		req.Body = github.Ptr(r.Body(out))
	}
	rv, _, err := r.Client.PullRequests.CreateReview(ctx, r.PR.Owner, r.PR.Repo, r.PR.Number, req)
	if err != nil {
		if out != nil {
			out.Comments = 0
		}
		return err
	}
	if event == "" {
		_, _, err = r.Client.PullRequests.DeletePendingReview(ctx, r.PR.Owner, r.PR.Repo, r.PR.Number, rv.GetID())
		return err
	}
	out.Posted, out.ReviewID, out.Comments = true, rv.GetID(), len(draft)
	return nil
}

// accepted returns the comments GitHub takes, bisecting with pending
// reviews.
func (r *Reviewer) accepted(ctx context.Context, draft []*draftComment) ([]*draftComment, error) {
	if len(draft) == 0 {
		return nil, nil
	}
	err := r.create(ctx, nil, draft, "")
	switch {
	case err == nil:
		return slices.Clone(draft), nil // appended to by the caller
	case HTTPStatus(err) != http.StatusUnprocessableEntity:
		return nil, err
	case len(draft) == 1:
		return nil, nil
	}
	half := len(draft) / 2
	a, err := r.accepted(ctx, draft[:half])
	if err != nil {
		return nil, err
	}
	b, err := r.accepted(ctx, draft[half:])
	return append(a, b...), err
}

// tidy deletes this tool's comments whose finding is gone, or answers
// them "fixed" when somebody replied (deleting would lose the thread).
func (r *Reviewer) tidy(ctx context.Context, out *ReviewOutcome, own map[int64]*ownComment, all []finding.Finding) {
	current := make(map[string]bool, len(all))
	for i := range all {
		current[all[i].Fingerprint] = true
	}
	ids := make([]int64, 0, len(own))
	for id := range own {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		oc := own[id]
		if current[oc.fp] || oc.fixed || (r.Owns != nil && !r.Owns(oc.c.GetPath())) {
			continue
		}
		var err error
		if oc.replied {
			body := fmt.Sprintf("Fixed in %s: kubectl-secure no longer reports this finding.\n\n%s", r.PR.HeadSHA, fixedMarker)
			if err = r.reply(ctx, id, body); err == nil {
				out.Replied++
			}
		} else if _, err = r.Client.PullRequests.DeleteComment(ctx, r.PR.Owner, r.PR.Repo, id); err == nil {
			out.Deleted++
		}
		if err != nil {
			r.logf("kubectl-secure: could not tidy review comment %d: %v", id, err)
		}
	}
}

// reply answers a review comment through the replies endpoint
// (go-github's CreateCommentInReplyTo posts in_reply_to to the comments
// endpoint, whose published schema also requires commit_id and path).
func (r *Reviewer) reply(ctx context.Context, id int64, body string) error {
	u := fmt.Sprintf("repos/%v/%v/pulls/%d/comments/%d/replies", r.PR.Owner, r.PR.Repo, r.PR.Number, id)
	req, err := r.Client.NewRequest(ctx, http.MethodPost, u, map[string]string{"body": body})
	if err != nil {
		return err
	}
	_, err = r.Client.Do(req, nil)
	return err
}

// degrade turns a failed API call into the one log line that says the
// findings go to annotations and the summary instead.
func (r *Reviewer) degrade(err error, doing string) string {
	var why string
	switch s := HTTPStatus(err); s {
	case http.StatusForbidden, http.StatusNotFound:
		why = fmt.Sprintf("%s: HTTP %d — the token cannot write to this pull request (a fork's read-only token, or no `pull-requests: write` permission)", doing, s)
	default:
		why = fmt.Sprintf("%s: %v", doing, err)
	}
	r.logf("kubectl-secure: no review posted (%s); the findings are reported as annotations and in the job summary instead", why)
	return why
}

func (r *Reviewer) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// sortBySeverity returns the findings most severe first, then by file and
// line.
func sortBySeverity(fs []finding.Finding) []finding.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b finding.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), finding.Compare(&a, &b))
	})
	return out
}

// Package githubfake is an in-process GitHub REST API for the Action's
// tests: just the pull request endpoints the Action uses, answering like
// GitHub does — Link-header pagination, 422 for a review comment on a
// line outside the diff, 403 for a read-only token, rate-limit headers —
// and validating every request body against GitHub's OpenAPI description.
package githubfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// File is a changed file of the pull request.
type File struct {
	Filename string `json:"filename"`
	Status   string `json:"status"`
	Patch    string `json:"patch,omitempty"`
}

// Comment is a review comment.
type Comment struct {
	ID                  int64  `json:"id"`
	PullRequestReviewID int64  `json:"pull_request_review_id,omitempty"`
	InReplyToID         int64  `json:"in_reply_to_id,omitempty"`
	Path                string `json:"path"`
	Line                *int   `json:"line"`
	Side                string `json:"side,omitempty"`
	CommitID            string `json:"commit_id"`
	Body                string `json:"body"`
	User                User   `json:"user"`
}

// User is a comment's author.
type User struct {
	Login string `json:"login"`
	Type  string `json:"type"`
}

// Review is a posted (or pending) review.
type Review struct {
	ID       int64  `json:"id"`
	Body     string `json:"body"`
	State    string `json:"state"`
	CommitID string `json:"commit_id"`
	User     User   `json:"user"`
	// Comments are the inline comments it was posted with.
	Comments []Comment `json:"-"`
}

// Request is one request the server received.
type Request struct {
	Method, Path, Query string
	Body                []byte
	Auth                string
	Status              int
}

// RateLimit makes the server refuse matching requests Times times.
type RateLimit struct {
	// Method and PathSuffix select requests ("" matches any).
	Method, PathSuffix string
	Times              int
	// Status is 403 or 429; RetryAfter is sent when > 0, else
	// x-ratelimit-remaining: 0 with a reset ResetIn from now.
	Status     int
	RetryAfter int
	ResetIn    time.Duration
}

// Server is the fake. Its fields may be changed between runs (under Lock).
type Server struct {
	*httptest.Server
	// Prefix is the API's path prefix ("/api/v3" on Enterprise Server).
	Prefix      string
	Owner, Repo string
	Number      int
	HeadSHA     string
	Token       string
	// ReadOnly answers writes with 403, as a fork's token.
	ReadOnly bool
	// BotLogin is the token's user.
	BotLogin   string
	Files      []File
	Comments   []Comment
	Reviews    []Review
	RateLimits []RateLimit
	// Refuse are lines (by path) GitHub no longer takes comments on,
	// though the listed patch has them: a force-push it has seen.
	Refuse map[string]map[int]bool
	// Violations are requests GitHub would refuse (unknown operation,
	// body not matching the OpenAPI schema, wrong token).
	Violations []string
	Requests   []Request

	api    *OpenAPI
	mu     sync.Mutex
	nextID int64
	right  map[string]map[int]bool
	left   map[string]map[int]bool
}

// New starts a fake for owner/repo pull request number; api may be nil
// (no schema validation, for benchmarks).
func New(api *OpenAPI, prefix, owner, repo string, number int, head, token string) *Server {
	s := &Server{Prefix: prefix, Owner: owner, Repo: repo, Number: number, HeadSHA: head, Token: token, BotLogin: "github-actions[bot]", api: api, nextID: 1000}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL of the API (GITHUB_API_URL).
func (s *Server) APIURL() string { return s.Server.URL + s.Prefix }

// Lock and Unlock guard the fields between runs.
func (s *Server) Lock()   { s.mu.Lock() }
func (s *Server) Unlock() { s.mu.Unlock() }

// AddComment adds a comment as if someone (or an earlier run) posted it.
func (s *Server) AddComment(c Comment) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.ID = s.id()
	if c.User.Login == "" {
		c.User = User{Login: "octocat", Type: "User"}
	}
	s.Comments = append(s.Comments, c)
	return c
}

func (s *Server) id() int64 { s.nextID++; return s.nextID }

// Snapshot returns copies of the comments, reviews and requests so far.
func (s *Server) Snapshot() (comments []Comment, reviews []Review, reqs []Request, violations []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.Comments), slices.Clone(s.Reviews), slices.Clone(s.Requests), slices.Clone(s.Violations)
}

// ResetRequests forgets the requests and violations seen so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Requests, s.Violations = nil, nil
}

var (
	reFiles    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)/files$`)
	reComments = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)/comments$`)
	reReviews  = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)/reviews$`)
	reReview   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)/reviews/(\d+)$`)
	reReply    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)/comments/(\d+)/replies$`)
	reHunk     = regexp.MustCompile(`^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@`)
	reComment  = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/comments/(\d+)$`)
)

type apiError struct {
	Message string   `json:"message"`
	Errors  []string `json:"errors,omitempty"`
	DocURL  string   `json:"documentation_url,omitempty"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Auth: r.Header.Get("Authorization")}
	status := s.handle(w, r, body)
	req.Status = status
	s.Requests = append(s.Requests, req)
}

func (s *Server) violate(format string, args ...any) {
	s.Violations = append(s.Violations, fmt.Sprintf(format, args...))
}

func reply(w http.ResponseWriter, status int, v any) int {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		w.Write(marshal(v))
	}
	return status
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte) int {
	path, ok := strings.CutPrefix(r.URL.Path, s.Prefix)
	if !ok {
		s.violate("%s %s: outside the API prefix %q", r.Method, r.URL.Path, s.Prefix)
		return reply(w, 404, apiError{Message: "Not Found"})
	}
	if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token && r.Header.Get("Authorization") != "token "+s.Token {
		s.violate("%s %s: bad Authorization header", r.Method, path)
		return reply(w, 401, apiError{Message: "Bad credentials"})
	}
	if s.api != nil {
		if err := s.api.Validate(r.Method, path, body); err != nil {
			s.violate("%v", err)
			return reply(w, 422, apiError{Message: "Invalid request.", Errors: []string{err.Error()}})
		}
	}
	for i := range s.RateLimits {
		rl := &s.RateLimits[i]
		if rl.Times > 0 && (rl.Method == "" || rl.Method == r.Method) && strings.HasSuffix(path, rl.PathSuffix) {
			rl.Times--
			if rl.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(rl.RetryAfter))
			} else {
				w.Header().Set("X-Ratelimit-Limit", "5000")
				w.Header().Set("X-Ratelimit-Remaining", "0")
				w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(time.Now().Add(rl.ResetIn).Unix(), 10))
			}
			return reply(w, rl.Status, apiError{Message: "API rate limit exceeded"})
		}
	}
	w.Header().Set("X-Ratelimit-Limit", "5000")
	w.Header().Set("X-Ratelimit-Remaining", "4999")
	w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))

	write := r.Method != http.MethodGet
	if write && s.ReadOnly {
		return reply(w, 403, apiError{Message: "Resource not accessible by integration"})
	}
	pr := func(m []string) bool {
		return m[1] == s.Owner && m[2] == s.Repo && m[3] == strconv.Itoa(s.Number)
	}
	switch m := []string(nil); {
	case r.Method == "GET" && s.match(reFiles, path, &m) && pr(m):
		return page(s, w, r, s.Files)
	case r.Method == "GET" && s.match(reComments, path, &m) && pr(m):
		return page(s, w, r, s.Comments)
	case r.Method == "GET" && s.match(reReviews, path, &m) && pr(m):
		var posted []Review
		for _, rv := range s.Reviews {
			if rv.State != "PENDING" {
				posted = append(posted, rv)
			}
		}
		return page(s, w, r, posted)
	case r.Method == "POST" && s.match(reReviews, path, &m) && pr(m):
		return s.createReview(w, body)
	case r.Method == "DELETE" && s.match(reReview, path, &m) && pr(m):
		id, _ := strconv.ParseInt(m[4], 10, 64)
		for i, rv := range s.Reviews {
			if rv.ID == id {
				if rv.State != "PENDING" {
					return reply(w, 422, apiError{Message: "Can not delete a non-pending pull request review"})
				}
				s.Reviews = slices.Delete(s.Reviews, i, i+1)
				return reply(w, 200, rv)
			}
		}
		return reply(w, 404, apiError{Message: "Not Found"})
	case r.Method == "POST" && s.match(reReply, path, &m) && pr(m):
		id, _ := strconv.ParseInt(m[4], 10, 64)
		var in struct {
			Body string `json:"body"`
		}
		json.Unmarshal(body, &in)
		for _, c := range s.Comments {
			if c.ID == id {
				rc := Comment{ID: s.id(), InReplyToID: id, Path: c.Path, Line: c.Line, Side: c.Side, CommitID: s.HeadSHA, Body: in.Body, User: User{Login: s.BotLogin, Type: "Bot"}}
				s.Comments = append(s.Comments, rc)
				return reply(w, 201, rc)
			}
		}
		return reply(w, 404, apiError{Message: "Not Found"})
	case r.Method == "DELETE" && s.match(reComment, path, &m) && m[1] == s.Owner && m[2] == s.Repo:
		id, _ := strconv.ParseInt(m[3], 10, 64)
		for i, c := range s.Comments {
			if c.ID == id {
				if c.User.Login != s.BotLogin {
					return reply(w, 403, apiError{Message: "Must have admin rights to Repository."})
				}
				s.Comments = slices.Delete(s.Comments, i, i+1)
				w.WriteHeader(204)
				return 204
			}
		}
		return reply(w, 404, apiError{Message: "Not Found"})
	}
	s.violate("%s %s: not served by the fake", r.Method, path)
	return reply(w, 404, apiError{Message: "Not Found"})
}

func (s *Server) match(re *regexp.Regexp, path string, m *[]string) bool {
	*m = re.FindStringSubmatch(path)
	return *m != nil
}

// page answers a list with GitHub's pagination: per_page (default 30,
// at most 100), page, and a Link header with next, last, prev and first.
func page[T any](s *Server, w http.ResponseWriter, r *http.Request, all []T) int {
	q := r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 {
		per = 30
	}
	per = min(per, 100)
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n <= 0 {
		n = 1
	}
	last := max(1, (len(all)+per-1)/per)
	link := func(p int, rel string) string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		qq := u.Query()
		qq.Set("per_page", strconv.Itoa(per))
		qq.Set("page", strconv.Itoa(p))
		u.RawQuery = qq.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if n < last {
		links = append(links, link(n+1, "next"), link(last, "last"))
	}
	if n > 1 {
		links = append(links, link(n-1, "prev"), link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo, hi := min((n-1)*per, len(all)), min(n*per, len(all))
	out := all[lo:hi]
	if out == nil {
		out = []T{}
	}
	return reply(w, 200, out)
}

// draft is a review comment as the API takes it.
type draft struct {
	Path      string `json:"path"`
	Position  *int   `json:"position"`
	Line      *int   `json:"line"`
	Side      string `json:"side"`
	StartLine *int   `json:"start_line"`
	Body      string `json:"body"`
}

func (s *Server) createReview(w http.ResponseWriter, body []byte) int {
	var in struct {
		CommitID string  `json:"commit_id"`
		Body     string  `json:"body"`
		Event    string  `json:"event"`
		Comments []draft `json:"comments"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return reply(w, 400, apiError{Message: "Problems parsing JSON"})
	}
	if in.Event == "COMMENT" && in.Body == "" {
		return reply(w, 422, apiError{Message: "Unprocessable Entity", Errors: []string{"Body is required for COMMENT"}})
	}
	s.hunks()
	for _, d := range in.Comments {
		if d.Line == nil {
			return reply(w, 422, apiError{Message: "Unprocessable Entity", Errors: []string{"line is required (this fake takes line and side, not position)"}})
		}
		side := d.Side
		if side == "" {
			side = "RIGHT"
		}
		lines := s.right[d.Path]
		if side == "LEFT" {
			lines = s.left[d.Path]
		}
		if !lines[*d.Line] || s.Refuse[d.Path][*d.Line] {
			// GitHub's answer when the line is not in a hunk on that side.
			return reply(w, 422, apiError{Message: "Unprocessable Entity", Errors: []string{"Pull request review thread line must be part of the diff"}})
		}
	}
	state := "COMMENTED"
	if in.Event == "" {
		state = "PENDING"
		for _, rv := range s.Reviews {
			if rv.State == "PENDING" {
				return reply(w, 422, apiError{Message: "Unprocessable Entity", Errors: []string{"User can only have one pending review per pull request"}})
			}
		}
	}
	commit := in.CommitID
	if commit == "" {
		commit = s.HeadSHA
	}
	rv := Review{ID: s.id(), Body: in.Body, State: state, CommitID: commit, User: User{Login: s.BotLogin, Type: "Bot"}}
	for _, d := range in.Comments {
		line := *d.Line
		c := Comment{ID: s.id(), PullRequestReviewID: rv.ID, Path: d.Path, Line: &line, Side: "RIGHT", CommitID: commit, Body: d.Body, User: rv.User}
		rv.Comments = append(rv.Comments, c)
		if state != "PENDING" {
			s.Comments = append(s.Comments, c)
		}
	}
	s.Reviews = append(s.Reviews, rv)
	return reply(w, 200, rv)
}

// hunks computes, from the files' patches, the lines a comment may take
// on each side.
func (s *Server) hunks() {
	s.right, s.left = map[string]map[int]bool{}, map[string]map[int]bool{}
	for _, f := range s.Files {
		right, left := map[int]bool{}, map[int]bool{}
		s.right[f.Filename], s.left[f.Filename] = right, left
		var l, r int
		for _, line := range strings.Split(f.Patch, "\n") {
			switch {
			case strings.HasPrefix(line, "@@"):
				if m := reHunk.FindStringSubmatch(line); m != nil {
					l, _ = strconv.Atoi(m[1])
					r, _ = strconv.Atoi(m[2])
				}
			case strings.HasPrefix(line, "+"):
				right[r] = true
				r++
			case strings.HasPrefix(line, "-"):
				left[l] = true
				l++
			case strings.HasPrefix(line, " "):
				right[r], left[l] = true, true
				r++
				l++
			}
		}
	}
}

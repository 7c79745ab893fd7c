package action

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v89/github"
)

// ClientOptions shape the REST client.
type ClientOptions struct {
	// APIURL is GITHUB_API_URL (https://api.github.com, or
	// https://HOST/api/v3 on GitHub Enterprise Server). Every request
	// goes there and nowhere else.
	APIURL string
	Token  string
	// Transport is the underlying transport (nil: http.DefaultTransport).
	Transport http.RoundTripper
	// MaxWait bounds one wait for a rate limit; a limit that would need
	// longer is not waited for (the request then fails and the run
	// degrades). Zero means 60 s.
	MaxWait time.Duration
	// Retries bounds the retries of one request after rate limits
	// (zero means 3).
	Retries int
	// Sleep waits (tests shorten it); nil sleeps for real.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for x-ratelimit-reset; nil means time.Now.
	Now func() time.Time
	// Logf reports waits.
	Logf func(format string, args ...any)
}

// Client is a go-github client for one repository's API, counting its
// requests.
type Client struct {
	*github.Client
	requests atomic.Int64
}

// Requests is how many HTTP requests the client sent (retries included).
func (c *Client) Requests() int64 { return c.requests.Load() }

// NewClient builds the REST client for opt.APIURL.
func NewClient(opt ClientOptions) (*Client, error) {
	base, err := url.Parse(strings.TrimSuffix(opt.APIURL, "/") + "/")
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("GITHUB_API_URL %q is not an http(s) URL", opt.APIURL)
	}
	c := &Client{}
	rt := &retryTransport{opt: opt, count: &c.requests}
	if rt.opt.Transport == nil {
		rt.opt.Transport = http.DefaultTransport
	}
	api := base.String()
	copts := []github.ClientOptionsFunc{
		github.WithTransport(rt),
		github.WithTimeout(2 * time.Minute),
		// Exactly GITHUB_API_URL: no guessing of /api/v3 paths.
		github.WithURLs(&api, &api),
		// Rate limits are waited out by the transport, within a bound,
		// not refused up front.
		github.WithDisableRateLimitCheck(),
	}
	if opt.Token != "" {
		copts = append(copts, github.WithAuthToken(opt.Token))
	}
	gh, err := github.NewClient(copts...)
	if err != nil {
		return nil, fmt.Errorf("GitHub client: %w", err)
	}
	c.Client = gh
	return c, nil
}

// retryTransport waits out rate limits (403 or 429 with Retry-After or an
// exhausted x-ratelimit-remaining), within a bound, and retries.
type retryTransport struct {
	opt   ClientOptions
	count *atomic.Int64
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	retries := t.opt.Retries
	if retries == 0 {
		retries = 3
	}
	for attempt := 0; ; attempt++ {
		t.count.Add(1)
		resp, err := t.opt.Transport.RoundTrip(req)
		if err != nil || attempt == retries {
			return resp, err
		}
		wait, limited := t.rateLimitWait(resp)
		if !limited {
			return resp, nil
		}
		maxWait := t.opt.MaxWait
		if maxWait == 0 {
			maxWait = time.Minute
		}
		if wait > maxWait || (req.Body != nil && req.GetBody == nil) {
			return resp, nil
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if t.opt.Logf != nil {
			t.opt.Logf("GitHub API rate limit (HTTP %d): waiting %s before retrying %s %s", resp.StatusCode, wait.Round(time.Second), req.Method, req.URL.Path)
		}
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
		next := req.Clone(req.Context())
		if req.GetBody != nil {
			if next.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		req = next
	}
}

func (t *retryTransport) sleep(ctx context.Context, d time.Duration) error {
	if t.opt.Sleep != nil {
		return t.opt.Sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// rateLimitWait tells whether resp is a rate limit and how long GitHub
// asks to wait: Retry-After, else until x-ratelimit-reset, else a minute
// (GitHub's advice for secondary limits without either header).
func (t *retryTransport) rateLimitWait(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusForbidden {
		return 0, false
	}
	h := resp.Header
	if s := h.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
	}
	if h.Get("X-Ratelimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			now := time.Now
			if t.opt.Now != nil {
				now = t.opt.Now
			}
			return max(time.Unix(reset, 0).Sub(now())+time.Second, time.Second), true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return time.Minute, true
	}
	return 0, false // a plain 403: permissions, not a limit
}

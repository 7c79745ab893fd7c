package imagesig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media and artifact types cosign writes.
const (
	simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	dsseLayerMediaType     = "application/vnd.dsse.envelope.v1+json"
	bundleMediaTypePrefix  = "application/vnd.dev.sigstore.bundle"
	bundlePredicateAnnot   = "dev.sigstore.bundle.predicateType"
	emptyConfigMediaType   = "application/vnd.oci.empty.v1+json"
	cosignSignPredicate    = "https://sigstore.dev/cosign/sign/v1"

	sigAnnotation       = "dev.cosignproject.cosign/signature"
	certAnnotation      = "dev.sigstore.cosign/certificate"
	chainAnnotation     = "dev.sigstore.cosign/chain"
	rekorAnnotation     = "dev.sigstore.cosign/bundle"
	timestampAnnotation = "dev.sigstore.cosign/rfc3161timestamp"

	maxBlobSize   = 4 << 20
	maxSigLayers  = 100
	maxReferrers  = 100
	defaultJobs   = 16
	defaultTimout = 20 * time.Second
)

// Option configures a Verifier.
type Option func(*Verifier)

// WithKeychain sets where registry credentials come from (default:
// authn.DefaultKeychain, i.e. the Docker config and credential helpers).
func WithKeychain(k authn.Keychain) Option { return func(v *Verifier) { v.keychain = k } }

// WithTimeout bounds each registry request, including reading its body
// (default 20s). Retries get a fresh timeout each.
func WithTimeout(d time.Duration) Option { return func(v *Verifier) { v.timeout = d } }

// WithConcurrency bounds how many images VerifyAll verifies at once (default 16).
func WithConcurrency(n int) Option { return func(v *Verifier) { v.jobs = n } }

// WithRetry sets how many times a request is tried on 408, 429, 5xx and
// temporary network errors, and the first backoff, doubled each time
// (default 3 tries, 200ms).
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(v *Verifier) { v.attempts, v.backoff = attempts, backoff }
}

// WithPlainHTTPLoopback allows (default) or forbids plain HTTP to loopback
// registries. Plain HTTP to any other host is always refused.
func WithPlainHTTPLoopback(allowed bool) Option {
	return func(v *Verifier) { v.httpLoopback = allowed }
}

// WithTransport sets the base HTTP transport (default: a clone of
// go-containerregistry's). The loopback guard, per-request timeout, retries
// and authentication are layered on top of it.
func WithTransport(t http.RoundTripper) Option { return func(v *Verifier) { v.base = t } }

// WithPlatform sets the platform whose manifest is checked when a multi-arch
// index itself is not signed (default linux/amd64).
func WithPlatform(p v1.Platform) Option { return func(v *Verifier) { v.platform = p } }

// WithUserAgent sets the User-Agent sent to registries.
func WithUserAgent(ua string) Option { return func(v *Verifier) { v.userAgent = ua } }

// Verifier verifies image signatures. It is safe for concurrent use and keeps
// registry tokens and connections across calls.
type Verifier struct {
	keychain     authn.Keychain
	timeout      time.Duration
	jobs         int
	attempts     int
	backoff      time.Duration
	httpLoopback bool
	base         http.RoundTripper
	platform     v1.Platform
	userAgent    string

	tufCache  string
	tufMaxAge time.Duration
	notations *notationCache

	puller    *remote.Puller
	pullerErr error
	roots     *rootCache
}

// New returns a Verifier.
func New(opts ...Option) *Verifier {
	v := &Verifier{
		keychain:     authn.DefaultKeychain,
		timeout:      defaultTimout,
		jobs:         defaultJobs,
		attempts:     3,
		backoff:      200 * time.Millisecond,
		httpLoopback: true,
		platform:     v1.Platform{OS: "linux", Architecture: "amd64"},
		userAgent:    "kubectl-secure",
		roots:        newRootCache(),
		notations:    &notationCache{m: map[string]*notationEntry{}},
		tufMaxAge:    defaultTUFMaxAge,
	}
	for _, o := range opts {
		o(v)
	}
	if v.jobs < 1 {
		v.jobs = 1
	}
	if v.tufCache == "" {
		v.tufCache = DefaultTUFCacheDir()
	}
	if v.attempts < 1 {
		v.attempts = 1
	}
	base := v.base
	if base == nil {
		base = remote.DefaultTransport.(*http.Transport).Clone()
	}
	var rt http.RoundTripper = &guardTransport{next: base, allowLoopback: v.httpLoopback, timeout: v.timeout}
	v.puller, v.pullerErr = remote.NewPuller(
		remote.WithTransport(rt),
		remote.WithAuthFromKeychain(v.keychain),
		remote.WithUserAgent(v.userAgent),
		remote.WithRetryBackoff(remote.Backoff{Duration: v.backoff, Factor: 2, Jitter: 0.1, Steps: v.attempts}),
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout),
		remote.WithPlatform(v.platform),
	)
	return v
}

// guardTransport refuses plain HTTP to non-loopback hosts and bounds each
// request (and the reading of its body) by a timeout.
type guardTransport struct {
	next          http.RoundTripper
	allowLoopback bool
	timeout       time.Duration
}

func (g *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && (!g.allowLoopback || !isLoopbackHost(req.URL.Hostname())) {
		return nil, fmt.Errorf("refusing plain HTTP to %s: only loopback registries may be reached without TLS", req.URL.Host)
	}
	if g.timeout <= 0 {
		return g.next.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), g.timeout)
	resp, err := g.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && req.Context().Err() == nil {
			return nil, fmt.Errorf("%s %s: no answer within %s: %w", req.Method, redactURL(req), g.timeout, err)
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

func redactURL(req *http.Request) string {
	u := *req.URL
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelBody) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// nameOptions lets loopback registries (any 127.0.0.0/8 address, ::1 or
// localhost) be reached over plain HTTP when that is allowed.
func (v *Verifier) nameOptions(ref string) []name.Option {
	i := strings.IndexByte(ref, '/')
	if i < 0 || !v.httpLoopback {
		return nil
	}
	host := ref[:i]
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if isLoopbackHost(strings.Trim(host, "[]")) {
		return []name.Option{name.Insecure}
	}
	return nil
}

// isNotFound reports a 404 (manifest or tag unknown).
func isNotFound(err error) bool {
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.StatusCode == http.StatusNotFound
	}
	return false
}

// unreachableReason turns a registry error into a one-line reason.
func unreachableReason(registry string, err error) string {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Sprintf("registry %s denied access (401 Unauthorized): no or wrong credentials (docker login %s, or a credential helper)", registry, registry)
		case http.StatusForbidden:
			return fmt.Sprintf("registry %s denied access (403 Forbidden): the credentials may not read this repository", registry)
		case http.StatusNotFound:
			return fmt.Sprintf("not found in registry %s (404): %s", registry, firstLine(terr.Error()))
		case http.StatusTooManyRequests:
			return fmt.Sprintf("registry %s kept rate-limiting (429) after retries", registry)
		}
		if terr.StatusCode >= 500 {
			return fmt.Sprintf("registry %s failed (%d %s) after retries", registry, terr.StatusCode, http.StatusText(terr.StatusCode))
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("registry %s did not answer in time: %s", registry, firstLine(err.Error()))
	}
	return fmt.Sprintf("registry %s unreachable: %s", registry, firstLine(err.Error()))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// sigLayer is one layer of a legacy .sig or .att image.
type sigLayer struct {
	mediaType   string
	content     []byte
	annotations map[string]string
}

// legacyLayers fetches the layers of the sha256-<hex>.<suffix> image; a
// missing tag gives no layers and no error.
func (v *Verifier) legacyLayers(ctx context.Context, repo name.Repository, d v1.Hash, suffix string, wantMediaType string) ([]sigLayer, error) {
	tag := repo.Tag(fmt.Sprintf("%s-%s.%s", d.Algorithm, d.Hex, suffix))
	desc, err := v.puller.Get(ctx, tag)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", tag, err)
	}
	if len(m.Layers) > maxSigLayers {
		return nil, fmt.Errorf("%s has %d layers, more than %d", tag, len(m.Layers), maxSigLayers)
	}
	out := make([]sigLayer, len(m.Layers))
	errs := make([]error, len(m.Layers))
	done := make(chan int, len(m.Layers))
	n := 0
	for i, l := range m.Layers {
		out[i] = sigLayer{mediaType: string(l.MediaType), annotations: l.Annotations}
		if string(l.MediaType) != wantMediaType {
			continue
		}
		n++
		go func(i int, dg v1.Hash) {
			out[i].content, errs[i] = v.blob(ctx, repo, dg)
			done <- i
		}(i, l.Digest)
	}
	for ; n > 0; n-- {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("reading %s: %w", tag, err)
	}
	return out, nil
}

func (v *Verifier) blob(ctx context.Context, repo name.Repository, d v1.Hash) ([]byte, error) {
	l, err := v.puller.Layer(ctx, repo.Digest(d.String()))
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxBlobSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBlobSize {
		return nil, fmt.Errorf("blob %s is larger than %d bytes", d, maxBlobSize)
	}
	// Layer.Compressed verifies the digest as it is read to the end.
	return b, nil
}

// referrerBundle is a sigstore bundle found among the referrers of a digest.
type referrerBundle struct {
	manifestDigest string
	predicateType  string // from the manifest annotation; informative only
	content        []byte
	notBundle      bool
}

// referrers lists the referrers of d (OCI 1.1 API, or the sha256-<hex> tag
// fallback), once for both the sigstore-bundle and the notation paths.
func (v *Verifier) referrers(ctx context.Context, d name.Digest) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(d, remote.Reuse(v.puller), remote.WithContext(ctx))
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("referrers of %s: %w", d.DigestStr(), err)
	}
	return im.Manifests, nil
}

// referrerManifest fetches a referrer's manifest and checks that it names d
// as its subject.
func (v *Verifier) referrerManifest(ctx context.Context, d name.Digest, desc v1.Descriptor) (*v1.Manifest, error) {
	md, err := v.puller.Get(ctx, d.Context().Digest(desc.Digest.String()))
	if err != nil {
		return nil, err
	}
	var m v1.Manifest
	if err := json.Unmarshal(md.Manifest, &m); err != nil {
		return nil, fmt.Errorf("referrer %s: %w", desc.Digest, err)
	}
	if m.Subject == nil || m.Subject.Digest.String() != d.DigestStr() {
		return nil, fmt.Errorf("referrer %s does not name %s as its subject", desc.Digest, d.DigestStr())
	}
	return &m, nil
}

// referrerBundles fetches, among the referrers descs of d, the sigstore
// bundles for which want(predicateType) is true. predicateType is "" when
// the manifest does not say.
func (v *Verifier) referrerBundles(ctx context.Context, d name.Digest, descs []v1.Descriptor, want func(string) bool) ([]referrerBundle, error) {
	var picked []v1.Descriptor
	for _, desc := range descs {
		// Registries derive artifactType from the manifest's artifactType or,
		// some of them, from its config media type (the OCI empty config for
		// cosign's bundles); the layers decide in that case.
		switch at := desc.ArtifactType; {
		case strings.HasPrefix(at, bundleMediaTypePrefix):
		case at == "" || at == emptyConfigMediaType:
		default:
			continue
		}
		if !want(desc.Annotations[bundlePredicateAnnot]) {
			continue
		}
		picked = append(picked, desc)
	}
	if len(picked) > maxReferrers {
		picked = picked[:maxReferrers]
	}
	out := make([]referrerBundle, len(picked))
	errs := make([]error, len(picked))
	done := make(chan struct{}, len(picked))
	for i, desc := range picked {
		go func(i int, desc v1.Descriptor) {
			defer func() { done <- struct{}{} }()
			out[i].manifestDigest = desc.Digest.String()
			out[i].predicateType = desc.Annotations[bundlePredicateAnnot]
			m, err := v.referrerManifest(ctx, d, desc)
			if err != nil {
				errs[i] = err
				return
			}
			for _, l := range m.Layers {
				if strings.HasPrefix(string(l.MediaType), bundleMediaTypePrefix) {
					out[i].content, errs[i] = v.blob(ctx, d.Context(), l.Digest)
					return
				}
			}
			out[i].notBundle = true
		}(i, desc)
	}
	for range picked {
		<-done
	}
	var kept []referrerBundle
	var errList []error
	for i := range out {
		switch {
		case errs[i] != nil:
			errList = append(errList, errs[i])
		case !out[i].notBundle:
			kept = append(kept, out[i])
		}
	}
	if len(kept) == 0 && len(errList) > 0 {
		return nil, errors.Join(errList...)
	}
	return kept, nil
}

// isIndex reports whether a media type is a multi-arch index.
func isIndex(mt types.MediaType) bool {
	return mt == types.OCIImageIndex || mt == types.DockerManifestList
}

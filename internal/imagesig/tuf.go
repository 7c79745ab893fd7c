package imagesig

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
)

// TUF names the TUF repository a keyless authority without a trusted_root.json
// file gets its trusted root from. The zero value is sigstore's public-good
// instance, starting from the root embedded in sigstore-go.
type TUF struct {
	// Mirror is the repository's base URL (default: the public-good CDN).
	Mirror string `json:"mirror,omitempty"`
	// Root is the path of the initial root.json to trust (default: the
	// public-good root embedded in the binary).
	Root string `json:"root,omitempty"`
}

// TUFCacheEnv overrides the default TUF cache directory.
const TUFCacheEnv = "KUBECTL_SECURE_TUF_CACHE"

// defaultTUFMaxAge is how long cached TUF metadata is used without asking the
// mirror. Past it the mirror is asked; when it cannot be reached, cached
// metadata that has not expired still serves.
const defaultTUFMaxAge = 24 * time.Hour

// trustedRootTarget is the TUF target holding sigstore's trusted root.
const trustedRootTarget = "trusted_root.json"

// DefaultTUFCacheDir returns $KUBECTL_SECURE_TUF_CACHE, else
// kubectl-secure/tuf under the user cache directory ($XDG_CACHE_HOME or
// ~/.cache on Linux).
func DefaultTUFCacheDir() string {
	if d := os.Getenv(TUFCacheEnv); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "kubectl-secure", "tuf")
}

// WithTUFCache sets the directory verified TUF metadata is cached in
// (default DefaultTUFCacheDir()).
func WithTUFCache(dir string) Option { return func(v *Verifier) { v.tufCache = dir } }

// WithTUFMaxAge sets how long cached TUF metadata is used without asking the
// mirror (default 24h; 0 always asks, falling back to an unexpired cache when
// the mirror is unreachable). Expired metadata is never used.
func WithTUFMaxAge(d time.Duration) Option { return func(v *Verifier) { v.tufMaxAge = d } }

// validate checks the TUF settings without touching the network.
func (t TUF) validate() error {
	if t.Mirror != "" {
		u, err := url.Parse(t.Mirror)
		if err != nil || u.Host == "" {
			return fmt.Errorf("TUF mirror %q is not a URL", t.Mirror)
		}
		if u.Scheme != "https" && (u.Scheme != "http" || !isLoopbackHost(u.Hostname())) {
			return fmt.Errorf("TUF mirror %q: only https (or http to a loopback address) is allowed", t.Mirror)
		}
	}
	if t.Root != "" {
		if _, err := os.Stat(t.Root); err != nil {
			return fmt.Errorf("TUF root: %w", err)
		}
	}
	return nil
}

func (t TUF) mirror() string {
	if t.Mirror == "" {
		return tuf.DefaultMirror
	}
	return t.Mirror
}

// fetchTUFTrustedRoot returns the trusted root from the TUF repository t,
// verified from its initial root, through the cache in v.tufCache. Cached
// metadata younger than v.tufMaxAge is used without a request; older, the
// mirror is asked and, only when it cannot be reached, unexpired cached
// metadata is used. Expired, tampered or rolled-back metadata is an error,
// never a fallback.
func (v *Verifier) fetchTUFTrustedRoot(t TUF) (*root.TrustedRoot, error) {
	cacheDir, maxAge := v.tufCache, v.tufMaxAge
	mirror := t.mirror()
	initial := tuf.DefaultRoot()
	if t.Root != "" {
		b, err := os.ReadFile(t.Root)
		if err != nil {
			return nil, fmt.Errorf("TUF root: %w", err)
		}
		initial = b
	}
	// One cache per initial root: changing --tuf-root never reuses metadata
	// verified from another anchor.
	sum := sha256.Sum256(initial)
	cachePath := filepath.Join(cacheDir, hex.EncodeToString(sum[:8]))
	metaDir := filepath.Join(cachePath, tuf.URLToPath(mirror))

	opts := tuf.DefaultOptions()
	opts.Root = initial
	// The cached root.json was verified, from this initial root, when it was
	// written: start from it when it is newer (after key rotations), as the
	// updater would otherwise re-walk the chain from the mirror.
	if b, err := os.ReadFile(filepath.Join(metaDir, "root.json")); err == nil && rootVersion(b) > rootVersion(initial) {
		opts.Root = b
	}
	opts.CachePath = cachePath
	opts.RepositoryBaseURL = mirror
	f := fetcher.NewDefaultFetcher()
	f.SetHTTPUserAgent(v.userAgent)
	// The same guard as for registries: no plain HTTP but to loopback.
	f.SetHTTPClient(&http.Client{Timeout: v.timeout, Transport: &guardTransport{
		next: http.DefaultTransport.(*http.Transport).Clone(), allowLoopback: v.httpLoopback,
	}})
	opts.Fetcher = f

	fresh := false
	if maxAge > 0 {
		if cfg, err := tuf.LoadConfig(filepath.Join(cachePath, tuf.URLToPath(mirror)+".json")); err == nil && time.Since(cfg.LastTimestamp) < maxAge {
			fresh = true
		}
	}
	// ForceCache: no request while the cached metadata is valid; a refresh
	// when it has expired.
	opts.ForceCache = fresh
	c, err := tuf.New(opts)
	if err != nil && isTUFUnreachable(err) {
		if !fresh {
			// The mirror cannot be reached: unexpired cached metadata serves.
			o2 := *opts
			o2.ForceCache = true
			if c2, err2 := tuf.New(&o2); err2 == nil {
				c, err = c2, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("TUF mirror %s unreachable (%s) and %s", mirror, firstLine(err.Error()), tufCacheState(metaDir))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("TUF repository %s: %s", mirror, tufReason(err))
	}
	b, err := c.GetTarget(trustedRootTarget)
	if err != nil {
		return nil, fmt.Errorf("TUF repository %s: %s: %s", mirror, trustedRootTarget, tufReason(err))
	}
	tr, err := root.NewTrustedRootFromJSON(b)
	if err != nil {
		return nil, fmt.Errorf("TUF repository %s: %s: %w", mirror, trustedRootTarget, err)
	}
	return tr, nil
}

// tufCacheState says why the cache in metaDir cannot serve offline. It only
// diagnoses; trust decisions are go-tuf's.
func tufCacheState(metaDir string) string {
	b, err := os.ReadFile(filepath.Join(metaDir, metadata.TIMESTAMP+".json"))
	if err != nil {
		return "no cached TUF metadata in " + metaDir
	}
	ts, err := metadata.Timestamp().FromBytes(b)
	if err != nil {
		return fmt.Sprintf("the cached TUF metadata in %s is unreadable: %v", metaDir, err)
	}
	if ts.Signed.IsExpired(time.Now()) {
		return fmt.Sprintf("the cached TUF metadata expired at %s (timestamp.json version %d)", ts.Signed.Expires.UTC().Format(time.RFC3339), ts.Signed.Version)
	}
	return "the cached TUF metadata in " + metaDir + " does not verify"
}

// rootVersion reads the version of a root.json (0 when unreadable).
func rootVersion(b []byte) int64 {
	var r struct {
		Signed struct {
			Version int64 `json:"version"`
		} `json:"signed"`
	}
	if json.Unmarshal(b, &r) != nil {
		return 0
	}
	return r.Signed.Version
}

// isTUFUnreachable reports a network failure (as opposed to a verification
// failure) talking to the mirror.
func isTUFUnreachable(err error) bool {
	var httpErr *metadata.ErrDownloadHTTP
	if errors.As(err, &httpErr) {
		return httpErr.StatusCode >= 500 || httpErr.StatusCode == http.StatusTooManyRequests
	}
	var urlErr *url.Error
	var netErr net.Error
	return errors.As(err, &urlErr) || errors.As(err, &netErr)
}

// tufReason names the cause of a TUF failure in a user's terms.
func tufReason(err error) string {
	var (
		expired  *metadata.ErrExpiredMetadata
		rollback *metadata.ErrBadVersionNumber
		equal    *metadata.ErrEqualVersionNumber
		unsigned *metadata.ErrUnsignedMetadata
		hash     *metadata.ErrLengthOrHashMismatch
		length   *metadata.ErrDownloadLengthMismatch
		httpErr  *metadata.ErrDownloadHTTP
	)
	switch {
	case errors.As(err, &expired):
		return fmt.Sprintf("TUF metadata expired (a stale mirror or a freeze attack): %v", err)
	case errors.As(err, &rollback), errors.As(err, &equal):
		return fmt.Sprintf("TUF rollback refused: the mirror serves an older version than one already trusted: %v", err)
	case errors.As(err, &unsigned):
		return fmt.Sprintf("TUF metadata not signed by a threshold of trusted keys (tampered, or another repository's --tuf-root): %v", err)
	case errors.As(err, &hash), errors.As(err, &length):
		return fmt.Sprintf("TUF file does not match its signed length or hash (tampered): %v", err)
	case errors.As(err, &httpErr):
		return fmt.Sprintf("TUF mirror answered HTTP %d for %s", httpErr.StatusCode, httpErr.URL)
	case isTUFUnreachable(err):
		return fmt.Sprintf("TUF mirror unreachable: %v", err)
	}
	return err.Error()
}

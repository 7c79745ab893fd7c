// Package imagesigtest provides test fixtures for image signature
// verification: an in-process OCI registry on loopback (with or without the
// referrers API, optional latency, basic auth and injected errors), helpers
// that push images, indexes and cosign-format signatures, and access to the
// real cosign CLIs built by `make cosign`.
//
// It is imported only by tests.
package imagesigtest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/kubectl-secure/kubectl-secure/internal/toolstest"
)

// Registry is an in-process OCI registry served over HTTP on 127.0.0.1.
type Registry struct {
	// Host is host:port, e.g. 127.0.0.1:40123.
	Host string
	srv  *httptest.Server

	latency   atomic.Int64 // nanoseconds
	user      string
	pass      string
	failFirst atomic.Int64 // answer this many requests with failStatus first
	failCode  int

	mu   sync.Mutex
	reqs []string
}

// RegistryOption configures NewRegistry.
type RegistryOption func(*regConfig)

type regConfig struct {
	referrers bool
	latency   time.Duration
	user      string
	pass      string
}

// WithoutReferrersAPI serves no OCI 1.1 referrers endpoint (clients must use
// the sha256-<hex> tag fallback).
func WithoutReferrersAPI() RegistryOption { return func(c *regConfig) { c.referrers = false } }

// WithLatency delays every request.
func WithLatency(d time.Duration) RegistryOption { return func(c *regConfig) { c.latency = d } }

// WithBasicAuth requires these credentials on /v2/ requests (401 otherwise).
func WithBasicAuth(user, pass string) RegistryOption {
	return func(c *regConfig) { c.user, c.pass = user, pass }
}

// NewRegistry starts a registry that is closed when the test ends.
func NewRegistry(tb testing.TB, opts ...RegistryOption) *Registry {
	tb.Helper()
	c := regConfig{referrers: true}
	for _, o := range opts {
		o(&c)
	}
	r := &Registry{user: c.user, pass: c.pass}
	r.latency.Store(int64(c.latency))
	inner := registry.New(registry.WithReferrersSupport(c.referrers), registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		if d := time.Duration(r.latency.Load()); d > 0 {
			time.Sleep(d)
		}
		if r.failFirst.Load() > 0 && r.failFirst.Add(-1) >= 0 {
			w.WriteHeader(r.failCode)
			return
		}
		if r.user != "" {
			u, p, ok := req.BasicAuth()
			if !ok || u != r.user || p != r.pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="imagesigtest"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
		}
		inner.ServeHTTP(w, req)
	}))
	tb.Cleanup(r.srv.Close)
	r.Host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

// SetLatency changes the delay added to every request.
func (r *Registry) SetLatency(d time.Duration) { r.latency.Store(int64(d)) }

// Close stops the registry (to simulate a registry going down).
func (r *Registry) Close() { r.srv.Close() }

// FailNext answers the next n requests with HTTP status code.
func (r *Registry) FailNext(n int, code int) {
	r.failCode = code
	r.failFirst.Store(int64(n))
}

// Requests returns "METHOD /path" for every request so far.
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// ResetRequests forgets the recorded requests.
func (r *Registry) ResetRequests() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}

// Ref returns host/repo[:tag].
func (r *Registry) Ref(repoAndTag string) string { return r.Host + "/" + repoAndTag }

// writeOpts returns the remote options the helpers write with.
func (r *Registry) writeOpts() []remote.Option {
	if r.user == "" {
		return nil
	}
	return []remote.Option{remote.WithAuth(&authn.Basic{Username: r.user, Password: r.pass})}
}

// PushImage pushes a random single-platform image to repo:tag and returns
// its digest reference (host/repo@sha256:...).
func (r *Registry) PushImage(tb testing.TB, repoTag string) name.Digest {
	tb.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		tb.Fatal(err)
	}
	ref, err := name.ParseReference(r.Ref(repoTag), name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Write(ref, img, r.writeOpts()...); err != nil {
		tb.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	return ref.Context().Digest(d.String())
}

// PushIndex pushes a two-platform index (linux/amd64, linux/arm64) to
// repo:tag and returns its digest and the platform manifests' digests.
func (r *Registry) PushIndex(tb testing.TB, repoTag string) (name.Digest, map[string]name.Digest) {
	tb.Helper()
	ref, err := name.ParseReference(r.Ref(repoTag), name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	plats := map[string]name.Digest{}
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(128, 1)
		if err != nil {
			tb.Fatal(err)
		}
		d, _ := img.Digest()
		plats["linux/"+arch] = ref.Context().Digest(d.String())
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
	if err := remote.WriteIndex(ref, idx, r.writeOpts()...); err != nil {
		tb.Fatalf("pushing index %s: %v", ref, err)
	}
	d, _ := idx.Digest()
	return ref.Context().Digest(d.String()), plats
}

// SimpleSigningPayload is cosign's payload for an image signature.
func SimpleSigningPayload(ref name.Digest) []byte {
	return []byte(fmt.Sprintf(`{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`,
		ref.Context().Name(), ref.DigestStr()))
}

// SigTag returns the legacy signature tag sha256-<hex>.sig for a digest.
func SigTag(d name.Digest) name.Tag {
	return d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1) + ".sig")
}

// PushLegacySignature writes the sha256-<hex>.sig image for target with one
// simple-signing layer carrying payload and annotations (the base64
// signature under dev.cosignproject.cosign/signature, and optionally
// certificate, chain, bundle and timestamp), as cosign v2 does.
func (r *Registry) PushLegacySignature(tb testing.TB, target name.Digest, payload []byte, annotations map[string]string) {
	tb.Helper()
	layer := static.NewLayer(payload, "application/vnd.dev.cosign.simplesigning.v1+json")
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{Layer: layer, Annotations: annotations})
	if err != nil {
		tb.Fatal(err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if err := remote.Write(SigTag(target), img, r.writeOpts()...); err != nil {
		tb.Fatalf("pushing signature: %v", err)
	}
}

// CopyTag copies the manifest at from to the tag to (e.g. a signature tag
// onto another image's signature tag).
func (r *Registry) CopyTag(tb testing.TB, from name.Reference, to name.Tag) {
	tb.Helper()
	desc, err := remote.Get(from, r.writeOpts()...)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Put(to, desc, r.writeOpts()...); err != nil {
		tb.Fatal(err)
	}
}

type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.b, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// PushBundleReferrer attaches a sigstore bundle to target as an OCI 1.1
// referrer, the way cosign v3 stores signatures and attestations
// (artifactType application/vnd.dev.sigstore.bundle.v0.3+json, annotation
// dev.sigstore.bundle.predicateType). Registries without the referrers API get
// the tag fallback from go-containerregistry.
func (r *Registry) PushBundleReferrer(tb testing.TB, target name.Digest, bundleJSON []byte, predicateType string) {
	tb.Helper()
	const bundleMT = "application/vnd.dev.sigstore.bundle.v0.3+json"
	repo := target.Context()
	cfg := static.NewLayer([]byte("{}"), "application/vnd.oci.empty.v1+json")
	layer := static.NewLayer(bundleJSON, bundleMT)
	for _, l := range []v1.Layer{cfg, layer} {
		if err := remote.WriteLayer(repo, l, r.writeOpts()...); err != nil {
			tb.Fatal(err)
		}
	}
	desc, err := remote.Head(target, r.writeOpts()...)
	if err != nil {
		tb.Fatal(err)
	}
	cd, _ := cfg.Digest()
	ld, _ := layer.Digest()
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"artifactType":  bundleMT,
		"config":        map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": cd.String(), "size": 2},
		"layers":        []any{map[string]any{"mediaType": bundleMT, "digest": ld.String(), "size": len(bundleJSON)}},
		"subject":       map[string]any{"mediaType": desc.MediaType, "digest": desc.Digest.String(), "size": desc.Size},
		"annotations": map[string]string{
			"dev.sigstore.bundle.content":       "dsse-envelope",
			"dev.sigstore.bundle.predicateType": predicateType,
		},
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(b)
	ref := repo.Digest(fmt.Sprintf("sha256:%x", sum))
	if err := remote.Put(ref, rawManifest{b, types.OCIManifestSchema1}, r.writeOpts()...); err != nil {
		tb.Fatalf("pushing referrer: %v", err)
	}
}

// KeyPair is an ECDSA P-256 key pair for signing in Go.
type KeyPair struct {
	Priv   *ecdsa.PrivateKey
	PubPEM []byte
}

// NewKeyPair generates a key pair.
func NewKeyPair(tb testing.TB) KeyPair {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	pem, err := cryptoutils.MarshalPublicKeyToPEM(k.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return KeyPair{Priv: k, PubPEM: pem}
}

// Sign returns the base64 ECDSA-SHA256 signature of msg.
func (k KeyPair) Sign(tb testing.TB, msg []byte) string {
	tb.Helper()
	h := sha256.Sum256(msg)
	sig, err := k.Priv.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// SignLegacy signs target with k in cosign's legacy format (no certificate,
// no transparency log), as `cosign sign --key --tlog-upload=false` does.
func (r *Registry) SignLegacy(tb testing.TB, target name.Digest, k KeyPair) {
	tb.Helper()
	p := SimpleSigningPayload(target)
	r.PushLegacySignature(tb, target, p, map[string]string{"dev.cosignproject.cosign/signature": k.Sign(tb, p)})
}

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "internal")); err == nil {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("repository root not found")
		}
		dir = parent
	}
}

// Cosign returns the path of the real cosign CLI of the given major version
// (2 or 3), from $KUBECTL_SECURE_COSIGN_V<major>, which the Makefile exports
// (`make cosign` builds both under $(TOOLS_CACHE)). When it is missing the
// test is skipped when run by hand and fails under make test or CI.
func Cosign(tb testing.TB, major int) string {
	tb.Helper()
	return toolstest.Path(tb, fmt.Sprintf("KUBECTL_SECURE_COSIGN_V%d", major), "cosign")
}

// CosignCLI runs a cosign binary in an isolated home directory.
type CosignCLI struct {
	Bin  string
	Home string
}

// NewCosign returns a CosignCLI for the given major version (see Cosign).
func NewCosign(tb testing.TB, major int) *CosignCLI {
	tb.Helper()
	return &CosignCLI{Bin: Cosign(tb, major), Home: tb.TempDir()}
}

// Run runs cosign with args in its home directory and returns its output;
// the test fails if cosign fails.
func (c *CosignCLI) Run(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := c.TryRun(args...)
	if err != nil {
		tb.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TryRun runs cosign and returns its combined output and error.
func (c *CosignCLI) TryRun(args ...string) (string, error) {
	cmd := exec.Command(c.Bin, args...)
	cmd.Dir = c.Home
	cmd.Env = append(os.Environ(),
		"HOME="+c.Home,
		"COSIGN_PASSWORD=",
		"TUF_ROOT="+filepath.Join(c.Home, ".sigstore"),
		"COSIGN_EXPERIMENTAL=",
		"DOCKER_CONFIG="+filepath.Join(c.Home, ".docker"),
	)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// GenerateKeyPair runs `cosign generate-key-pair` (empty password) with the
// given file prefix and returns the private key path and the public key PEM.
func (c *CosignCLI) GenerateKeyPair(tb testing.TB, prefix string) (string, []byte) {
	tb.Helper()
	c.Run(tb, "generate-key-pair", "--output-key-prefix", prefix)
	pub, err := os.ReadFile(filepath.Join(c.Home, prefix+".pub"))
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(c.Home, prefix+".key"), pub
}

// FetchBundleReferrer returns the content of the first sigstore bundle
// attached to target as a referrer.
func FetchBundleReferrer(tb testing.TB, target name.Digest) []byte {
	tb.Helper()
	idx, err := remote.Referrers(target)
	if err != nil {
		tb.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range im.Manifests {
		img, err := remote.Image(target.Context().Digest(d.Digest.String()))
		if err != nil {
			tb.Fatal(err)
		}
		m, err := img.Manifest()
		if err != nil {
			tb.Fatal(err)
		}
		for _, l := range m.Layers {
			if strings.HasPrefix(string(l.MediaType), "application/vnd.dev.sigstore.bundle") {
				layer, err := img.LayerByDigest(l.Digest)
				if err != nil {
					tb.Fatal(err)
				}
				rc, err := layer.Compressed()
				if err != nil {
					tb.Fatal(err)
				}
				defer rc.Close()
				b, err := io.ReadAll(rc)
				if err != nil {
					tb.Fatal(err)
				}
				return b
			}
		}
	}
	tb.Fatalf("no sigstore bundle referrer on %s", target)
	return nil
}

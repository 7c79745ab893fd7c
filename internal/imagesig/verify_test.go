package imagesig_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

func keyPolicy(keys ...ist.KeyPair) imagesig.Policy {
	var pems [][]byte
	for _, k := range keys {
		pems = append(pems, k.PubPEM)
	}
	return imagesig.Policy{Authorities: []imagesig.Authority{{Keys: pems}}}
}

func newVerifier(opts ...imagesig.Option) *imagesig.Verifier {
	base := []imagesig.Option{
		imagesig.WithKeychain(authn.NewMultiKeychain()), // anonymous: never read the developer's docker config
		imagesig.WithTimeout(5 * time.Second),
		imagesig.WithRetry(2, 10*time.Millisecond),
	}
	return imagesig.New(append(base, opts...)...)
}

func expectFail(t *testing.T, r imagesig.Result, kind imagesig.Kind, reasonContains string) {
	t.Helper()
	if r.Verified {
		t.Fatalf("expected failure %s, got verified: %+v", kind, r)
	}
	if r.Kind != kind {
		t.Fatalf("kind = %q, want %q (reason: %s)", r.Kind, kind, r.Reason)
	}
	if !strings.Contains(r.Reason, reasonContains) {
		t.Fatalf("reason %q does not contain %q", r.Reason, reasonContains)
	}
}

func expectVerified(t *testing.T, r imagesig.Result) {
	t.Helper()
	if !r.Verified {
		t.Fatalf("not verified: kind=%s reason=%s", r.Kind, r.Reason)
	}
}

func TestVerifyLegacyKeySignature(t *testing.T) {
	reg := ist.NewRegistry(t)
	good := ist.NewKeyPair(t)
	other := ist.NewKeyPair(t)
	v := newVerifier()
	ctx := context.Background()

	signed := reg.PushImage(t, "app:v1")
	reg.SignLegacy(t, signed, good)

	t.Run("by tag", func(t *testing.T) {
		r := v.Verify(ctx, reg.Ref("app:v1"), keyPolicy(good))
		expectVerified(t, r)
		if r.Digest != signed.DigestStr() || r.Format != imagesig.FormatLegacySig || r.SignedObject != "manifest" {
			t.Fatalf("unexpected result %+v", r)
		}
		if r.Signer == nil || !strings.HasPrefix(r.Signer.Key, "sha256:") {
			t.Fatalf("signer = %+v", r.Signer)
		}
	})
	t.Run("any key may match", func(t *testing.T) {
		expectVerified(t, v.Verify(ctx, signed.String(), keyPolicy(other, good)))
	})
	t.Run("other key", func(t *testing.T) {
		expectFail(t, v.Verify(ctx, signed.String(), keyPolicy(other)), imagesig.KindWrongSigner, "does not verify with the given key")
	})
	t.Run("unsigned", func(t *testing.T) {
		u := reg.PushImage(t, "app:unsigned")
		expectFail(t, v.Verify(ctx, u.String(), keyPolicy(good)), imagesig.KindUnsigned, "no signatures for manifest "+u.DigestStr())
	})
	t.Run("signature copied to another image", func(t *testing.T) {
		victim := reg.PushImage(t, "app:evil")
		reg.CopyTag(t, ist.SigTag(signed), ist.SigTag(victim))
		expectFail(t, v.Verify(ctx, victim.String(), keyPolicy(good)), imagesig.KindInvalid, "digest mismatch")
	})
	t.Run("tampered payload", func(t *testing.T) {
		img := reg.PushImage(t, "app:tampered")
		p := ist.SimpleSigningPayload(img)
		sig := good.Sign(t, p)
		p = []byte(strings.Replace(string(p), `"optional":null`, `"optional":{"x":"y"}`, 1))
		reg.PushLegacySignature(t, img, p, map[string]string{"dev.cosignproject.cosign/signature": sig})
		expectFail(t, v.Verify(ctx, img.String(), keyPolicy(good)), imagesig.KindWrongSigner, "tampered")
	})
	t.Run("tag moved after signing", func(t *testing.T) {
		first := reg.PushImage(t, "app:moving")
		reg.SignLegacy(t, first, good)
		expectVerified(t, v.Verify(ctx, reg.Ref("app:moving"), keyPolicy(good)))
		second := reg.PushImage(t, "app:moving")
		r := v.Verify(ctx, reg.Ref("app:moving"), keyPolicy(good))
		expectFail(t, r, imagesig.KindUnsigned, second.DigestStr())
		if r.Digest != second.DigestStr() {
			t.Fatalf("digest = %s, want the new %s", r.Digest, second.DigestStr())
		}
	})
	t.Run("garbage signature annotation", func(t *testing.T) {
		img := reg.PushImage(t, "app:garbage")
		reg.PushLegacySignature(t, img, ist.SimpleSigningPayload(img), map[string]string{"dev.cosignproject.cosign/signature": "!!"})
		expectFail(t, v.Verify(ctx, img.String(), keyPolicy(good)), imagesig.KindInvalid, "malformed")
	})
	t.Run("usage errors", func(t *testing.T) {
		expectFail(t, v.Verify(ctx, "UPPER/Case::bad", keyPolicy(good)), imagesig.KindUsage, "invalid image reference")
		expectFail(t, v.Verify(ctx, signed.String(), imagesig.Policy{}), imagesig.KindUsage, "no authorities")
		bad := imagesig.Policy{Authorities: []imagesig.Authority{{Keys: [][]byte{[]byte("not a key")}}}}
		expectFail(t, v.Verify(ctx, signed.String(), bad), imagesig.KindUsage, "PEM")
	})
}

func TestVerifyMultiArch(t *testing.T) {
	reg := ist.NewRegistry(t)
	k := ist.NewKeyPair(t)
	v := newVerifier()
	ctx := context.Background()

	idx, _ := reg.PushIndex(t, "multi:signed-index")
	reg.SignLegacy(t, idx, k)
	r := v.Verify(ctx, reg.Ref("multi:signed-index"), keyPolicy(k))
	expectVerified(t, r)
	if r.SignedObject != "index" || r.SignedDigest != idx.DigestStr() {
		t.Fatalf("signed object = %q %s, want index %s", r.SignedObject, r.SignedDigest, idx.DigestStr())
	}

	idx2, plats := reg.PushIndex(t, "multi:signed-platform")
	reg.SignLegacy(t, plats["linux/amd64"], k)
	r = v.Verify(ctx, reg.Ref("multi:signed-platform"), keyPolicy(k))
	expectVerified(t, r)
	if r.SignedObject != "platform manifest linux/amd64" || r.SignedDigest != plats["linux/amd64"].DigestStr() || r.Digest != idx2.DigestStr() {
		t.Fatalf("unexpected %+v", r)
	}

	// Only arm64 signed: not good enough for a linux/amd64 verifier...
	_, plats3 := reg.PushIndex(t, "multi:signed-arm")
	reg.SignLegacy(t, plats3["linux/arm64"], k)
	expectFail(t, v.Verify(ctx, reg.Ref("multi:signed-arm"), keyPolicy(k)), imagesig.KindUnsigned, "nor for its platform manifest linux/amd64")
	// ...but it is for a linux/arm64 one.
	arm := newVerifier(imagesig.WithPlatform(v1Platform("linux", "arm64")))
	r = arm.Verify(ctx, reg.Ref("multi:signed-arm"), keyPolicy(k))
	expectVerified(t, r)
	if r.SignedObject != "platform manifest linux/arm64" {
		t.Fatalf("signed object = %q", r.SignedObject)
	}
}

func TestVerifyRegistryDown(t *testing.T) {
	// A port nothing listens on: listen, take the address, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	v := newVerifier(imagesig.WithTimeout(2 * time.Second))
	start := time.Now()
	r := v.Verify(context.Background(), addr+"/app:v1", keyPolicy(ist.NewKeyPair(t)))
	expectFail(t, r, imagesig.KindUnreachable, "unreachable")
	if !strings.Contains(r.Reason, "connection refused") {
		t.Fatalf("reason should say why: %s", r.Reason)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s, more than the timeout", d)
	}
}

func TestVerifyRegistryHangs(t *testing.T) {
	// A registry that accepts connections and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	v := newVerifier(imagesig.WithTimeout(300*time.Millisecond), imagesig.WithRetry(1, time.Millisecond))
	start := time.Now()
	r := v.Verify(context.Background(), l.Addr().String()+"/app:v1", keyPolicy(ist.NewKeyPair(t)))
	expectFail(t, r, imagesig.KindUnreachable, "")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %s despite a 300ms request timeout (reason %s)", d, r.Reason)
	}
}

func TestVerifyUnauthorized(t *testing.T) {
	reg := ist.NewRegistry(t, ist.WithBasicAuth("alice", "s3cret-pass"))
	k := ist.NewKeyPair(t)
	img := reg.PushImage(t, "private:v1")
	reg.SignLegacy(t, img, k)

	r := newVerifier().Verify(context.Background(), img.String(), keyPolicy(k))
	expectFail(t, r, imagesig.KindUnreachable, "401")

	// With credentials from a Docker config file (the default keychain reads
	// $DOCKER_CONFIG/config.json).
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cret-pass"))
	cfg := `{"auths":{"` + reg.Host + `":{"auth":"` + auth + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	r = newVerifier(imagesig.WithKeychain(authn.DefaultKeychain)).Verify(context.Background(), img.String(), keyPolicy(k))
	expectVerified(t, r)

	// Wrong password: 401 again, and the reason never carries credentials.
	cfg = `{"auths":{"` + reg.Host + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("alice:wrong-pass")) + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r = newVerifier(imagesig.WithKeychain(authn.DefaultKeychain)).Verify(context.Background(), img.String(), keyPolicy(k))
	expectFail(t, r, imagesig.KindUnreachable, "401")
	for _, secret := range []string{"wrong-pass", "s3cret-pass", base64.StdEncoding.EncodeToString([]byte("alice:wrong-pass"))} {
		if strings.Contains(r.Reason, secret) {
			t.Fatalf("reason leaks a credential: %s", r.Reason)
		}
	}
}

func TestVerifyRetriesOn429And5xx(t *testing.T) {
	reg := ist.NewRegistry(t)
	k := ist.NewKeyPair(t)
	img := reg.PushImage(t, "flaky:v1")
	reg.SignLegacy(t, img, k)
	for _, code := range []int{429, 503} {
		reg.FailNext(2, code)
		r := newVerifier(imagesig.WithRetry(4, 5*time.Millisecond)).Verify(context.Background(), img.String(), keyPolicy(k))
		expectVerified(t, r)
	}
	// Without enough retries the failure is reported as such.
	reg.FailNext(1000, 503)
	r := newVerifier(imagesig.WithRetry(2, time.Millisecond)).Verify(context.Background(), img.String(), keyPolicy(k))
	expectFail(t, r, imagesig.KindUnreachable, "503")
	reg.FailNext(0, 0)
}

func TestVerifyAllDedupesByDigest(t *testing.T) {
	reg := ist.NewRegistry(t)
	k := ist.NewKeyPair(t)
	a := reg.PushImage(t, "svc:a")
	reg.SignLegacy(t, a, k)
	// A second tag for the same digest.
	reg.CopyTag(t, a, a.Context().Tag("a-alias"))
	u := reg.PushImage(t, "svc:unsigned")

	refs := []string{reg.Ref("svc:a"), reg.Ref("svc:a"), reg.Ref("svc:a-alias"), a.String(), reg.Ref("svc:unsigned"), "docker.io/library/skipped:1"}
	pol := keyPolicy(k)
	reg.ResetRequests()
	res := newVerifier(imagesig.WithConcurrency(3)).VerifyAll(context.Background(), refs, func(ref string) (imagesig.Policy, bool) {
		return pol, !strings.Contains(ref, "skipped")
	})
	if len(res) != 4 {
		t.Fatalf("got %d results, want 4 (deduplicated, skipped ref absent): %v", len(res), res)
	}
	for _, ref := range []string{reg.Ref("svc:a"), reg.Ref("svc:a-alias"), a.String()} {
		expectVerified(t, res[ref])
		if res[ref].Ref != ref {
			t.Fatalf("Ref = %q, want %q", res[ref].Ref, ref)
		}
	}
	expectFail(t, res[reg.Ref("svc:unsigned")], imagesig.KindUnsigned, u.DigestStr())
	sigTag := 0
	for _, req := range reg.Requests() {
		if strings.HasSuffix(req, ".sig") {
			sigTag++
		}
	}
	if sigTag != 2 {
		t.Fatalf("signature tags fetched %d times, want 2 (one per digest): %v", sigTag, reg.Requests())
	}
}

func TestVerifyReferrersTagFallback(t *testing.T) {
	// A bundle referrer on a registry without the referrers API is found
	// through the sha256-<hex> tag; the bundle here is garbage, so the
	// failure proves it was found and read.
	for _, withAPI := range []bool{true, false} {
		var opts []ist.RegistryOption
		if !withAPI {
			opts = append(opts, ist.WithoutReferrersAPI())
		}
		reg := ist.NewRegistry(t, opts...)
		img := reg.PushImage(t, "ref:v1")
		reg.PushBundleReferrer(t, img, []byte(`{"mediaType":"nope"}`), "https://sigstore.dev/cosign/sign/v1")
		r := newVerifier().Verify(context.Background(), img.String(), keyPolicy(ist.NewKeyPair(t)))
		expectFail(t, r, imagesig.KindInvalid, "malformed sigstore bundle")
		fallback := false
		for _, req := range reg.Requests() {
			if strings.HasSuffix(req, "/manifests/"+strings.Replace(img.DigestStr(), ":", "-", 1)) {
				fallback = true
			}
		}
		if fallback == withAPI {
			t.Fatalf("referrers API %v: fallback tag read = %v", withAPI, fallback)
		}
	}
}

func TestPlainHTTPOnlyForLoopback(t *testing.T) {
	// go-containerregistry would fall back to plain HTTP for private-range
	// registries. The base transport here is a recorder that never sends
	// anything, so no packet leaves the process whatever happens.
	var seen []string
	v := newVerifier(imagesig.WithTransport(recorder(&seen)), imagesig.WithRetry(1, time.Millisecond))
	r := v.Verify(context.Background(), "10.1.2.3:5000/app:v1", keyPolicy(ist.NewKeyPair(t)))
	expectFail(t, r, imagesig.KindUnreachable, "")
	if len(seen) == 0 {
		t.Fatal("no request reached the transport")
	}
	for _, u := range seen {
		if strings.HasPrefix(u, "http://") {
			t.Fatalf("plain HTTP request to a non-loopback host reached the transport: %v", seen)
		}
	}
	// Loopback is allowed by default (the other tests) and can be forbidden.
	reg := ist.NewRegistry(t)
	img := reg.PushImage(t, "app:v1")
	reg.ResetRequests()
	r = newVerifier(imagesig.WithPlainHTTPLoopback(false), imagesig.WithRetry(1, time.Millisecond)).Verify(context.Background(), img.String(), keyPolicy(ist.NewKeyPair(t)))
	expectFail(t, r, imagesig.KindUnreachable, "")
	if n := len(reg.Requests()); n > 0 {
		t.Fatalf("%d plain HTTP requests reached the registry although forbidden: %v", n, reg.Requests())
	}
}

type recorderRT struct {
	mu   *sync.Mutex
	seen *[]string
}

func (r recorderRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	*r.seen = append(*r.seen, req.URL.String())
	r.mu.Unlock()
	return nil, errors.New("recorder: not sent")
}

// recorder returns a transport that records URLs and sends nothing. Read
// seen only after the requests are done.
func recorder(seen *[]string) http.RoundTripper { return recorderRT{&sync.Mutex{}, seen} }

func v1Platform(os, arch string) v1.Platform { return v1.Platform{OS: os, Architecture: arch} }

package imagesig_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

// tufFixture is an image signed keyless by a virtual sigstore whose
// trusted_root.json is served by a TUF repository generated in the test.
type tufFixture struct {
	img  name.Digest
	repo *ist.TUFRepo
	root string // the initial root.json (--tuf-root)
}

func newTUFFixture(t testing.TB) *tufFixture {
	t.Helper()
	ss := ist.NewSigstore(t)
	trJSON, err := os.ReadFile(ss.WriteTrustedRoot(t, t.TempDir(), false))
	if err != nil {
		t.Fatal(err)
	}
	reg := ist.NewRegistry(t)
	img := reg.PushImage(t, "app:v1")
	reg.PushBundleReferrer(t, img, ss.AttestBundle(t, ciIdentity, ciIssuer, ist.Statement(img, signPred, "")), signPred)
	repo := ist.NewTUFRepo(t, trJSON)
	return &tufFixture{img: img, repo: repo, root: repo.WriteRoot(t, t.TempDir())}
}

// policy is keyless with no trusted_root.json: the root comes from TUF.
func (f *tufFixture) policy() imagesig.Policy {
	return imagesig.Policy{Authorities: []imagesig.Authority{{
		Identity: ciIdentity, Issuer: ciIssuer,
		TUF: imagesig.TUF{Mirror: f.repo.URL, Root: f.root},
	}}}
}

func (f *tufFixture) verify(cache string, opts ...imagesig.Option) imagesig.Result {
	v := newVerifier(append([]imagesig.Option{imagesig.WithTUFCache(cache)}, opts...)...)
	return v.Verify(context.Background(), f.img.String(), f.policy())
}

func TestTUFFirstFetchCachedOffline(t *testing.T) {
	f := newTUFFixture(t)
	cache := t.TempDir()

	r := f.verify(cache)
	expectVerified(t, r)
	if r.Signer == nil || r.Signer.Identity != ciIdentity {
		t.Fatalf("signer = %+v", r.Signer)
	}
	first := f.repo.Requests()
	if first == 0 {
		t.Fatal("the first run made no request to the TUF mirror")
	}

	// A second run (a new verifier, as a new process) with a warm cache
	// makes no request at all.
	expectVerified(t, f.verify(cache))
	if n := f.repo.Requests(); n != first {
		t.Fatalf("warm cache: %d requests to the mirror, want none", n-first)
	}

	// Mirror down: even a verifier that always asks the mirror falls back to
	// the unexpired cache.
	f.repo.Close()
	expectVerified(t, f.verify(cache, imagesig.WithTUFMaxAge(0)))
	expectVerified(t, f.verify(cache))

	// Mirror down and nothing cached: fails, naming the cause.
	expectFail(t, f.verify(t.TempDir()), imagesig.KindUsage, "unreachable")
}

func TestTUFExpiredTimestampMirrorDown(t *testing.T) {
	f := newTUFFixture(t)
	f.repo.TimestampExpires = time.Now().Add(3 * time.Second) // room for a loaded machine
	f.repo.Publish(t)
	cache := t.TempDir()
	expectVerified(t, f.verify(cache))

	time.Sleep(time.Until(f.repo.TimestampExpires) + 100*time.Millisecond)
	f.repo.Close()
	r := f.verify(cache)
	expectFail(t, r, imagesig.KindUsage, "unreachable")
	expectFail(t, r, imagesig.KindUsage, "cached TUF metadata expired")
}

func TestTUFKeyRotation(t *testing.T) {
	f := newTUFFixture(t)
	cache := t.TempDir()
	expectVerified(t, f.verify(cache))

	// Root v2, signed by the v1 root key and its own; new keys for all roles.
	f.repo.RotateKeys(t)
	expectVerified(t, f.verify(cache, imagesig.WithTUFMaxAge(0)))
	// A client starting from root v1 with an empty cache walks to v2.
	expectVerified(t, f.verify(t.TempDir()))
	// The warm cache starts from the rotated root: still no request.
	before := f.repo.Requests()
	expectVerified(t, f.verify(cache))
	if n := f.repo.Requests(); n != before {
		t.Fatalf("warm cache after rotation: %d requests to the mirror, want none", n-before)
	}
}

func TestTUFTampered(t *testing.T) {
	t.Run("target", func(t *testing.T) {
		f := newTUFFixture(t)
		f.repo.TamperTarget(t)
		expectFail(t, f.verify(t.TempDir()), imagesig.KindUsage, "does not match its signed length or hash (tampered): failed to download target file trusted_root.json - length/hash verification error")
	})
	t.Run("timestamp signature", func(t *testing.T) {
		f := newTUFFixture(t)
		ts := f.repo.Timestamp(t)
		f.repo.ServeTimestamp(t, bytes.Replace(ts, []byte(`"version": 1`), []byte(`"version": 7`), 1))
		expectFail(t, f.verify(t.TempDir()), imagesig.KindUsage, "not signed by a threshold of trusted keys")
	})
	t.Run("another repository's root", func(t *testing.T) {
		f := newTUFFixture(t)
		f.root = ist.NewTUFRepo(t, []byte(`{}`)).WriteRoot(t, t.TempDir())
		expectFail(t, f.verify(t.TempDir()), imagesig.KindUsage, "not signed by a threshold of trusted keys")
	})
}

func TestTUFRollback(t *testing.T) {
	f := newTUFFixture(t)
	old := f.repo.Timestamp(t)
	f.repo.Publish(t) // version 2
	cache := t.TempDir()
	expectVerified(t, f.verify(cache))

	f.repo.ServeTimestamp(t, old) // validly signed, unexpired, version 1
	expectFail(t, f.verify(cache, imagesig.WithTUFMaxAge(0)), imagesig.KindUsage, "rollback")
}

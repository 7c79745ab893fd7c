package imagesigtest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// TUFRepo is a TUF repository generated with go-tuf's metadata API (root,
// targets, snapshot, timestamp; consistent snapshots) whose one target is a
// sigstore trusted_root.json, served over HTTP on loopback. It counts the
// requests it answers.
type TUFRepo struct {
	URL string
	dir string
	srv *httptest.Server

	requests atomic.Int64

	mu        sync.Mutex
	keys      map[string]signature.Signer // role -> signer
	oldRoot   signature.Signer            // set by RotateKeys: signs the new root too
	root      *metadata.Metadata[metadata.RootType]
	targets   *metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]
	target    []byte
	published bool
	// TimestampExpires is the expiry of the next published timestamp.
	TimestampExpires time.Time
}

var tufRoles = []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP}

// NewTUFRepo generates a repository serving trustedRootJSON as the target
// trusted_root.json and publishes version 1 of everything. The server stops
// when the test ends (or at Close).
func NewTUFRepo(tb testing.TB, trustedRootJSON []byte) *TUFRepo {
	tb.Helper()
	r := &TUFRepo{dir: tb.TempDir(), keys: map[string]signature.Signer{}, target: trustedRootJSON,
		TimestampExpires: time.Now().Add(7 * 24 * time.Hour)}
	long := time.Now().Add(365 * 24 * time.Hour).UTC()
	r.root = metadata.Root(long)
	for _, role := range tufRoles {
		r.keys[role] = r.addKey(tb, role)
	}
	r.targets = metadata.Targets(long)
	r.snapshot = metadata.Snapshot(long)
	r.timestamp = metadata.Timestamp(r.TimestampExpires)
	r.signRoot(tb)
	r.Publish(tb)

	fs := http.FileServer(http.Dir(r.dir))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		fs.ServeHTTP(w, req)
	}))
	tb.Cleanup(r.srv.Close)
	r.URL = r.srv.URL
	return r
}

func (r *TUFRepo) addKey(tb testing.TB, role string) signature.Signer {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := signature.LoadSigner(priv, crypto.Hash(0))
	if err != nil {
		tb.Fatal(err)
	}
	k, err := metadata.KeyFromPublicKey(priv.Public())
	if err != nil {
		tb.Fatal(err)
	}
	if err := r.root.Signed.AddKey(k, role); err != nil {
		tb.Fatal(err)
	}
	return s
}

// signRoot signs the current root (with the previous root key too after a
// rotation) and writes it as <version>.root.json.
func (r *TUFRepo) signRoot(tb testing.TB) {
	tb.Helper()
	r.root.ClearSignatures()
	signers := []signature.Signer{r.keys[metadata.ROOT]}
	if r.oldRoot != nil {
		signers = append(signers, r.oldRoot)
	}
	for _, s := range signers {
		if _, err := r.root.Sign(s); err != nil {
			tb.Fatal(err)
		}
	}
	b, err := r.root.ToBytes(true)
	if err != nil {
		tb.Fatal(err)
	}
	r.write(tb, fmt.Sprintf("%d.root.json", r.root.Signed.Version), b)
}

func (r *TUFRepo) write(tb testing.TB, name string, b []byte) {
	tb.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Publish writes a new version of targets, snapshot and timestamp (the
// timestamp expiring at TimestampExpires).
func (r *TUFRepo) Publish(tb testing.TB) {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := sha256.Sum256(r.target)
	tf, err := metadata.TargetFile().FromBytes("trusted_root.json", r.target, "sha256")
	if err != nil {
		tb.Fatal(err)
	}
	r.targets.Signed.Targets["trusted_root.json"] = tf
	r.write(tb, filepath.Join("targets", hex.EncodeToString(sum[:])+".trusted_root.json"), r.target)

	if r.published {
		r.targets.Signed.Version++
		r.snapshot.Signed.Version++
		r.timestamp.Signed.Version++
	}
	r.published = true
	r.targets.ClearSignatures()
	if _, err := r.targets.Sign(r.keys[metadata.TARGETS]); err != nil {
		tb.Fatal(err)
	}
	tb2, _ := r.targets.ToBytes(true)
	r.write(tb, fmt.Sprintf("%d.targets.json", r.targets.Signed.Version), tb2)

	r.snapshot.Signed.Meta["targets.json"] = metadata.MetaFile(r.targets.Signed.Version)
	r.snapshot.ClearSignatures()
	if _, err := r.snapshot.Sign(r.keys[metadata.SNAPSHOT]); err != nil {
		tb.Fatal(err)
	}
	sb, _ := r.snapshot.ToBytes(true)
	r.write(tb, fmt.Sprintf("%d.snapshot.json", r.snapshot.Signed.Version), sb)

	r.timestamp.Signed.Expires = r.TimestampExpires.UTC()
	r.timestamp.Signed.Meta["snapshot.json"] = metadata.MetaFile(r.snapshot.Signed.Version)
	r.timestamp.ClearSignatures()
	if _, err := r.timestamp.Sign(r.keys[metadata.TIMESTAMP]); err != nil {
		tb.Fatal(err)
	}
	tsb, _ := r.timestamp.ToBytes(true)
	r.write(tb, "timestamp.json", tsb)
}

// RootJSON returns version 1 of the root: the initial root clients trust.
func (r *TUFRepo) RootJSON(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, "1.root.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// WriteRoot writes RootJSON into dir and returns its path.
func (r *TUFRepo) WriteRoot(tb testing.TB, dir string) string {
	tb.Helper()
	p := filepath.Join(dir, "root.json")
	if err := os.WriteFile(p, r.RootJSON(tb), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// RotateKeys publishes a new root version with new keys for every role,
// signed by the old root key and the new one, then new targets, snapshot and
// timestamp signed with the new keys.
func (r *TUFRepo) RotateKeys(tb testing.TB) {
	tb.Helper()
	r.mu.Lock()
	r.oldRoot = r.keys[metadata.ROOT]
	for _, role := range tufRoles {
		for _, id := range append([]string(nil), r.root.Signed.Roles[role].KeyIDs...) {
			if err := r.root.Signed.RevokeKey(id, role); err != nil {
				tb.Fatal(err)
			}
		}
		r.keys[role] = r.addKey(tb, role)
	}
	r.root.Signed.Version++
	r.signRoot(tb)
	r.mu.Unlock()
	r.Publish(tb)
}

// Timestamp returns the timestamp.json currently served.
func (r *TUFRepo) Timestamp(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, "timestamp.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ServeTimestamp serves b as timestamp.json (e.g. an older, validly signed
// version: a rollback).
func (r *TUFRepo) ServeTimestamp(tb testing.TB, b []byte) { r.write(tb, "timestamp.json", b) }

// TamperTarget flips one bit of the served trusted_root.json (its signed
// hash in targets.json stays the same).
func (r *TUFRepo) TamperTarget(tb testing.TB) {
	tb.Helper()
	sum := sha256.Sum256(r.target)
	p := filepath.Join(r.dir, "targets", hex.EncodeToString(sum[:])+".trusted_root.json")
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	b[len(b)/2] ^= 0x20 // same length: only the hash can tell
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Requests returns how many requests the server answered.
func (r *TUFRepo) Requests() int64 { return r.requests.Load() }

// Close stops the server (the mirror goes down).
func (r *TUFRepo) Close() { r.srv.Close() }

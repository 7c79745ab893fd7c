package imagesig_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

// BenchmarkVerifyMany verifies 100 workloads' images, 20 distinct, each
// signed both with cosign (legacy signature, key) and with notation (JWS),
// on a loopback registry that adds 50 ms to every request. Sub-benchmarks:
// cosign-key (a key policy) and notation+cosign (a policy accepting either,
// notation first: both signature places are read). It reports:
//
//   - ms/run: wall time of one VerifyAll over the 100 references;
//   - ms/single-image: wall time of verifying one image alone (same setup);
//   - x-single: their ratio;
//   - sig-digests/run: distinct digests whose legacy signature tag was asked
//     for (20 expected, not 100);
//   - referrers-listings/run: referrers listings (20 expected: one per
//     digest, shared by the sigstore-bundle and notation paths);
//   - requests/run: all registry requests.
func BenchmarkVerifyMany(b *testing.B) {
	const (
		images    = 20
		workloads = 100
		latency   = 50 * time.Millisecond
	)
	reg := ist.NewRegistry(b)
	k := ist.NewKeyPair(b)
	ca := ist.NewNotationCA(b, "bench root")
	leaf := ca.Leaf(b, "acme", "bench", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	for i := 0; i < images; i++ {
		d := reg.PushImage(b, fmt.Sprintf("team/svc%02d:v1", i))
		reg.SignLegacy(b, d, k)
		reg.SignNotation(b, d, leaf, ist.NotationJWS)
	}
	refs := make([]string, workloads)
	for w := range refs {
		refs[w] = reg.Ref(fmt.Sprintf("team/svc%02d:v1", w%images))
	}
	dir := b.TempDir()
	tp := ist.WriteNotationTrustPolicy(b, dir, ist.NotationPolicy{Name: "all", Scopes: []string{"*"}, Level: "strict",
		TrustStores: []string{"ca:acme"}, TrustedIdentities: []string{"*"}})
	notationAuth := imagesig.Authority{Notation: &imagesig.Notation{TrustStore: []string{ca.WritePEM(b, dir, "root.pem")}, TrustPolicy: tp}}
	policies := []struct {
		name   string
		pol    imagesig.Policy
		format string
	}{
		{"cosign-key", keyPolicy(k), imagesig.FormatLegacySig},
		{"notation+cosign", imagesig.Policy{Authorities: append([]imagesig.Authority{notationAuth}, keyPolicy(k).Authorities...)}, imagesig.FormatNotationJWS},
	}
	ctx := context.Background()
	for _, pc := range policies {
		b.Run(pc.name, func(b *testing.B) {
			pol := pc.pol
			policyFor := func(string) (imagesig.Policy, bool) { return pol, true }
			reg.SetLatency(latency)
			defer reg.SetLatency(0)

			// One image alone, with a fresh verifier (cold connections, like a run).
			start := time.Now()
			if r := newVerifier().Verify(ctx, refs[0], pol); !r.Verified {
				b.Fatalf("single image: %s", r.Reason)
			}
			single := time.Since(start)

			b.ResetTimer()
			var total time.Duration
			var sigDigests, listings, reqs int
			for i := 0; i < b.N; i++ {
				reg.ResetRequests()
				start := time.Now()
				res := newVerifier().VerifyAll(ctx, refs, policyFor)
				total += time.Since(start)
				if len(res) != images {
					b.Fatalf("%d results, want %d distinct references", len(res), images)
				}
				for ref, r := range res {
					if !r.Verified || r.Format != pc.format {
						b.Fatalf("%s: verified=%v format=%s: %s", ref, r.Verified, r.Format, r.Reason)
					}
				}
				seen := map[string]bool{}
				all := reg.Requests()
				for _, q := range all {
					if strings.HasSuffix(q, ".sig") {
						seen[q] = true
					}
					if strings.Contains(q, "/referrers/") {
						listings++
					}
				}
				sigDigests += len(seen)
				reqs += len(all)
			}
			b.StopTimer()
			perRun := total / time.Duration(b.N)
			b.ReportMetric(float64(perRun.Milliseconds()), "ms/run")
			b.ReportMetric(float64(single.Milliseconds()), "ms/single-image")
			b.ReportMetric(float64(perRun)/float64(single), "x-single")
			b.ReportMetric(float64(sigDigests)/float64(b.N), "sig-digests/run")
			b.ReportMetric(float64(listings)/float64(b.N), "referrers-listings/run")
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/run")
			if sigDigests/b.N != images {
				b.Fatalf("registry was asked for %d signature digests per run, want %d", sigDigests/b.N, images)
			}
			if listings != images*b.N {
				b.Fatalf("%d referrers listings per run, want one per digest (%d)", listings/b.N, images)
			}
		})
	}
}

// BenchmarkTUFWarmCache measures what keyless verification costs the TUF
// mirror: a cold run fetches and verifies the metadata and the trusted root;
// a run with a warm cache must make no request (mirror-requests/warm-run 0).
func BenchmarkTUFWarmCache(b *testing.B) {
	f := newTUFFixture(b)
	img, repo, pol := f.img, f.repo, f.policy()
	ctx := context.Background()
	cache := filepath.Join(b.TempDir(), "tuf")
	before := repo.Requests()
	if r := newVerifier(imagesig.WithTUFCache(cache)).Verify(ctx, img.String(), pol); !r.Verified {
		b.Fatalf("cold run: %s", r.Reason)
	}
	cold := repo.Requests() - before

	b.ResetTimer()
	before = repo.Requests()
	for i := 0; i < b.N; i++ {
		if r := newVerifier(imagesig.WithTUFCache(cache)).Verify(ctx, img.String(), pol); !r.Verified {
			b.Fatalf("warm run: %s", r.Reason)
		}
	}
	b.StopTimer()
	warm := repo.Requests() - before
	b.ReportMetric(float64(cold), "mirror-requests/cold-run")
	b.ReportMetric(float64(warm)/float64(b.N), "mirror-requests/warm-run")
	if warm != 0 {
		b.Fatalf("%d requests to the TUF mirror over %d warm runs, want none", warm, b.N)
	}
}

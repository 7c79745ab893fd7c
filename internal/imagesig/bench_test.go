package imagesig_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

// BenchmarkVerifyMany verifies 100 workloads' images, 20 distinct, on a
// loopback registry that adds 50 ms to every request. It reports:
//
//   - ms/run: wall time of one VerifyAll over the 100 references;
//   - ms/single-image: wall time of verifying one image alone (same setup);
//   - x-single: their ratio;
//   - sig-digests/run: distinct digests whose signatures the registry was
//     asked for (20 expected, not 100);
//   - requests/run: all registry requests.
func BenchmarkVerifyMany(b *testing.B) {
	const (
		images    = 20
		workloads = 100
		latency   = 50 * time.Millisecond
	)
	reg := ist.NewRegistry(b)
	k := ist.NewKeyPair(b)
	for i := 0; i < images; i++ {
		d := reg.PushImage(b, fmt.Sprintf("team/svc%02d:v1", i))
		reg.SignLegacy(b, d, k)
	}
	refs := make([]string, workloads)
	for w := range refs {
		refs[w] = reg.Ref(fmt.Sprintf("team/svc%02d:v1", w%images))
	}
	pol := keyPolicy(k)
	policyFor := func(string) (imagesig.Policy, bool) { return pol, true }
	reg.SetLatency(latency)
	ctx := context.Background()

	// One image alone, with a fresh verifier (cold connections, like a run).
	start := time.Now()
	if r := newVerifier().Verify(ctx, refs[0], pol); !r.Verified {
		b.Fatalf("single image: %s", r.Reason)
	}
	single := time.Since(start)

	b.ResetTimer()
	var total time.Duration
	var sigDigests, reqs int
	for i := 0; i < b.N; i++ {
		reg.ResetRequests()
		start := time.Now()
		res := newVerifier().VerifyAll(ctx, refs, policyFor)
		total += time.Since(start)
		if len(res) != images {
			b.Fatalf("%d results, want %d distinct references", len(res), images)
		}
		for ref, r := range res {
			if !r.Verified {
				b.Fatalf("%s: %s", ref, r.Reason)
			}
		}
		seen := map[string]bool{}
		all := reg.Requests()
		for _, q := range all {
			if strings.HasSuffix(q, ".sig") {
				seen[q] = true
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
	b.ReportMetric(float64(reqs)/float64(b.N), "requests/run")
	if sigDigests/b.N != images {
		b.Fatalf("registry was asked for %d signature digests per run, want %d", sigDigests/b.N, images)
	}
}

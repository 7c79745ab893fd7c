package rules

import (
	"os"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// BenchmarkCatalogue measures the rules alone (decoding included, loading
// excluded) on the 10,000-object corpus `make corpus` builds; set
// KUBECTL_SECURE_CORPUS to its file. The whole-pipeline figures live in
// internal/bench.
func BenchmarkCatalogue(b *testing.B) {
	path := os.Getenv("KUBECTL_SECURE_CORPUS")
	if path == "" {
		b.Skip("KUBECTL_SECURE_CORPUS not set")
	}
	reg := testRegistry(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		res := manifest.LoadPaths([]string{path}, manifest.Options{})
		b.StartTimer()
		raws, _ := (&engine.Engine{Registry: reg}).Run(res.Objects)
		b.ReportMetric(float64(len(raws)), "findings")
	}
}

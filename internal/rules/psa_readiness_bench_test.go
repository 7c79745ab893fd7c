package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// BenchmarkPodSecurityReadiness is what the readiness table adds to a
// scan per pod (decoding the spec and evaluating it at baseline and
// restricted with pod-security-admission), and what it keeps: a few
// strings per pod, not the pod.
func BenchmarkPodSecurityReadiness(b *testing.B) {
	const pods = 1000
	var y strings.Builder
	for i := range pods {
		fmt.Fprintf(&y, `---
apiVersion: v1
kind: Pod
metadata:
  name: web-%d
  namespace: ns-%d
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-%d, uid: "%d"}]
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    - name: proxy
      image: proxy:1.0
      securityContext: {privileged: true}
`, i, i%20, i/3, i)
	}
	res := manifest.LoadBytes("pods.yaml", []byte(y.String()), manifest.Options{})
	if len(res.Objects) != pods {
		b.Fatalf("%d objects", len(res.Objects))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := NewPodSecurityReadiness(nil)
		for _, o := range res.Objects {
			if err := r.Add(o); err != nil {
				b.Fatal(err)
			}
		}
		if rows := r.Table(); len(rows) != 20 {
			b.Fatalf("%d rows", len(rows))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pods), "ns/pod")
}

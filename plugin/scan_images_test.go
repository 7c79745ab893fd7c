package plugin

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

// scan --verify-images verifies the digests pods really run (from their
// statuses), each once, and reports failures on the owning workload.
func TestScanVerifyRunningDigests(t *testing.T) {
	srv := clustertest.Shared(t)
	reg := ist.NewRegistry(t)
	k := ist.NewKeyPair(t)
	signed := reg.PushImage(t, "team/app:v1")
	reg.SignLegacy(t, signed, k)
	unsigned := reg.PushImage(t, "team/unsigned:v1")

	objs := srv.Create(t, fmt.Sprintf(`
apiVersion: v1
kind: Namespace
metadata: {name: scan-sig}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: good, namespace: scan-sig}
spec:
  selector: {matchLabels: {app: good}}
  template:
    metadata: {labels: {app: good}}
    spec:
      containers: [{name: app, image: "%s"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: scan-sig}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers: [{name: app, image: "%s"}]
`, reg.Ref("team/app:v1"), reg.Ref("team/unsigned:v1")))
	var pods strings.Builder
	for i, d := range objs[1:] {
		digest := []string{signed.String(), unsigned.String()}[i]
		image := []string{reg.Ref("team/app:v1"), reg.Ref("team/unsigned:v1")}[i]
		for j := 0; j < 2; j++ {
			fmt.Fprintf(&pods, `---
apiVersion: v1
kind: Pod
metadata:
  name: %s-%d
  namespace: scan-sig
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: %s, uid: %s, controller: true}]
spec:
  containers: [{name: app, image: "%s"}]
status:
  phase: Running
  containerStatuses:
  - {name: app, image: "%s", imageID: "%s", ready: true, restartCount: 0, state: {running: {startedAt: "2026-01-01T00:00:00Z"}}}
`, d.GetName(), j, d.GetName(), d.GetUID(), image, image, digest)
		}
	}
	srv.Create(t, pods.String())

	dir := writeFiles(t, map[string]string{
		"cosign.pub": string(k.PubPEM),
		"policy.yaml": fmt.Sprintf(`imageVerification:
  images:
    - glob: "%s/team/**"
      authorities:
        - key: cosign.pub
`, reg.Host),
	})
	reg.ResetRequests()
	out, errOut, code := run(t, "", "", nil, "scan", "--kubeconfig", srv.Kubeconfig(t, clustertest.AdminUser, ""), "-n", "scan-sig",
		"--config", filepath.Join(dir, "policy.yaml"), "--verify-images", "--enable", "image-signature", "-o", "json")
	if code != ExitCodeFindings {
		t.Fatalf("exit %d; stderr %s\n%s", code, errOut, out)
	}
	validateReportSchema(t, []byte(out))
	if !strings.Contains(out, `"name": "bad"`) || strings.Contains(out, `"name": "good"`) {
		t.Errorf("want an image-signature finding on Deployment bad only:\n%s", out)
	}
	if !strings.Contains(out, unsigned.String()) {
		t.Errorf("the finding does not name the running digest %s:\n%s", unsigned, out)
	}
	resolved := 0
	for _, r := range reg.Requests() {
		if strings.HasSuffix(r, "/team/unsigned/manifests/"+unsigned.DigestStr()) {
			resolved++
		}
		if strings.Contains(r, "/manifests/v1") {
			t.Errorf("a tag was resolved; the running digest must be verified: %s", r)
		}
	}
	if resolved != 1 {
		t.Errorf("the unsigned digest was fetched %d times, want once (two pods run it):\n%s", resolved, strings.Join(reg.Requests(), "\n"))
	}
}

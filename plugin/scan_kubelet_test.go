package plugin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// A live kubelet check: a fake kubelet serving a recorded-shape /configz
// on this machine's address, a Node pointing at it, and scan reading the
// configuration through the API server's nodes/proxy and reporting the
// CIS 4.2 rules on KubeletConfiguration/<node>. The API server refuses to
// proxy to loopback addresses, so the test needs another one.
func TestScanKubeletConfigz(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "testdata", "kubelet", "configz-insecure.json"))
	if err != nil {
		t.Fatal(err)
	}
	ip, port := clustertest.FakeKubelet(t, body)

	srv := clustertest.Start(t) // its own: other scans must not meet this node
	srv.Create(t, fmt.Sprintf(`
apiVersion: v1
kind: Node
metadata: {name: worker-1}
status:
  addresses: [{type: InternalIP, address: %q}]
  daemonEndpoints: {kubeletEndpoint: {Port: %d}}
`, ip, port))
	kc := srv.Kubeconfig(t, clustertest.AdminUser, "")
	out, errOut, _ := run(t, "", "", nil, "scan", "-o", "json", "--no-config", "--kubeconfig", kc)
	validateReportSchema(t, []byte(out))
	var rep struct {
		Summary  struct{ NotEvaluated []finding.NotEvaluated }
		Findings []finding.Finding
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var got []string
	for _, f := range rep.Findings {
		if f.Object.Kind == "KubeletConfiguration" {
			got = append(got, f.Object.Name+" "+f.RuleID+" "+f.Path)
		}
	}
	sort.Strings(got)
	want := []string{
		"worker-1 kubelet-anonymous-auth authentication.anonymous.enabled",
		"worker-1 kubelet-authorization-always-allow authorization.mode",
		"worker-1 kubelet-client-ca-missing authentication.x509.clientCAFile",
		"worker-1 kubelet-client-cert-rotation rotateCertificates",
		"worker-1 kubelet-event-qps eventRecordQPS",
		"worker-1 kubelet-iptables-util-chains makeIPTablesUtilChains",
		"worker-1 kubelet-protect-kernel-defaults protectKernelDefaults",
		"worker-1 kubelet-read-only-port readOnlyPort",
		"worker-1 kubelet-server-cert-rotation featureGates.RotateKubeletServerCertificate",
		"worker-1 kubelet-streaming-idle-timeout streamingConnectionIdleTimeout",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("kubelet findings:\n%s\nwant:\n%s\nnot evaluated: %+v\nstderr: %s", strings.Join(got, "\n"), strings.Join(want, "\n"), rep.Summary.NotEvaluated, errOut)
	}
}

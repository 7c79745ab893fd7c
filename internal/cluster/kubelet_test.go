package cluster_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster"
	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// A recorded configz payload becomes a KubeletConfiguration object named
// after its node, with the kubelet's fields where the CIS rules look.
func TestKubeletConfigObjectFromRecordedConfigz(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "configz-kubeadm.json"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := cluster.KubeletConfigObject("node-a", data)
	if err != nil {
		t.Fatal(err)
	}
	if o.APIVersion != cluster.KubeletConfigAPIVersion || o.Kind != cluster.KubeletConfigKind || o.Name != "node-a" || o.Namespace != "" {
		t.Fatalf("object %s %s %q/%q", o.APIVersion, o.Kind, o.Namespace, o.Name)
	}
	for path, want := range map[string]string{
		"authentication.anonymous.enabled": "false",
		"authorization.mode":               "Webhook",
		"makeIPTablesUtilChains":           "true",
		"eventRecordQPS":                   "50",
		"rotateCertificates":               "true",
	} {
		n := o.Get(manifest.ParsePath(path))
		if n == nil || n.Value != want {
			t.Errorf("%s = %v, want %s", path, n, want)
		}
	}
	if _, err := cluster.KubeletConfigObject("node-b", []byte(`{"kubeletconfig":`)); err == nil {
		t.Error("a broken payload was accepted")
	}
}

// Live: the API server proxies GET nodes/<n>/proxy/configz to a fake
// kubelet; a node whose kubelet does not answer, and a caller without
// nodes/proxy, come back as not evaluated.
func TestClusterKubeletConfigz(t *testing.T) {
	srv := clustertest.Shared(t)
	recorded, err := os.ReadFile(filepath.Join("testdata", "configz-kubeadm.json"))
	if err != nil {
		t.Fatal(err)
	}
	ip, port := clustertest.FakeKubelet(t, recorded)
	dead, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	deadPort := dead.Addr().(*net.TCPAddr).Port
	dead.Close()
	node := func(name string, port int) string {
		return fmt.Sprintf(`---
apiVersion: v1
kind: Node
metadata: {name: %s}
status:
  addresses: [{type: InternalIP, address: "%s"}]
  daemonEndpoints: {kubeletEndpoint: {Port: %d}}
`, name, ip, port)
	}
	srv.Create(t, node("kubelet-live", port)+node("kubelet-down", deadPort))

	ctx := context.Background()
	admin := newClient(t, srv, clustertest.AdminUser)
	o, err := admin.KubeletConfig(ctx, "kubelet-live")
	if err != nil {
		t.Fatalf("configz through the API server: %v", err)
	}
	if n := o.Get(manifest.ParsePath("authorization.mode")); n == nil || n.Value != "Webhook" || o.Name != "kubelet-live" {
		t.Errorf("configz object: %v, %q", n, o.Name)
	}

	// Through the scan source: one KubeletConfiguration checked, the dead
	// kubelet not evaluated.
	var got []*manifest.Object
	src := &cluster.Source{Client: admin, Kubelet: true}
	src.Load(ctx, func(o *manifest.Object) {
		if o.Kind == cluster.KubeletConfigKind {
			got = append(got, o)
		}
	})
	if len(got) != 1 || got[0].Name != "kubelet-live" {
		t.Errorf("kubelet configurations checked: %d", len(got))
	}
	ne := src.Edges().NotEvaluated
	if len(ne) != 1 || ne[0].Resource != "nodes/proxy" || !strings.Contains(ne[0].Reason, "kubelet-down") {
		t.Errorf("not evaluated: %+v", ne)
	}

	limited := &cluster.Source{Client: newClient(t, srv, clustertest.LimitedUser), Kubelet: true, Namespaces: cluster.Namespaces{Fallback: []string{"default"}}}
	limited.Load(ctx, func(*manifest.Object) {})
	found := false
	for _, n := range limited.Edges().NotEvaluated {
		found = found || (n.Resource == "nodes/proxy" && strings.Contains(n.Reason, "forbidden"))
	}
	if !found {
		t.Errorf("a caller without nodes/proxy: %+v", limited.Edges().NotEvaluated)
	}
}

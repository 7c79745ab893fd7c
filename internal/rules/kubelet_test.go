package rules

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/kubelet"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Recorded-shape /configz payloads go through kubelet.FromConfigz, as a
// scan feeds them, and are checked by the kubelet rules: findings are on
// the node's KubeletConfiguration at the setting's path.
func TestKubeletRulesOnConfigz(t *testing.T) {
	reg := testRegistry(t)
	for _, tc := range []struct {
		file string
		want []string // rule@path
	}{
		{"configz-hardened.json", nil},
		{"configz-insecure.json", []string{
			"kubelet-anonymous-auth@authentication.anonymous.enabled",
			"kubelet-authorization-always-allow@authorization.mode",
			"kubelet-client-ca-missing@authentication.x509.clientCAFile",
			"kubelet-client-cert-rotation@rotateCertificates",
			"kubelet-event-qps@eventRecordQPS",
			"kubelet-iptables-util-chains@makeIPTablesUtilChains",
			"kubelet-protect-kernel-defaults@protectKernelDefaults",
			"kubelet-read-only-port@readOnlyPort",
			"kubelet-server-cert-rotation@featureGates.RotateKubeletServerCertificate",
			"kubelet-streaming-idle-timeout@streamingConnectionIdleTimeout",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "kubelet", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := kubelet.FromConfigz("worker-1", body)
			if err != nil {
				t.Fatal(err)
			}
			res := manifest.LoadBytes("configz", doc, manifest.Options{})
			if len(res.Errors) > 0 || len(res.Objects) != 1 {
				t.Fatalf("loaded %d objects, errors %v", len(res.Objects), res.Errors)
			}
			raws, errs := (&engine.Engine{Registry: reg, Workers: 1}).Run(res.Objects)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			var got []string
			for _, r := range raws {
				f := r.Finding()
				if !strings.HasPrefix(f.RuleID, "kubelet-") {
					continue
				}
				if f.Object.Name != "worker-1" || !strings.Contains(f.Message, `node "worker-1"`) {
					t.Errorf("%s not about node worker-1: %+v", f.RuleID, f)
				}
				got = append(got, f.RuleID+"@"+f.Path)
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

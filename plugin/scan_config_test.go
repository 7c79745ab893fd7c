package plugin

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
)

// A long-lived service account token Secret is reported by scan, and no
// Secret value ever reaches the report.
func TestScanLegacyServiceAccountToken(t *testing.T) {
	srv := clustertest.Shared(t)
	const value = "legacy-token-value-never-printed"
	srv.Create(t, `
apiVersion: v1
kind: Namespace
metadata: {name: legacy-ci}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: legacy-ci}
---
apiVersion: v1
kind: Secret
metadata:
  name: deployer-token
  namespace: legacy-ci
  annotations: {kubernetes.io/service-account.name: deployer}
type: kubernetes.io/service-account-token
---
apiVersion: v1
kind: Secret
metadata: {name: app-config, namespace: legacy-ci}
type: Opaque
data: {password: `+base64.StdEncoding.EncodeToString([]byte(value))+`}
`)
	kc := srv.Kubeconfig(t, clustertest.AdminUser, "")
	rep, errOut, _ := scanJSON(t, "--kubeconfig", kc, "-n", "legacy-ci")
	var found []string
	for _, f := range rep.Findings {
		if f.Object.Kind == "Secret" {
			found = append(found, f.RuleID+" "+f.Object.Name+" "+f.Path)
		}
	}
	if strings.Join(found, "\n") != "legacy-service-account-token deployer-token type" {
		t.Errorf("Secret findings %q (stderr %s)", found, errOut)
	}
	for _, format := range []string{"json", "text", "sarif", "markdown"} {
		out, _, _ := run(t, "", "", nil, "scan", "--no-config", "--kubeconfig", kc, "-n", "legacy-ci", "-o", format)
		if strings.Contains(out, value) || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(value))) {
			t.Errorf("%s report contains a Secret value", format)
		}
	}
}

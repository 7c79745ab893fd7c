package plugin

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// Pod Security readiness on a real API server: a namespace whose running
// pods satisfy restricted gets the kubectl label to run; one whose
// Deployment template is clean but whose running pod had a privileged
// sidecar injected is blocked by that pod, and is not called ready.
func TestScanPodSecurityReadiness(t *testing.T) {
	srv := clustertest.Shared(t)
	restricted := "securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n      containers:\n      - name: app\n        image: app:1.0\n        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}"
	objs := srv.Create(t, fmt.Sprintf(`
apiVersion: v1
kind: Namespace
metadata: {name: psa-ready, labels: {pod-security.kubernetes.io/enforce: baseline}}
---
apiVersion: v1
kind: Namespace
metadata: {name: psa-sidecar}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: psa-ready}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      %[1]s
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: psa-sidecar}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      %[1]s
`, restricted))
	podSpec := strings.ReplaceAll(restricted, "\n      ", "\n  ")
	srv.Create(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata:
  name: api-1
  namespace: psa-ready
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: %s, controller: true}]
spec:
  %s
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: psa-sidecar
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: %s, controller: true}]
spec:
  %s
  - name: mesh-proxy
    image: proxy:1.0
    securityContext: {privileged: true}
`, objs[2].GetUID(), podSpec, objs[3].GetUID(), podSpec))

	kc := srv.Kubeconfig(t, clustertest.AdminUser, "")
	out, errOut, _ := run(t, "", "", nil, "scan", "-o", "json", "--no-config", "--kubeconfig", kc)
	validateReportSchema(t, []byte(out))
	var rep struct {
		Findings    []finding.Finding              `json:"findings"`
		PodSecurity []finding.PodSecurityNamespace `json:"podSecurity"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}
	rows := map[string]finding.PodSecurityNamespace{}
	for _, r := range rep.PodSecurity {
		rows[r.Namespace] = r
	}
	if r := rows["psa-ready"]; r.Enforce != "baseline" || r.Pods != 1 || r.Satisfies != "restricted" {
		t.Errorf("psa-ready row %+v", r)
	}
	if r := rows["psa-sidecar"]; r.Satisfies != "privileged" || len(r.Blockers) != 1 || r.Blockers[0].Object.Name != "web-1" {
		t.Errorf("psa-sidecar row %+v (want blocked by the running pod web-1)", r)
	}
	var ready, blocked []string
	for _, f := range rep.Findings {
		switch f.RuleID {
		case "psa-stricter-level-ready":
			ready = append(ready, f.Object.Name+": "+f.Message)
		case "psa-next-level-blocked":
			blocked = append(blocked, f.Object.Name+": "+f.Message)
		}
	}
	if !strings.Contains(strings.Join(ready, "\n"), "psa-ready: namespace \"psa-ready\" enforces baseline (version latest) but all 1 of its pods satisfy restricted today: kubectl label --overwrite ns psa-ready pod-security.kubernetes.io/enforce=restricted") {
		t.Errorf("psa-stricter-level-ready findings:\n%s", strings.Join(ready, "\n"))
	}
	if strings.Contains(strings.Join(ready, "\n"), "psa-sidecar") || !strings.Contains(strings.Join(blocked, "\n"), "Pod/web-1 (privileged)") {
		t.Errorf("psa-sidecar judged by its template:\nready %q\nblocked %q", ready, blocked)
	}

	// The text report prints the table.
	text, _, _ := run(t, "", "", nil, "scan", "--no-config", "--kubeconfig", kc)
	if !strings.Contains(text, "Pod Security readiness") || !strings.Contains(text, "kubectl label --overwrite ns psa-ready pod-security.kubernetes.io/enforce=restricted") {
		t.Errorf("text report has no readiness table:\n%s", text)
	}
}

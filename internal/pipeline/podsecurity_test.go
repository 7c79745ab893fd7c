package pipeline

import (
	"context"
	"testing"
)

// The readiness table covers visited and unvisited objects alike, is
// built from whole workloads (the engine slims visited ones), and is only
// built when asked for.
func TestPodSecurityTable(t *testing.T) {
	const yaml = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
` + privilegedPod + `---
apiVersion: v1
kind: Pod
metadata:
  name: tidy
  namespace: clean
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: ["ALL"]}
`
	for _, every := range []int{0, 1, 2} {
		out, err := Run(context.Background(), bytesSource("x.yaml", yaml, every), newPolicy(t, nil, PolicyInput{}), Options{PodSecurity: true})
		if err != nil {
			t.Fatal(err)
		}
		rows := out.Result.PodSecurity
		if len(rows) != 2 || rows[0].Namespace != "clean" || rows[1].Namespace != "shop" {
			t.Fatalf("visit every %d: rows %+v", every, rows)
		}
		if r := rows[0]; r.Enforce != "unknown" || r.Satisfies != "restricted" || r.Pods != 1 {
			t.Errorf("visit every %d: clean %+v", every, r)
		}
		if r := rows[1]; r.Enforce != "privileged" || r.Satisfies != "privileged" || r.Next != "baseline" || len(r.Blockers) != 1 || r.Blockers[0].Controls[0] != "privileged" {
			t.Errorf("visit every %d: shop %+v", every, r)
		}
	}
	out, err := Run(context.Background(), bytesSource("x.yaml", yaml, 1), newPolicy(t, nil, PolicyInput{}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Result.PodSecurity != nil {
		t.Errorf("table built without Options.PodSecurity: %+v", out.Result.PodSecurity)
	}
}

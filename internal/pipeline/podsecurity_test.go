package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
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

// absorbingSource stands for a cluster: it reads a Deployment, its
// ReplicaSet and its pod, but hands only the Deployment to the engine.
type absorbingSource struct{ observe func(*manifest.Object) }

func (s *absorbingSource) Observe(fn func(*manifest.Object)) { s.observe = fn }

func (s *absorbingSource) Load(_ context.Context, visit func(*manifest.Object)) *manifest.Result {
	res := manifest.LoadBytes("cluster", []byte(clusterShop), manifest.Options{})
	kept := res.Objects[:0:0]
	for _, o := range res.Objects {
		if s.observe != nil {
			s.observe(o)
		}
		if o.Kind != "Pod" && o.Kind != "ReplicaSet" {
			kept = append(kept, o)
			visit(o)
		}
	}
	res.Objects = kept
	return res
}

// The Deployment's template is clean, but the pod that runs had a
// privileged sidecar injected: the table judges the running pod.
const clusterShop = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: app, image: nginx:1.27}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: "1"}]
spec:
  template:
    spec:
      containers: [{name: app, image: nginx:1.27}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1-abc
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: "2"}]
spec:
  containers:
    - {name: app, image: nginx:1.27}
    - {name: proxy, image: proxy:1, securityContext: {privileged: true}}
`

func TestPodSecurityTableObservesAbsorbedPods(t *testing.T) {
	out, err := Run(context.Background(), &absorbingSource{}, newPolicy(t, nil, PolicyInput{}), Options{PodSecurity: true})
	if err != nil {
		t.Fatal(err)
	}
	rows := out.Result.PodSecurity
	if len(rows) != 1 || rows[0].Pods != 1 || rows[0].Satisfies != "privileged" || len(rows[0].Blockers) != 1 || rows[0].Blockers[0].Object.Name != "web-1-abc" {
		t.Fatalf("rows %+v, want shop judged by its running pod", rows)
	}
	// The findings agree with the table: the clean template does not make
	// shop look ready for restricted.
	var psa []string
	for _, f := range out.Result.Findings {
		if strings.HasPrefix(f.RuleID, "psa-") {
			psa = append(psa, f.RuleID+" "+f.Object.Kind+"/"+f.Object.Name+": "+f.Message)
		}
	}
	if len(psa) != 1 || !strings.HasPrefix(psa[0], "psa-next-level-blocked Namespace/shop:") || !strings.Contains(psa[0], "Pod/web-1-abc (privileged)") {
		t.Errorf("psa findings %q", psa)
	}
	// Disabled in the config, they stay off.
	out, err = Run(context.Background(), &absorbingSource{}, newPolicy(t, nil, PolicyInput{Disable: []string{"psa-next-level-blocked"}}), Options{PodSecurity: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Result.Findings {
		if f.RuleID == "psa-next-level-blocked" {
			t.Errorf("disabled rule reported: %s", f.Message)
		}
	}
}

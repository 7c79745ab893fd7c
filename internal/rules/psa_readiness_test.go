package rules

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// The table a scan report prints: enforced level with version, strictest
// level satisfied, and the blockers of the next level with their controls.
func TestPodSecurityReadinessTable(t *testing.T) {
	res := manifest.LoadPaths([]string{filepath.Join(repoRoot(t), "testdata/rules/psa-stricter-level-ready/cluster.yaml")}, manifest.Options{})
	r := NewPodSecurityReadiness(nil)
	for _, o := range res.Objects {
		if err := r.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]PodSecurityNamespace{}
	for _, row := range r.Table() {
		got[row.Namespace] = row
	}
	if len(got) != 3 {
		t.Fatalf("rows %+v, want api, shop, tools", got)
	}
	shop := got["shop"]
	if shop.Enforce != "privileged" || shop.Labelled || shop.Pods != 1 || shop.Satisfies != "restricted" || shop.Next != "" || len(shop.Blockers) != 0 {
		t.Errorf("shop (judged by its running pod, not the Deployment's template) = %+v", shop)
	}
	api := got["api"]
	if api.Enforce != "baseline" || api.EnforceVersion != "v1.30" || !api.Labelled || api.Satisfies != "restricted" {
		t.Errorf("api = %+v", api)
	}
	tools := got["tools"]
	if tools.Satisfies != "baseline" || tools.Next != "restricted" || len(tools.Blockers) != 1 || tools.Blockers[0].Object.Name != "shell" {
		t.Fatalf("tools = %+v", tools)
	}
	if c := strings.Join(tools.Blockers[0].Controls, ", "); !strings.Contains(c, "runAsNonRoot != true") || !strings.Contains(c, "seccompProfile") {
		t.Errorf("tools blocker controls = %s", c)
	}
}

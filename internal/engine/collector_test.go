package engine_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/render"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// Streaming objects through Visit while loading must give exactly what
// checking them afterwards gives.
func TestCollectorVisitMatchesRun(t *testing.T) {
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	e := &engine.Engine{Registry: reg}
	paths := []string{"../../testdata/engine/mixed.yaml", "../../testdata/demo"}
	res := manifest.LoadPaths(paths, manifest.Options{})
	want, wantErrs := e.Run(res.Objects)

	c := e.NewCollector()
	streamed := manifest.LoadPaths(paths, manifest.Options{Visit: c.Visit})
	got, gotErrs := c.Finish(streamed.Objects)
	if len(got) == 0 || len(got) != len(want) || len(gotErrs) != len(wantErrs) {
		t.Fatalf("streamed %d findings/%d errors, batch %d/%d", len(got), len(gotErrs), len(want), len(wantErrs))
	}
	for i := range got {
		if got[i].Finding() != want[i].Finding() {
			t.Errorf("finding %d differs:\n%+v\n%+v", i, got[i].Finding(), want[i].Finding())
		}
	}
}

// Set-level rules see slim workloads: pod-level fields keep their exact
// positions, containers are gone unless the rule asks for them.
func TestSetRulesSeeSlimWorkloads(t *testing.T) {
	mk := func(needs bool) *engine.Rule {
		return &engine.Rule{
			RuleInfo: finding.RuleInfo{ID: "count-workloads", Title: "t", Severity: finding.Low, Rationale: "r", Remediation: "m"},
			CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
				for _, o := range objs {
					if w := c.Workload(o); w != nil {
						c.Reportf(o, w.SpecPath.Key("hostNetwork"), "%d containers, labels %v", len(w.Containers), w.Meta.Labels)
					}
				}
			},
			NeedsWorkloads: needs,
		}
	}
	for _, needs := range []bool{false, true} {
		// A run slims node trees: each run gets freshly loaded objects.
		reg, err := engine.NewRegistry(mk(needs))
		if err != nil {
			t.Fatal(err)
		}
		c := (&engine.Engine{Registry: reg}).NewCollector()
		res := manifest.LoadPaths([]string{"../../testdata/demo/web.yaml"}, manifest.Options{Visit: c.Visit})
		raws, errs := c.Finish(res.Objects)
		want := "0 containers, labels map[app:web]"
		if needs {
			want = "2 containers, labels map[app:web]"
		}
		if len(raws) != 1 || len(errs) != 0 || raws[0].Message != want {
			t.Fatalf("needs=%v: %+v %v", needs, raws, errs)
		}
		if loc := raws[0].Location(); loc.Line != 15 || loc.Column != 7 {
			t.Errorf("needs=%v: hostNetwork at %v, want 15:7", needs, loc)
		}
		for _, o := range res.Objects {
			if o.Kind == "Deployment" && !needs && o.Get(manifest.ParsePath("spec.template.spec.containers")) != nil {
				t.Errorf("containers kept in the slim tree")
			}
		}
	}
}

// engine.Compare sorts raws exactly as finding.Compare sorts the findings
// reports print: checked on every pair of real findings, plus findings
// made to tie on position so that every later key decides some pair.
func TestCompareMatchesFindingCompare(t *testing.T) {
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	res := manifest.LoadPaths([]string{"../../testdata/engine/mixed.yaml", "../../testdata/demo"}, manifest.Options{})
	raws, _ := (&engine.Engine{Registry: reg}).Run(res.Objects)
	if len(raws) < 20 {
		t.Fatalf("only %d findings", len(raws))
	}
	// Ties: the same position with other severities, rules, objects,
	// containers, paths and messages.
	base := raws[0]
	other := raws[len(raws)-1]
	for i, mut := range []func(r *engine.Raw){
		func(r *engine.Raw) { r.Severity = finding.Critical },
		func(r *engine.Raw) { r.Rule = other.Rule },
		func(r *engine.Raw) { r.Obj = other.Obj },
		func(r *engine.Raw) { r.Container = "zz" },
		func(r *engine.Raw) { r.Path = "a.b" },
		func(r *engine.Raw) { r.Message = "other" },
	} {
		r := base
		mut(&r)
		raws = append(raws, r)
		if engine.Compare(&r, &base) == 0 {
			t.Errorf("tie %d does not differ from its base", i)
		}
	}
	sign := func(c int) int { return min(max(c, -1), 1) }
	for i := range raws {
		fi := raws[i].Finding()
		for j := range raws {
			fj := raws[j].Finding()
			if got, want := sign(engine.Compare(&raws[i], &raws[j])), sign(finding.Compare(&fi, &fj)); got != want {
				t.Fatalf("Compare(%d, %d) = %d, finding.Compare = %d:\n%+v\n%+v", i, j, got, want, fi, fj)
			}
		}
	}
}

// Objects no set-level rule reads are frozen after their per-object
// checks: the tree goes, their positions stay. A set-level rule without
// Reads reads everything, so then nothing but workloads is frozen.
func TestCollectorFreezesWhatSetRulesDoNotRead(t *testing.T) {
	src := []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  a: "1"
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: shop
stringData:
  token: x
`)
	mk := func(reads func(*manifest.Object) bool) *engine.Rule {
		return &engine.Rule{
			RuleInfo: finding.RuleInfo{ID: "name-each", Title: "t", Severity: finding.Low, Rationale: "r", Remediation: "m"},
			Reads:    reads,
			CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
				for _, o := range objs {
					c.Reportf(o, manifest.ParsePath("metadata.name"), "%s", o.Name)
				}
			},
		}
	}
	onlyConfigMaps := func(o *manifest.Object) bool { return o.Kind == "ConfigMap" }
	for _, tc := range []struct {
		name  string
		reads func(*manifest.Object) bool
		kept  map[string]bool
	}{
		{"reads ConfigMaps", onlyConfigMaps, map[string]bool{"ConfigMap": true, "Secret": false}},
		{"reads everything", nil, map[string]bool{"ConfigMap": true, "Secret": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := engine.NewRegistry(mk(tc.reads))
			if err != nil {
				t.Fatal(err)
			}
			c := (&engine.Engine{Registry: reg}).NewCollector()
			res := manifest.LoadBytes("objs.yaml", src, manifest.Options{})
			want := map[string]finding.Location{}
			for _, o := range res.Objects {
				want[o.Kind] = o.Locate(manifest.ParsePath("metadata.name"))
				c.Visit(o)
			}
			for _, o := range res.Objects {
				if got := o.Node != nil; got != tc.kept[o.Kind] {
					t.Errorf("%s: tree kept = %v, want %v", o.Kind, got, tc.kept[o.Kind])
				}
			}
			raws, errs := c.Finish(res.Objects)
			if len(raws) != 2 || len(errs) != 0 {
				t.Fatalf("%+v %v", raws, errs)
			}
			for _, r := range raws {
				if got := r.Location(); got != want[r.Obj.Kind] {
					t.Errorf("%s reported at %v, want %v", r.Obj.Kind, got, want[r.Obj.Kind])
				}
			}
		})
	}
	if _, err := engine.NewRegistry(&engine.Rule{
		RuleInfo: finding.RuleInfo{ID: "per-object", Title: "t", Severity: finding.Low, Rationale: "r", Remediation: "m"},
		Check:    func(*engine.Context, *manifest.Object) {}, Reads: onlyConfigMaps,
	}); err == nil {
		t.Error("Reads on a per-object rule accepted")
	}
}

// The set-level rules' Reads are complete, and slimming, detaching and
// freezing keep every position and note they report with: a run gives
// exactly the findings of a run that keeps every object whole. Checked on
// every rule fixture, the demo, and rendered kustomize overlays and Helm
// charts (their objects locate through renderers' locators until frozen),
// among them RBAC, service accounts, namespaces and policies whose fields
// come from --set values and patches (testdata/engine/freeze).
func TestFreezingChangesNoFinding(t *testing.T) {
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"../../testdata/rules", "../../testdata/demo", "../../testdata/engine/mixed.yaml", "../../testdata/render/kustomize/overlays", "../../testdata/render/helm",
		"../../testdata/engine/freeze/chart", "../../testdata/engine/freeze/kustomize/overlays/prod"}
	helm := render.HelmOptions{Set: []string{"psaLevel=privileged", "verbs={get,list,watch}", "resources={secrets}", "adminGroup=system:authenticated"}}
	run := func(whole bool) ([]finding.Finding, int) {
		c := (&engine.Engine{Registry: reg}).NewCollector()
		if whole {
			engine.KeepWhole(c)
		}
		frozen := 0
		var mu sync.Mutex
		res := render.Load(paths, render.Options{Helm: helm, Manifest: manifest.Options{Visit: func(o *manifest.Object) {
			c.Visit(o)
			if _, ok := o.Locator.(*manifest.FrozenLocator); ok {
				mu.Lock()
				frozen++
				mu.Unlock()
			}
		}}})
		raws, _ := c.Finish(res.Objects)
		raws, _ = engine.Pipeline(raws, engine.Sort{})
		return engine.Findings(raws), frozen
	}
	got, frozen := run(false)
	want, frozenWhole := run(true)
	if frozen == 0 || frozenWhole != 0 {
		t.Fatalf("%d objects frozen or detached, %d when kept whole: the test checks nothing", frozen, frozenWhole)
	}
	if len(got) < 100 || len(got) != len(want) {
		t.Fatalf("%d findings with freezing, %d without", len(got), len(want))
	}
	for i := range got {
		if got[i].Fingerprint != want[i].Fingerprint || got[i].Location != want[i].Location || got[i].Message != want[i].Message {
			t.Errorf("finding %d differs:\n%+v\n%+v", i, got[i], want[i])
		}
	}
	// Set-level findings on rendered objects, with the notes saying
	// where their values came from.
	for _, w := range []struct{ rule, note string }{
		{"rbac-anonymous-binding", "--set adminGroup=system:authenticated"},
		{"psa-stricter-level-ready", "--set psaLevel=privileged"},
		{"rbac-default-sa-binding", "set by JSON patch"},
		{"namespace-missing-psa-label", "set by patch"},
		{"automount-service-account-token", ""},
	} {
		found := false
		for _, f := range got {
			found = found || f.RuleID == w.rule && strings.Contains(f.Location.File, "engine/freeze/") && strings.Contains(f.Message, w.note)
		}
		if !found {
			t.Errorf("no %s finding noting %q on the freeze fixtures", w.rule, w.note)
		}
	}
}

// panicLocator stands for a renderer's locator with a bug on one path.
type panicLocator struct {
	manifest.NodeLocator
	bad string
}

func (l panicLocator) Locate(p manifest.Path) finding.Location {
	if p.String() == l.bad {
		panic("no position for " + l.bad)
	}
	return l.NodeLocator.Locate(p)
}

// Freezing asks the locator for positions no rule asked for: a locator
// that panics on one of them costs that object an internal error, as a
// panicking check does, not the render that visits it (Visit runs on its
// goroutine) nor the run.
func TestFreezingSurvivesLocatorPanic(t *testing.T) {
	reg, err := engine.NewRegistry(&engine.Rule{
		RuleInfo: finding.RuleInfo{ID: "name-each", Title: "t", Severity: finding.Low, Rationale: "r", Remediation: "m"},
		Check: func(c *engine.Context, o *manifest.Object) {
			c.Reportf(manifest.ParsePath("metadata.name"), "%s", o.Name)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := manifest.LoadBytes("objs.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"), manifest.Options{})
	o := res.Objects[0]
	o.Locator = panicLocator{NodeLocator: manifest.NodeLocator{File: o.File, Root: o.Node}, bad: "metadata.annotations"}
	c := (&engine.Engine{Registry: reg}).NewCollector()
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("Visit panicked: %v", p)
			}
		}()
		for _, o := range res.Objects {
			c.Visit(o)
		}
	}()
	raws, errs := c.Finish(res.Objects)
	if len(raws) != 2 || len(errs) != 1 || !strings.Contains(errs[0].Message, "internal error") || !strings.Contains(errs[0].Message, "ConfigMap a") {
		t.Fatalf("findings %+v, errors %v", raws, errs)
	}
}

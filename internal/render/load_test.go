package render

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// A repository mixing plain YAML, a base with two overlays and a chart.
func TestRepositoryLayout(t *testing.T) {
	res := load(t, Options{}, "repo")
	noErrors(t, res)
	var got []string
	for _, o := range res.Objects {
		got = append(got, fmt.Sprintf("%s %s [%s]", o.Kind, o.Name, o.Origin))
	}
	want := []string{
		"Deployment release-name-api [helm chart repo/charts/api (release release-name)]",
		"Service release-name-api [helm chart repo/charts/api (release release-name)]",
		"Deployment production-worker [kustomize repo/deploy/overlays/production]",
		"Deployment staging-worker [kustomize repo/deploy/overlays/staging]",
		"Pod debug []",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	checkLocations(t, res, []locCase{
		// One base line reached through two overlays: the same position.
		{"Deployment", "staging-worker", "spec.template.spec.containers[0].securityContext.privileged", "repo/deploy/base/deployment.yaml:18:13", ""},
		{"Deployment", "production-worker", "spec.template.spec.containers[0].securityContext.privileged", "repo/deploy/base/deployment.yaml:18:13", ""},
		{"Deployment", "production-worker", "spec.replicas", "repo/deploy/overlays/production/replicas.yaml:6:3", "patch"},
		{"Deployment", "release-name-api", "spec.template.spec.hostPID", "repo/charts/api/templates/deployment.yaml:14:7", "hostPID from repo/charts/api/values.yaml"},
		{"Service", "release-name-api", "spec.ports[0].port", "repo/charts/api/templates/deployment.yaml:27:7", ""},
		{"Pod", "debug", "spec.hostNetwork", "repo/k8s/debug-pod.yaml:6:3", ""},
	})
	for _, o := range res.Objects {
		if o.Origin == "" && o.File != "repo/k8s/debug-pod.yaml" {
			t.Errorf("%s from %s linted as plain YAML", o.Name, o.File)
		}
	}
}

// lint . from the repository root: paths relative to the working
// directory, every kustomization root and chart found.
func TestLintDotFromRepositoryRoot(t *testing.T) {
	t.Chdir(filepath.Join(testdataDir(t), "repo"))
	res := Load([]string{"."}, Options{})
	noErrors(t, res)
	o := object(t, res, "Deployment", "staging-worker")
	if got := where(o, manifest.ParsePath("spec.template.spec.containers[0].securityContext.privileged")); got != "deploy/base/deployment.yaml:18:13" {
		t.Errorf("at %s", got)
	}
	o = object(t, res, "Deployment", "release-name-api")
	if got := where(o, manifest.ParsePath("spec.template.spec.hostPID")); got != "charts/api/templates/deployment.yaml:14:7" {
		t.Errorf("at %s", got)
	}
	for _, o := range res.Objects {
		if o.Origin == "" && o.File != "k8s/debug-pod.yaml" {
			t.Errorf("%s %s from %s linted as plain YAML", o.Kind, o.Name, o.File)
		}
	}
}

// End to end with the real rules: findings land on the user's lines, and a
// base finding reached through two overlays has one source position.
func TestFindingsPointAtSource(t *testing.T) {
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	dir := testdataDir(t)
	res := load(t, Options{Helm: HelmOptions{ValuesFiles: []string{filepath.Join(dir, "helm", "web", "values-debug.yaml")}}}, "repo", "kustomize", "helm/web")
	noErrors(t, res)
	e := &engine.Engine{Registry: reg}
	raws, errs := e.Run(res.Objects)
	if len(errs) > 0 {
		t.Fatalf("engine errors: %v", errs)
	}
	positions := map[string]map[string]bool{}
	for _, r := range raws {
		if strings.Contains(r.Location().File, "<") || r.Location().Line < 1 {
			t.Errorf("%s at %v", r.RuleID(), r.Location())
		}
		k := r.RuleID() + " " + r.Location().String()
		if positions[k] == nil {
			positions[k] = map[string]bool{}
		}
		positions[k][r.Ref().Name] = true
	}
	for _, want := range []string{
		"privileged-container repo/deploy/base/deployment.yaml:18:13",
		"privileged-container kustomize/overlays/dev/privileged.yaml:11:13",
		"privileged-container kustomize/overlays/prod/hostipc.yaml:7:5",
		"privileged-container helm/web/templates/deployment.yaml:28:13",
		"host-network kustomize/overlays/prod/kustomization.yaml:16:9",
		"host-network helm/web/templates/deployment.yaml:18:7",
		"host-network repo/k8s/debug-pod.yaml:6:3",
		"host-pid kustomize/components/debug/kustomization.yaml:15:13",
		"host-ipc kustomize/overlays/prod/hostipc.yaml:3:3",
	} {
		if positions[want] == nil {
			var have []string
			for k := range positions {
				have = append(have, k)
			}
			t.Errorf("no finding %s; have:\n%s", want, strings.Join(have, "\n"))
		}
	}
	if got := positions["privileged-container repo/deploy/base/deployment.yaml:18:13"]; len(got) != 2 {
		t.Errorf("base finding reached through %v, want both overlays", got)
	}
}

func TestOriginAnnotationsStripped(t *testing.T) {
	res := load(t, Options{}, "kustomize")
	for _, o := range res.Objects {
		for k := range o.Annotations {
			if strings.Contains(k, "config.kubernetes.io") {
				t.Errorf("%s %s keeps %s", o.Kind, o.Name, k)
			}
		}
		if o.Get(manifest.ParsePath("metadata.annotations")) != nil {
			t.Errorf("%s %s keeps an annotations key", o.Kind, o.Name)
		}
	}
}

func TestDeterministicOrder(t *testing.T) {
	list := func() []string {
		var out []string
		res := load(t, Options{}, "repo", "kustomize", "helm")
		for _, o := range res.Objects {
			out = append(out, o.File+" "+o.Kind+" "+o.Name)
		}
		for _, e := range res.Errors {
			out = append(out, e.Error())
		}
		return out
	}
	first := list()
	for i := 0; i < 3; i++ {
		if got := list(); !reflect.DeepEqual(got, first) {
			t.Fatalf("run %d differs:\n%v\n%v", i, got, first)
		}
	}
}

func TestDisabledIsPlainYAML(t *testing.T) {
	res := load(t, Options{Disabled: true}, "kustomize")
	for _, o := range res.Objects {
		if o.Locator != nil || o.Origin != "" {
			t.Errorf("%s rendered", o.Name)
		}
	}
	// The strategic-merge patch is linted as a loose object.
	object(t, res, "Deployment", "web")
}

func TestExplicitFileArguments(t *testing.T) {
	res := load(t, Options{}, "kustomize/overlays/prod/kustomization.yaml", "helm/web/Chart.yaml", "repo/k8s/debug-pod.yaml")
	noErrors(t, res)
	object(t, res, "Deployment", "prod-web")
	object(t, res, "Deployment", "release-name-web")
	object(t, res, "Pod", "debug")
}

// A base passed explicitly is rendered on its own.
func TestExplicitBaseIsRendered(t *testing.T) {
	res := load(t, Options{}, "kustomize/base")
	noErrors(t, res)
	o := object(t, res, "Deployment", "web")
	if o.Origin != "kustomize kustomize/base" {
		t.Errorf("origin %q", o.Origin)
	}
}

func TestStdinIsPlain(t *testing.T) {
	res := Load([]string{"-"}, Options{Manifest: manifest.Options{Stdin: strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata:\n  name: s\n")}})
	noErrors(t, res)
	if o := object(t, res, "Pod", "s"); o.File != "<stdin>" {
		t.Errorf("file %q", o.File)
	}
}

func TestRenderErrorKeepsRest(t *testing.T) {
	res := load(t, Options{}, "helm/missing-dep", "repo/k8s")
	if len(res.Errors) != 1 {
		t.Fatalf("errors %v", res.Errors)
	}
	object(t, res, "Pod", "debug")
}

func TestTimeout(t *testing.T) {
	res := load(t, Options{Timeout: time.Nanosecond}, "helm/web")
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "timed out") {
		t.Fatalf("errors %v", res.Errors)
	}
}

func TestOutputLimit(t *testing.T) {
	for _, in := range []string{"helm/web", "kustomize/overlays/prod"} {
		res := load(t, Options{MaxOutputBytes: 100}, in)
		if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "100") ||
			!strings.Contains(res.Errors[0].Message, "limit") && !strings.Contains(res.Errors[0].Message, "larger than") {
			t.Errorf("%s: errors %v", in, res.Errors)
		}
	}
}

func TestMissingArgument(t *testing.T) {
	res := Load([]string{filepath.Join(t.TempDir(), "nope")}, Options{})
	if len(res.Errors) != 1 {
		t.Fatalf("errors %v", res.Errors)
	}
}

func TestCwdUnchanged(t *testing.T) {
	wd, _ := os.Getwd()
	load(t, Options{}, "kustomize")
	if now, _ := os.Getwd(); now != wd {
		t.Fatalf("working directory changed to %s", now)
	}
}

// A render that times out is abandoned, but its goroutine runs on: it
// must hand no object to Visit once Load has returned (the engine's
// collector is finishing by then, and the objects are not in the result),
// whatever the kind of unit.
func TestNoVisitAfterTimeout(t *testing.T) {
	// Far more than rendering these takes, even under the race detector.
	const timeout = time.Second
	for _, in := range []string{"helm/web", "kustomize/overlays/prod"} {
		t.Run(in, func(t *testing.T) {
			var mu sync.Mutex
			returned, late, visits := false, 0, 0
			opt := Options{Timeout: timeout}
			opt.Manifest.Visit = func(o *manifest.Object) {
				mu.Lock()
				visits++
				first := visits == 1
				if returned {
					late++
				}
				mu.Unlock()
				if first {
					// Checking this object outlasts the render's time.
					time.Sleep(timeout + timeout/4)
				}
			}
			start := time.Now()
			res := load(t, opt, in)
			mu.Lock()
			returned = true
			mu.Unlock()
			if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "timed out") || len(res.Objects) != 0 {
				t.Fatalf("objects %d, errors %v", len(res.Objects), res.Errors)
			}
			// Long enough for the abandoned render to visit the rest.
			time.Sleep(timeout / 2)
			mu.Lock()
			defer mu.Unlock()
			if visits == 0 {
				t.Fatalf("nothing visited within %s: the test checks nothing", time.Since(start))
			}
			if late > 0 {
				t.Errorf("%d objects visited after Load returned", late)
			}
		})
	}
}

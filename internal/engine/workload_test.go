package engine_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// A workload whose pod template lacks containers is linted for what it
// has, and the schema problem is an input error at its line — for
// controllers as for Pods, streamed or not.
func TestWorkloadWithoutContainers(t *testing.T) {
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, streamed := range []bool{false, true} {
		e := &engine.Engine{Registry: reg}
		c := e.NewCollector()
		opt := manifest.Options{BaseDir: "../.."}
		if streamed {
			opt.Visit = c.Visit
		}
		res := manifest.LoadPaths([]string{"../../testdata/engine/no-containers.yaml"}, opt)
		raws, errs := c.Finish(res.Objects)
		var got []string
		for _, r := range raws {
			switch r.RuleID() {
			case "host-network", "host-pid", "host-ipc":
				got = append(got, fmt.Sprintf("%d %s", r.Location().Line, r.RuleID()))
			}
		}
		if want := []string{"8 host-network", "23 host-pid", "30 host-ipc"}; !slices.Equal(got, want) {
			t.Errorf("streamed=%v: findings %q, want %q", streamed, got, want)
		}
		var gotErrs []string
		for _, e := range errs {
			gotErrs = append(gotErrs, e.Error())
		}
		want := []string{
			"testdata/engine/no-containers.yaml:7: Deployment web: spec.template.spec.containers: required field is missing or empty: the pod template has no containers",
			"testdata/engine/no-containers.yaml:22: CronJob nightly: spec.jobTemplate.spec.template.spec.containers: required field is missing or empty: the pod template has no containers",
			"testdata/engine/no-containers.yaml:29: Pod bare: spec.containers: required field is missing or empty: the pod template has no containers",
			"testdata/engine/no-containers.yaml:47: Deployment partial: spec.template.spec: required field is missing: the workload has no pod template",
		}
		if !slices.Equal(gotErrs, want) {
			t.Errorf("streamed=%v: errors\n%q\nwant\n%q", streamed, gotErrs, want)
		}
	}
}

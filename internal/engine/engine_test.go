package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

func TestEnginePositionsAndErrors(t *testing.T) {
	res := manifest.LoadPaths([]string{"../../testdata/engine/mixed.yaml"}, manifest.Options{BaseDir: "../.."})
	// A fixed subset, so that new rules do not change this test.
	var subset []*engine.Rule
	for _, r := range rules.All() {
		switch r.ID {
		case "privileged-container", "host-network", "host-pid", "host-ipc", "image-latest-tag":
			subset = append(subset, r)
		}
	}
	reg, err := engine.NewRegistry(subset...)
	if err != nil {
		t.Fatal(err)
	}
	e := &engine.Engine{Registry: reg}
	raws, errs := e.Run(res.Objects)
	raws, suppressed := engine.Pipeline(raws, engine.IgnoreAnnotations{}, engine.Dedupe{}, engine.Sort{})
	var got []string
	for _, r := range raws {
		got = append(got, fmt.Sprintf("%s %s %s", r.Location(), r.RuleID(), r.Container))
	}
	want := []string{
		"testdata/engine/mixed.yaml:13:7 host-network ",
		"testdata/engine/mixed.yaml:16:11 image-latest-tag app",
		"testdata/engine/mixed.yaml:18:13 privileged-container app",
		"testdata/engine/mixed.yaml:20:11 image-latest-tag sidecar",
		"testdata/engine/mixed.yaml:29:7 host-pid ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if suppressed != 2 {
		t.Errorf("suppressed = %d, want 2", suppressed)
	}
	var allErrs []string
	for _, e := range append(res.Errors, errs...) {
		allErrs = append(allErrs, e.Error())
	}
	joined := strings.Join(allErrs, "\n")
	for _, w := range []string{"testdata/engine/mixed.yaml:45:", "testdata/engine/mixed.yaml:41: Pod broken"} {
		if !strings.Contains(joined, w) {
			t.Errorf("errors %q lack %q", joined, w)
		}
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Line != 2 {
		t.Errorf("skipped = %+v", res.Skipped)
	}
}

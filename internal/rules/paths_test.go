package rules

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// The allocation-lean helpers must build exactly what the engine's and the
// manifest package's own methods build: paths feed fingerprints and
// messages are compared in baselines.
func TestPathHelpersMatchReference(t *testing.T) {
	base := manifest.ParsePath("spec.template.spec").Key("containers").Item(2, "app")
	if got, want := subPath(base, 3, "resources", "limits", "cpu"), base.Key("resources", "limits", "cpu"); !reflect.DeepEqual(got, want) {
		t.Errorf("subPath = %v, want %v", got, want)
	}
	if got, want := subPath2(base, 0, "securityContext", "capabilities", "drop"), base.Key("securityContext").Key("capabilities", "drop"); !reflect.DeepEqual(got, want) {
		t.Errorf("subPath2 = %v, want %v", got, want)
	}
	ct := &engine.ContainerRef{Container: &corev1.Container{Name: "app"}, Path: base}
	if got, want := capsPath(ct, "add", 1, "NET_RAW"), base.Key("securityContext").Key("capabilities", "add").Item(1, "NET_RAW"); !reflect.DeepEqual(got, want) {
		t.Errorf("capsPath = %v, want %v", got, want)
	}
	w := &engine.Workload{SpecPath: manifest.ParsePath("spec"), Spec: &corev1.PodSpec{Volumes: []corev1.Volume{{Name: "a"}, {Name: "b"}}}}
	if got, want := volPath(w, 1, "hostPath", "path"), w.VolumePath(1).Key("hostPath", "path"); !reflect.DeepEqual(got, want) {
		t.Errorf("volPath = %v, want %v", got, want)
	}
	// Appending to a helper's result must never write into base.
	before := append(manifest.Path(nil), base...)
	_ = append(subPath(base, 0), manifest.PathElem{Key: "x", Index: -1})
	if !reflect.DeepEqual(base, before) {
		t.Errorf("base modified: %v", base)
	}
}

func TestDescribeMatchesEngine(t *testing.T) {
	for _, kind := range []string{"initContainer", "container", "ephemeralContainer"} {
		for _, name := range []string{"app", "", "with \"quotes\"", "ünïcode", "tab\there", "bad\xffutf8"} {
			ct := &engine.ContainerRef{Kind: kind, Container: &corev1.Container{Name: name}}
			if got, want := describe(ct), ct.Describe(); got != want {
				t.Errorf("describe(%s %q) = %q, want %q", kind, name, got, want)
			}
		}
	}
}

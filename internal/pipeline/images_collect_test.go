package pipeline

import (
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// The images verified are those of the objects the run returns: an
// object visited by a render that was then abandoned is left out, one
// never visited is read, and a container of a template with a field of
// the wrong type is verified all the same (the engine lints it leniently).
func TestImageUsesOfReturnedObjects(t *testing.T) {
	res := manifest.LoadBytes("pods.yaml", []byte(`apiVersion: v1
kind: Pod
metadata: {name: returned}
spec:
  containers:
    - name: app
      image: registry.example/app:1
      ports:
        - containerPort: "http"
---
apiVersion: v1
kind: Pod
metadata: {name: abandoned}
spec:
  containers:
    - {name: app, image: registry.example/abandoned:1}
---
apiVersion: v1
kind: Pod
metadata: {name: unvisited}
spec:
  containers:
    - {name: app, image: registry.example/late:1}
`), manifest.Options{})
	if len(res.Objects) != 3 {
		t.Fatalf("%d objects, %v", len(res.Objects), res.Errors)
	}
	ic := &imageCollector{uses: map[*manifest.Object][]imageUse{}}
	ic.visit(res.Objects[0])
	ic.visit(res.Objects[1])
	uses := ic.of([]*manifest.Object{res.Objects[0], res.Objects[2]})
	var got []string
	for _, u := range uses {
		got = append(got, u.ref+"@"+u.loc.String())
	}
	want := []string{"registry.example/app:1@pods.yaml:7:7", "registry.example/late:1@pods.yaml:23:19"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("uses %q, want %q", got, want)
	}
}

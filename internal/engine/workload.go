package engine

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Workload is the pod template of an object: a Pod's own spec, or the
// template of a controller (Deployment, CronJob, Argo Rollout, ...).
type Workload struct {
	// Meta is the pod's metadata (the template's for controllers).
	Meta     *metav1.ObjectMeta
	MetaPath manifest.Path
	Spec     *corev1.PodSpec
	SpecPath manifest.Path
	// Containers lists init, regular and ephemeral containers with their
	// paths, in that order.
	Containers []ContainerRef
}

// ContainerRef is one container and where it is written.
type ContainerRef struct {
	Container *corev1.Container
	// Kind is "initContainer", "container" or "ephemeralContainer".
	Kind string
	Path manifest.Path
}

// VolumePath returns the path of volume i.
func (w *Workload) VolumePath(i int) manifest.Path {
	return w.SpecPath.Key("volumes").Item(i, w.Spec.Volumes[i].Name)
}

type objectCache struct {
	done bool
	w    *Workload
	err  error
	// dropped: the workload was freed after per-object checks.
	dropped bool
}

func (oc *objectCache) workload(o *manifest.Object) *Workload {
	if !oc.done {
		oc.done = true
		oc.w, oc.err = DecodeWorkload(o)
	}
	return oc.w
}

// PodTemplatePaths lists where a pod template can sit, most specific first.
// Any kind with one of these is treated as a workload, which covers Argo
// Rollouts, OpenKruise and other controllers.
var podTemplatePaths = []struct{ meta, spec manifest.Path }{
	{manifest.ParsePath("spec.jobTemplate.spec.template.metadata"), manifest.ParsePath("spec.jobTemplate.spec.template.spec")},
	{manifest.ParsePath("spec.template.metadata"), manifest.ParsePath("spec.template.spec")},
	{manifest.ParsePath("template.metadata"), manifest.ParsePath("template.spec")},
}

// DecodeWorkload extracts the pod template of o; it returns nil, nil for
// objects without one.
func DecodeWorkload(o *manifest.Object) (*Workload, error) {
	var metaPath, specPath manifest.Path
	if o.Kind == "Pod" && o.Group() == "" {
		metaPath, specPath = manifest.ParsePath("metadata"), manifest.ParsePath("spec")
	} else {
		for _, c := range podTemplatePaths {
			spec := o.Get(c.spec)
			if spec == nil {
				continue
			}
			if _, cs := manifest.MapGet(spec, "containers"); cs == nil {
				continue
			}
			metaPath, specPath = c.meta, c.spec
			break
		}
		if specPath == nil {
			return nil, nil
		}
	}
	w := &Workload{Meta: &metav1.ObjectMeta{}, Spec: &corev1.PodSpec{}, MetaPath: metaPath, SpecPath: specPath}
	if n := o.Get(metaPath); n != nil {
		if err := manifest.DecodeInto(n, w.Meta); err != nil {
			return nil, &DecodeError{Line: manifest.FieldLine(n, err), Msg: fmt.Sprintf("%s: %s", metaPath, manifest.DecodeError(err))}
		}
	}
	n := o.Get(specPath)
	if n == nil {
		return nil, nil
	}
	if err := manifest.DecodeInto(n, w.Spec); err != nil {
		return nil, &DecodeError{Line: manifest.FieldLine(n, err), Msg: fmt.Sprintf("%s: %s", specPath, manifest.DecodeError(err))}
	}
	if o.Kind == "Pod" && w.Meta.Namespace == "" {
		w.Meta.Namespace = o.Namespace
	}
	for i := range w.Spec.InitContainers {
		c := &w.Spec.InitContainers[i]
		w.Containers = append(w.Containers, ContainerRef{Container: c, Kind: "initContainer", Path: specPath.Key("initContainers").Item(i, c.Name)})
	}
	for i := range w.Spec.Containers {
		c := &w.Spec.Containers[i]
		w.Containers = append(w.Containers, ContainerRef{Container: c, Kind: "container", Path: specPath.Key("containers").Item(i, c.Name)})
	}
	for i := range w.Spec.EphemeralContainers {
		c := (*corev1.Container)(&w.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		w.Containers = append(w.Containers, ContainerRef{Container: c, Kind: "ephemeralContainer", Path: specPath.Key("ephemeralContainers").Item(i, c.Name)})
	}
	return w, nil
}

// Describe names a container for messages: `container "app"`.
func (c ContainerRef) Describe() string {
	switch c.Kind {
	case "initContainer":
		return fmt.Sprintf("init container %q", c.Container.Name)
	case "ephemeralContainer":
		return fmt.Sprintf("ephemeral container %q", c.Container.Name)
	}
	return fmt.Sprintf("container %q", c.Container.Name)
}

// DecodeError is a field of the wrong type; Line is where it is written
// (0 when unknown).
type DecodeError struct {
	Line int
	Msg  string
}

func (e *DecodeError) Error() string { return e.Msg }

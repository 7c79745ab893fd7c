package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

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
	// notes left by Prepare steps, by rule.
	notes map[*Rule]any
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

var podMetaPath, podSpecPath = manifest.ParsePath("metadata"), manifest.ParsePath("spec")

// templateKinds are the kinds whose schema has a pod template ("group/Kind").
// Other kinds are taken as workloads only when a candidate path holds a
// pod spec with containers: CRDs use spec.template.spec for other things
// (Cluster API's MachineDeployment).
var templateKinds = map[string]bool{
	"apps/Deployment": true, "apps/StatefulSet": true, "apps/DaemonSet": true, "apps/ReplicaSet": true,
	"/ReplicationController": true, "/PodTemplate": true, "batch/Job": true, "batch/CronJob": true,
	"argoproj.io/Rollout": true,
}

// DecodeWorkload extracts the pod template of o; it returns nil, nil for
// objects without one. Decoding is lenient, as linting should be: a field
// of the wrong type is dropped (decodeLenient) and reported, and a pod
// template without containers (a schema error the API server rejects) is
// reported too; the workload is returned with every such *DecodeError
// (joined) and what is there is still linted. Only an error that names no
// field leaves nothing to lint (nil workload).
func DecodeWorkload(o *manifest.Object) (*Workload, error) {
	metaPath, specPath := templatePaths(o)
	if specPath == nil {
		if templateKinds[o.Group()+"/"+o.Kind] {
			// A Deployment with no pod template (a test's partial object)
			// is no pod to lint, but is no silent pass either.
			p := podTemplatePaths[1].spec
			if o.Kind == "CronJob" {
				p = podTemplatePaths[0].spec
			} else if o.Kind == "PodTemplate" {
				p = podTemplatePaths[2].spec
			}
			return nil, &DecodeError{Path: p, Msg: p.String() + ": required field is missing: the workload has no pod template"}
		}
		return nil, nil
	}
	w := &Workload{Meta: &metav1.ObjectMeta{}, Spec: &corev1.PodSpec{}, MetaPath: metaPath, SpecPath: specPath}
	var errs []error
	if n := o.Get(metaPath); n != nil {
		var ok bool
		if errs, ok = decodeLenient(n, metaPath, w.Meta, errs); !ok {
			return nil, errors.Join(errs...)
		}
	}
	n := o.Get(specPath)
	if n == nil {
		return nil, errors.Join(errs...)
	}
	var ok bool
	if errs, ok = decodeLenient(n, specPath, w.Spec, errs); !ok {
		return nil, errors.Join(errs...)
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
	if len(w.Spec.Containers) == 0 {
		p := specPath.Key("containers")
		errs = append(errs, &DecodeError{Path: p, Msg: p.String() + ": required field is missing or empty: the pod template has no containers"})
	}
	return w, errors.Join(errs...)
}

// maxDroppedFields bounds decodeLenient's retries: a template with more
// bad fields than this is not worth linting field by field.
const maxDroppedFields = 32

// decodeLenient decodes n (found at prefix of its object) into v. A field
// of the wrong type is appended to errs as a *DecodeError, dropped from a
// copy of n (copy-on-write: the object's tree is not changed) and the
// decode runs again, so that one bad field costs that field only. ok is
// false when v could not be decoded: an error that names no field, a
// field that dropping does not cure, or too many bad fields.
func decodeLenient[T any](n *yaml.Node, prefix manifest.Path, v *T, errs []error) (_ []error, ok bool) {
	var last manifest.Path
	for range maxDroppedFields {
		err := manifest.DecodeInto(n, v)
		if err == nil {
			return errs, true
		}
		var fe *manifest.FieldError
		if errors.As(err, &fe) && len(fe.Path) > 0 && slices.Equal(fe.Path, last) {
			return errs, false // dropping it did not help; reported already
		}
		errs = append(errs, decodeError(n, prefix, err))
		if fe == nil || len(fe.Path) == 0 {
			return errs, false
		}
		last = fe.Path
		if n = withoutField(n, fe.Path); n == nil {
			return errs, false
		}
		var zero T
		*v = zero
	}
	return errs, false
}

// withoutField returns a copy of n without the field at p: a mapping key
// is removed, a sequence item becomes null (so that later items keep their
// index, which paths and names rely on). Only the nodes along p are
// copied. nil when p does not lead anywhere in n.
func withoutField(n *yaml.Node, p manifest.Path) *yaml.Node {
	n = manifest.Resolve(n)
	if n == nil || len(p) == 0 {
		return nil
	}
	cp := *n
	cp.Content = slices.Clone(n.Content)
	e := p[0]
	switch {
	case e.Index < 0 && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(cp.Content); i += 2 {
			if cp.Content[i].Value != e.Key {
				continue
			}
			if len(p) == 1 {
				cp.Content = slices.Delete(cp.Content, i, i+2)
				return &cp
			}
			c := withoutField(cp.Content[i+1], p[1:])
			if c == nil {
				return nil
			}
			cp.Content[i+1] = c
			return &cp
		}
	case e.Index >= 0 && n.Kind == yaml.SequenceNode && e.Index < len(cp.Content):
		if len(p) == 1 {
			cp.Content[e.Index] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: cp.Content[e.Index].Line, Column: cp.Content[e.Index].Column}
			return &cp
		}
		c := withoutField(cp.Content[e.Index], p[1:])
		if c == nil {
			return nil
		}
		cp.Content[e.Index] = c
		return &cp
	}
	return nil
}

// templatePaths returns where o's pod template metadata and spec are
// written, or nils for an object without one.
func templatePaths(o *manifest.Object) (metaPath, specPath manifest.Path) {
	if o.Kind == "Pod" && o.Group() == "" {
		return podMetaPath, podSpecPath
	}
	known := templateKinds[o.Group()+"/"+o.Kind]
	for _, c := range podTemplatePaths {
		spec := o.Get(c.spec)
		if spec == nil {
			continue
		}
		if _, cs := manifest.MapGet(spec, "containers"); cs == nil && !known {
			continue
		}
		return c.meta, c.spec
	}
	return nil, nil
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

// DecodeError is a field of the wrong type, or a required one missing.
// Line is where it is written in the object's node tree (0 when unknown);
// Path, when set, is the field, located through the object's Locator (for
// a missing field, at its nearest existing ancestor).
type DecodeError struct {
	Line int
	Path manifest.Path
	Msg  string
}

func (e *DecodeError) Error() string { return e.Msg }

// decodeError describes a failure to decode node n, found at prefix of its
// object. A field of the wrong type gets its full Kubernetes path
// (spec.volumes[1].fc.lun), located through the object's Locator so that
// a rendered object's error points into its source, not at line 1.
func decodeError(n *yaml.Node, prefix manifest.Path, err error) *DecodeError {
	var fe *manifest.FieldError
	if errors.As(err, &fe) {
		p, msg := fe.Under(prefix)
		return &DecodeError{Line: fe.Line, Path: p, Msg: msg}
	}
	return &DecodeError{Line: manifest.FieldLine(n, err), Msg: fmt.Sprintf("%s: %s", prefix, manifest.DecodeError(err))}
}

// slimWorkload drops what set-level rules do not need once per-object
// checks are done: the node tree is replaced by the recorded positions of
// the object, its metadata and its pod-level scalar fields (service
// account, token automount, host namespaces, …), and the decoded workload
// keeps only those fields. Containers, volumes and the rest become garbage.
func slimWorkload(o *manifest.Object, w *Workload) {
	// Set-level rules report a missing automountServiceAccountToken where
	// it belongs.
	paths := append(slices.Clip(metadataPaths), w.MetaPath, w.MetaPath.Key("labels"), w.SpecPath,
		w.SpecPath.Key("automountServiceAccountToken"), w.SpecPath.Key("serviceAccountName"))
	if spec := o.Get(w.SpecPath); spec != nil {
		for i := 0; i+1 < len(spec.Content); i += 2 {
			if v := manifest.Resolve(spec.Content[i+1]); v != nil && v.Kind == yaml.ScalarNode {
				paths = append(paths, w.SpecPath.Key(spec.Content[i].Value))
			}
		}
	}
	manifest.Freeze(o, paths)
	spec := corev1.PodSpec{
		ServiceAccountName:           w.Spec.ServiceAccountName,
		DeprecatedServiceAccount:     w.Spec.DeprecatedServiceAccount,
		AutomountServiceAccountToken: clonePtr(w.Spec.AutomountServiceAccountToken),
		HostNetwork:                  w.Spec.HostNetwork,
		HostPID:                      w.Spec.HostPID,
		HostIPC:                      w.Spec.HostIPC,
		HostUsers:                    clonePtr(w.Spec.HostUsers),
		NodeName:                     w.Spec.NodeName,
		PriorityClassName:            w.Spec.PriorityClassName,
		ShareProcessNamespace:        clonePtr(w.Spec.ShareProcessNamespace),
	}
	w.Spec = &spec
	// Clone what is kept: decoded strings may share the decoder's buffer,
	// which would otherwise stay alive with them.
	labels := make(map[string]string, len(w.Meta.Labels))
	for k, v := range w.Meta.Labels {
		labels[strings.Clone(k)] = strings.Clone(v)
	}
	spec.ServiceAccountName = strings.Clone(spec.ServiceAccountName)
	spec.DeprecatedServiceAccount = strings.Clone(spec.DeprecatedServiceAccount)
	spec.NodeName = strings.Clone(spec.NodeName)
	spec.PriorityClassName = strings.Clone(spec.PriorityClassName)
	w.Meta = &metav1.ObjectMeta{Name: strings.Clone(w.Meta.Name), Namespace: strings.Clone(w.Meta.Namespace), GenerateName: strings.Clone(w.Meta.GenerateName), Labels: labels}
	w.Containers = nil
}

// clonePtr copies *p into a fresh allocation: a pointer into the
// decoder's memory would keep the whole decoded spec alive.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

package cluster

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
)

// ScanResources are what scan reads, in the order it reads them: owners
// before what they own, so that a pod can be reported on its Deployment
// as soon as it is seen. Categories name the rules each one feeds, for
// "not evaluated".
var ScanResources = []struct {
	schema.GroupResource
	Categories []string
}{
	{gr("", "namespaces"), []string{"coverage"}},
	{gr("apps", "deployments"), workloadCategories},
	{gr("apps", "statefulsets"), workloadCategories},
	{gr("apps", "daemonsets"), workloadCategories},
	{gr("batch", "cronjobs"), workloadCategories},
	{gr("", "replicationcontrollers"), workloadCategories},
	{gr("apps", "replicasets"), workloadCategories},
	{gr("batch", "jobs"), workloadCategories},
	{gr("", "pods"), workloadCategories},
	{gr("", "services"), []string{"exposure"}},
	{gr("networking.k8s.io", "ingresses"), []string{"exposure"}},
	{gr("", "serviceaccounts"), []string{"service-accounts"}},
	// Only legacy token Secrets, metadata only: no secret data is read.
	{gr("", "secrets"), []string{"service-accounts"}},
	{gr("networking.k8s.io", "networkpolicies"), []string{"coverage"}},
	{gr("", "resourcequotas"), []string{"coverage"}},
	{gr("", "limitranges"), []string{"coverage"}},
	{gr("rbac.authorization.k8s.io", "roles"), []string{"rbac"}},
	{gr("rbac.authorization.k8s.io", "clusterroles"), []string{"rbac"}},
	{gr("rbac.authorization.k8s.io", "rolebindings"), []string{"rbac"}},
	{gr("rbac.authorization.k8s.io", "clusterrolebindings"), []string{"rbac"}},
	{gr("admissionregistration.k8s.io", "validatingwebhookconfigurations"), []string{"admission"}},
	{gr("admissionregistration.k8s.io", "mutatingwebhookconfigurations"), []string{"admission"}},
}

var workloadCategories = []string{"pod-security", "resources", "images", "service-accounts", "secrets", "supply-chain", RuntimeCategory}

// KubeletCategories are the categories of rules over kubelet
// configurations (KubeletConfiguration objects read from configz).
var KubeletCategories = []string{"kubelet", "nodes"}

func gr(g, r string) schema.GroupResource { return schema.GroupResource{Group: g, Resource: r} }

// Controllers whose pods (and ReplicaSets, Jobs) are reported on them.
var topOwnerKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "CronJob": true, "ReplicationController": true}

// Source is scan's pipeline.Source: the objects of a cluster, streamed
// page by page. Pods owned by a controller are not checked on their own:
// they count as running replicas of their owner and give their running
// image digests; ReplicaSets and Jobs owned by a Deployment or CronJob
// likewise. Everything else is checked like a file's objects.
type Source struct {
	Client     *Client
	Namespaces Namespaces
	// Server names the cluster in errors (its URL).
	Server string
	// Rules are the rules that run, for NotEvaluated.Rules.
	Rules []finding.RuleInfo
	// Kubelet reads each node's kubelet configuration (configz, through
	// nodes/proxy) where the caller may.
	Kubelet bool
	// Progress, when set, receives progress lines (a terminal).
	Progress io.Writer
	// observe sees every object listed, owned pods included
	// (pipeline.ObservingSource): the Pod Security readiness table judges
	// the pods that run, not only the owners' templates.
	observe func(*manifest.Object)

	plan  *Plan
	edges pipeline.Edges
	read  int
}

// owner is a controller whose pods are reported on it.
type owner struct {
	obj *manifest.Object
	// top is the owner the findings go to (a ReplicaSet's Deployment).
	top *owner
	// images maps container name to the image its spec asks for, and
	// where.
	images  map[string]templateImage
	running int
	// reported holds running-image findings already made, so each is
	// made once per owner, container and image.
	reported map[string]bool
}

type templateImage struct {
	image string
	path  manifest.Path
}

var _ pipeline.EdgeSource = (*Source)(nil)

// Load lists the cluster and hands each object to check to visit.
func (s *Source) Load(ctx context.Context, visit func(*manifest.Object)) *manifest.Result {
	res := &manifest.Result{}
	start := time.Now()
	want := make([]schema.GroupResource, len(ScanResources))
	for i, r := range ScanResources {
		want[i] = r.GroupResource
	}
	l := &Lister{Client: s.Client, Namespaces: s.Namespaces, Options: listOptions}
	if s.Progress != nil {
		l.Progress = func(p Progress) {
			fmt.Fprintf(s.Progress, "\r\033[Klisting %s: %d objects, %.1fs", p.Scope, p.Objects, p.Elapsed.Seconds())
		}
		defer fmt.Fprint(s.Progress, "\r\033[K")
	}
	plan, err := l.Plan(ctx, want)
	if err != nil {
		res.Errors = append(res.Errors, finding.InputError{File: s.Server, Message: err.Error()})
		return res
	}
	s.plan = plan
	st := &scanState{src: s, owners: map[string]*owner{}, digests: map[string]bool{}}
	err = l.Stream(ctx, plan, func(it *Item) error {
		s.read++
		if s.observe != nil {
			s.observe(it.Object)
		}
		if o := st.take(it); o != nil {
			res.Objects = append(res.Objects, o)
			visit(o)
		}
		return nil
	})
	if err != nil {
		res.Errors = append(res.Errors, finding.InputError{File: s.Server, Message: err.Error()})
	}
	if s.Kubelet {
		for _, o := range s.kubeletConfigs(ctx, plan) {
			s.read++
			res.Objects = append(res.Objects, o)
			visit(o)
		}
	}
	s.edges.Uncounted = s.read - len(res.Objects)
	s.edges.NotEvaluated = s.notEvaluated(plan)
	s.edges.Findings = st.raws
	s.edges.Images = st.images
	if s.edges.Images == nil {
		s.edges.Images = []pipeline.ImageRef{}
	}
	replicas := map[finding.ObjectRef]int{}
	for _, ow := range st.owners {
		if ow.top == ow && ow.running > 0 {
			replicas[ow.obj.Ref()] = ow.running
		}
	}
	s.edges.Decorate = func(f *finding.Finding) {
		if n, ok := replicas[f.Object]; ok {
			f.Message += fmt.Sprintf(" (%d running %s)", n, plural(n, "replica", "replicas"))
		}
	}
	if s.Progress != nil {
		fmt.Fprintf(s.Progress, "\r\033[Kread %d objects in %.1fs\n", s.read, time.Since(start).Seconds())
	}
	return res
}

// Observe implements pipeline.ObservingSource.
func (s *Source) Observe(fn func(*manifest.Object)) { s.observe = fn }

var _ pipeline.ObservingSource = (*Source)(nil)

// Edges implements pipeline.EdgeSource.
func (s *Source) Edges() *pipeline.Edges { return &s.edges }

// Plan returns what the scan read and could not read (after Load).
func (s *Source) Plan() *Plan { return s.plan }

// ReadNothing reports whether not a single scope could be read.
func (s *Source) ReadNothing() bool { return s.plan == nil || len(s.plan.Read) == 0 }

// saTokenType is the type of legacy, long-lived service account tokens.
const saTokenType = "kubernetes.io/service-account-token"

// listOptions: statuses are only needed for pods (phase, image digests);
// of Secrets only the metadata of legacy token Secrets is read.
func listOptions(r Resource) ListOptions {
	switch {
	case r.Group == "" && r.Resource == "pods":
		return ListOptions{}
	case r.Group == "" && r.Resource == "secrets":
		return ListOptions{MetadataOnly: true, FieldSelector: "type=" + saTokenType}
	}
	return ListOptions{Drop: []string{"status"}}
}

// notEvaluated turns what was not read into the report's form, with the
// rules that therefore did not run.
func (s *Source) notEvaluated(p *Plan) []finding.NotEvaluated {
	out := make([]finding.NotEvaluated, 0, len(p.NotRead))
	for _, n := range p.NotRead {
		out = append(out, finding.NotEvaluated{Resource: n.Resource, Namespace: n.Namespace, Reason: n.Reason, Rules: s.rulesFor(categoriesOf(n.Resource))})
	}
	return out
}

func categoriesOf(resource string) []string {
	if resource == "nodes/proxy" {
		return KubeletCategories
	}
	for _, r := range ScanResources {
		if r.GroupResource.String() == resource {
			return r.Categories
		}
	}
	return nil
}

func (s *Source) rulesFor(categories []string) []string {
	ids := []string{}
	for _, r := range s.Rules {
		if slices.Contains(categories, r.Category) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// scanState follows owners while objects stream by.
type scanState struct {
	src     *Source
	owners  map[string]*owner // by UID
	raws    []engine.Raw
	images  []pipeline.ImageRef
	digests map[string]bool
}

// take decides what happens to one listed object: returned to be
// checked, or absorbed into its owner.
func (st *scanState) take(it *Item) *manifest.Object {
	o := it.Object
	if o.Group() == "" && o.Kind == "Pod" {
		return st.pod(it)
	}
	ctrl := controllerOf(o)
	switch {
	case o.Kind == "Namespace" && len(st.src.Namespaces.Only) > 0 && !slices.Contains(st.src.Namespaces.Only, o.Name):
		// Outside the namespaces asked for (-n).
		return nil
	case o.Kind == "Secret" && o.Group() == "":
		// Listed by type, metadata only: say which type it is.
		o.Node.Content = append(o.Node.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "type"},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: saTokenType})
		return o
	case topOwnerKinds[o.Kind]:
		ow := &owner{obj: o, images: templateImages(o)}
		ow.top = ow
		st.owners[it.UID] = ow
		return o
	case (o.Kind == "ReplicaSet" || o.Kind == "Job") && ctrl != "" && st.owners[ctrl] != nil:
		// Reported on its Deployment or CronJob.
		st.owners[it.UID] = &owner{obj: o, top: st.owners[ctrl].top, images: templateImages(o)}
		return nil
	case o.Kind == "ReplicaSet" || o.Kind == "Job":
		ow := &owner{obj: o, images: templateImages(o)}
		ow.top = ow
		st.owners[it.UID] = ow
		return o
	}
	return o
}

// pod counts an owned pod on its owner and checks what it runs; a bare
// pod (or the first pod of a controller that was not read) is checked
// itself.
func (st *scanState) pod(it *Item) *manifest.Object {
	o := it.Object
	_, status := manifest.MapGet(o.Node, "status")
	dropStatus(o)
	ctrl := controllerOf(o)
	ow := st.owners[ctrl]
	var keep *manifest.Object
	if ow == nil {
		// Bare, or owned by something scan does not read (a CRD, a
		// forbidden kind): the pod stands for its controller's pods.
		ow = &owner{obj: o, images: templateImages(o)}
		ow.top = ow
		key := ctrl
		if key == "" {
			key = it.UID
		}
		st.owners[key] = ow
		keep = o
	}
	if manifest.ScalarString(status, "phase") == "Running" {
		ow.top.running++
	}
	st.runningImages(ow, o, status)
	return keep
}

// runningImages reports containers running without a digest and
// containers running another image than their owner asks for, and
// records each running digest once for --verify-images.
func (st *scanState) runningImages(ow *owner, pod *manifest.Object, status *yaml.Node) {
	top := ow.top
	podImages := templateImages(pod)
	for _, key := range []string{"initContainerStatuses", "containerStatuses"} {
		_, list := manifest.MapGet(status, key)
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		for _, cs := range list.Content {
			name := manifest.ScalarString(cs, "name")
			imageID := manifest.ScalarString(cs, "imageID")
			_, state := manifest.MapGet(cs, "state")
			_, runningState := manifest.MapGet(state, "running")
			if runningState == nil {
				continue
			}
			want, ok := top.images[name]
			if !ok {
				want = podImages[name]
			}
			digest := digestRef(imageID)
			if top.reported == nil {
				top.reported = map[string]bool{}
			}
			if digest == "" {
				if k := "nodigest\x00" + name; !top.reported[k] {
					top.reported[k] = true
					st.raws = append(st.raws, engine.NewRaw(&RunningImageNoDigest, top.obj, want.path, finding.Location{}, name,
						fmt.Sprintf("container %q runs %s with no image digest in pod %s's status: what runs cannot be verified", name, nonEmpty(manifest.ScalarString(cs, "image"), podImages[name].image), pod.Name)))
				}
			} else if !st.digests[digest] {
				st.digests[digest] = true
				st.images = append(st.images, pipeline.ImageRef{Object: top.obj, Ref: digest, Path: want.path, Container: name})
			}
			// The pod's own spec says which image it was created from;
			// the owner's current spec says which one it should run.
			got := podImages[name].image
			if ow != top || top.obj != pod {
				if want.image != "" && got != "" && got != want.image {
					if k := "drift\x00" + name + "\x00" + got; !top.reported[k] {
						top.reported[k] = true
						st.raws = append(st.raws, engine.NewRaw(&RunningImageDrift, top.obj, want.path, finding.Location{}, name,
							fmt.Sprintf("container %q: pod %s runs %s, but the current spec asks for %s", name, pod.Name, got, want.image)))
					}
				}
			}
		}
	}
}

// digestRef turns a status imageID into a reference by digest, or "" if
// it carries none ("docker-pullable://nginx@sha256:…" → "nginx@sha256:…").
func digestRef(imageID string) string {
	if i := strings.Index(imageID, "://"); i >= 0 {
		imageID = imageID[i+3:]
	}
	if at := strings.LastIndex(imageID, "@sha256:"); at > 0 {
		return imageID
	}
	return ""
}

func nonEmpty(s, alt string) string {
	if s != "" {
		return s
	}
	return alt
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// controllerOf returns the UID of the object's controller, or "".
func controllerOf(o *manifest.Object) string {
	_, md := manifest.MapGet(o.Node, "metadata")
	_, refs := manifest.MapGet(md, "ownerReferences")
	if refs == nil || refs.Kind != yaml.SequenceNode {
		return ""
	}
	for _, r := range refs.Content {
		if _, c := manifest.MapGet(r, "controller"); c != nil && c.Value == "true" {
			return manifest.ScalarString(r, "uid")
		}
	}
	return ""
}

// dropStatus removes status from a pod's tree: the checks read the spec;
// the status is read once, here, for phase and image digests.
func dropStatus(o *manifest.Object) {
	c := o.Node.Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Value == "status" {
			o.Node.Content = append(c[:i:i], c[i+2:]...)
			return
		}
	}
}

var templateSpecs = []manifest.Path{
	manifest.ParsePath("spec"), // a Pod
	manifest.ParsePath("spec.template.spec"),
	manifest.ParsePath("spec.jobTemplate.spec.template.spec"),
}

// templateImages maps each container of o's pod spec to its image and
// the path of its image field.
func templateImages(o *manifest.Object) map[string]templateImage {
	out := map[string]templateImage{}
	for _, sp := range templateSpecs {
		if o.Kind != "Pod" && len(sp) == 1 {
			continue
		}
		spec := o.Get(sp)
		if spec == nil {
			continue
		}
		for _, key := range []string{"initContainers", "containers"} {
			_, list := manifest.MapGet(spec, key)
			if list == nil || list.Kind != yaml.SequenceNode {
				continue
			}
			for i, c := range list.Content {
				name := manifest.ScalarString(c, "name")
				out[name] = templateImage{image: manifest.ScalarString(c, "image"), path: sp.Key(key).Item(i, name).Key("image")}
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return out
}

// kubeletConfigs reads each node's kubelet configuration through the API
// server (nodes/proxy → /configz) where the caller may, as
// KubeletConfiguration objects named after their nodes.
func (s *Source) kubeletConfigs(ctx context.Context, plan *Plan) []*manifest.Object {
	notRead := func(reason string) {
		plan.NotRead = append(plan.NotRead, NotRead{Resource: "nodes/proxy", Reason: reason})
	}
	ok, reason, err := s.Client.Allowed(ctx, nodesProxy)
	switch {
	case err != nil:
		notRead(err.Error())
		return nil
	case !ok:
		notRead(reason)
		return nil
	}
	names, reason, err := s.Client.nodeNames(ctx)
	if err != nil || reason != "" {
		notRead(nonEmpty(reason, fmt.Sprint(err)))
		return nil
	}
	out := make([]*manifest.Object, len(names))
	errs := make([]string, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, s.Client.concurrency())
	for i, n := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			o, err := s.Client.KubeletConfig(ctx, n)
			if err != nil {
				errs[i] = fmt.Sprintf("node %s: %v", n, err)
				return
			}
			out[i] = o
		}()
	}
	wg.Wait()
	var got []*manifest.Object
	for i, o := range out {
		if o != nil {
			got = append(got, o)
		} else {
			notRead(errs[i])
		}
	}
	sortNotRead(plan.NotRead)
	return got
}

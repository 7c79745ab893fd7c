package render

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// testdataDir returns testdata/render at the repository root.
func testdataDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "render")
}

// load renders args with display paths relative to testdata/render.
func load(t testing.TB, opt Options, args ...string) *manifest.Result {
	t.Helper()
	dir := testdataDir(t)
	if opt.Manifest.BaseDir == "" {
		opt.Manifest.BaseDir = dir
	}
	var full []string
	for _, a := range args {
		full = append(full, filepath.Join(dir, a))
	}
	return Load(full, opt)
}

func object(t *testing.T, res *manifest.Result, kind, name string) *manifest.Object {
	t.Helper()
	for _, o := range res.Objects {
		if o.Kind == kind && o.Name == name {
			return o
		}
	}
	var have []string
	for _, o := range res.Objects {
		have = append(have, o.Kind+"/"+o.Name)
	}
	t.Fatalf("no %s %s among %v", kind, name, have)
	return nil
}

// where returns "file:line:col" of the field p of an object.
func where(o *manifest.Object, p manifest.Path) string {
	l := o.Locate(p)
	return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Column)
}

func explain(o *manifest.Object, p manifest.Path) string {
	if e, ok := o.Locator.(manifest.Explainer); ok {
		return e.Explain(p)
	}
	return ""
}

func noErrors(t *testing.T, res *manifest.Result) {
	t.Helper()
	for _, e := range res.Errors {
		t.Errorf("unexpected error: %v", e)
	}
}

type locCase struct {
	kind, name, path string
	want             string // file:line:col
	note             string // substring of Explain, when set
}

func checkLocations(t *testing.T, res *manifest.Result, cases []locCase) {
	t.Helper()
	for _, c := range cases {
		o := object(t, res, c.kind, c.name)
		p := manifest.ParsePath(c.path)
		if got := where(o, p); got != c.want {
			t.Errorf("%s %s %s: at %s, want %s", c.kind, c.name, c.path, got, c.want)
		}
		if got := explain(o, p); c.note != "" && !strings.Contains(got, c.note) || c.note == "" && got != "" && strings.Contains(c.want, "base/") {
			t.Errorf("%s %s %s: explained %q, want %q", c.kind, c.name, c.path, got, c.note)
		}
	}
}

func TestKustomizeOverlays(t *testing.T) {
	res := load(t, Options{}, "kustomize")
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		// dev: a strategic-merge patch file adds privileged.
		{"Deployment", "dev-web", "spec.template.spec.containers[0].securityContext.privileged", "kustomize/overlays/dev/privileged.yaml:11:13", "patch kustomize/overlays/dev/privileged.yaml"},
		// dev: a component's inline patch adds hostPID.
		{"Deployment", "dev-web", "spec.template.spec.hostPID", "kustomize/components/debug/kustomization.yaml:15:13", "components/debug"},
		// Fields of the base stay in the base.
		{"Deployment", "dev-web", "spec.template.spec.containers[0].image", "kustomize/base/deployment.yaml:19:11", ""},
		{"Deployment", "dev-web", "spec.template.spec.containers[1].securityContext.allowPrivilegeEscalation", "kustomize/base/deployment.yaml:25:13", ""},
		// The namespace comes from the overlay's namespace: field.
		{"Deployment", "dev-web", "metadata.namespace", "kustomize/overlays/dev/kustomization.yaml:4:1", "namespace set by"},
		// A missing field points at its deepest existing ancestor in the base.
		{"Deployment", "dev-web", "spec.template.spec.securityContext.runAsNonRoot", "kustomize/base/deployment.yaml:16:5", ""},
		{"Deployment", "dev-web", "", "kustomize/base/deployment.yaml:1:1", ""},
		// configMapGenerator literals.
		{"ConfigMap", "dev-web-config-47668c6k28", "data.LOG_LEVEL", "kustomize/overlays/dev/kustomization.yaml:14:9", ""},
		{"ConfigMap", "dev-web-config-47668c6k28", "metadata.name", "kustomize/overlays/dev/kustomization.yaml:12:5", ""},
		// prod: an inline JSON 6902 patch under patches:.
		{"Deployment", "prod-web", "spec.template.spec.hostNetwork", "kustomize/overlays/prod/kustomization.yaml:16:9", "JSON patch kustomize/overlays/prod/kustomization.yaml"},
		// prod: a JSON 6902 patch file under patchesJson6902.
		{"Deployment", "prod-web", "spec.template.spec.hostIPC", "kustomize/overlays/prod/hostipc.yaml:3:3", "hostipc.yaml"},
		{"Deployment", "prod-web", "spec.template.spec.containers[1].securityContext.privileged", "kustomize/overlays/prod/hostipc.yaml:7:5", "hostipc.yaml"},
		// prod: the images transformer retags busybox.
		{"Deployment", "prod-web", "spec.template.spec.containers[1].image", "kustomize/overlays/prod/kustomization.yaml:26:5", "image set by"},
		{"Deployment", "prod-web", "spec.template.spec.containers[0].image", "kustomize/base/deployment.yaml:19:11", ""},
		{"Service", "prod-web", "spec.ports[0].port", "kustomize/base/service.yaml:9:7", ""},
		{"ConfigMap", "prod-web-config-hf678c7m2b", "data.LOG_LEVEL", "kustomize/overlays/prod/kustomization.yaml:30:9", ""},
	})
}

// JSON 6902 replace and remove ops own what they replaced or removed: a
// field missing below them points at the op, never at the base lines the
// op took away.
func TestKustomizeJSON6902ReplaceRemove(t *testing.T) {
	res := load(t, Options{}, "kustomize-json6902/overlay")
	noErrors(t, res)
	const ops = "kustomize-json6902/overlay/ops.yaml"
	checkLocations(t, res, []locCase{
		// replace of a securityContext: a field it no longer has points
		// at the op's value, not at the base line that set it.
		{"Deployment", "web", "spec.template.spec.containers[1].securityContext.allowPrivilegeEscalation", ops + ":3:3", "JSON patch " + ops},
		{"Deployment", "web", "spec.template.spec.containers[1].securityContext.readOnlyRootFilesystem", ops + ":3:3", "JSON patch " + ops},
		{"Deployment", "web", "spec.template.spec.containers[1].securityContext.capabilities.drop", ops + ":3:3", "JSON patch " + ops},
		{"Deployment", "web", "spec.template.spec.containers[1].securityContext.privileged", ops + ":4:5", "JSON patch " + ops},
		// remove then add of a securityContext: the add's value.
		{"Deployment", "web", "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation", ops + ":9:3", "JSON patch " + ops},
		{"Deployment", "web", "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem", ops + ":10:5", "JSON patch " + ops},
		// replace of a whole container.
		{"Deployment", "web", "spec.template.spec.containers[2].securityContext.allowPrivilegeEscalation", ops + ":13:3", "JSON patch " + ops},
		{"Deployment", "web", "spec.template.spec.containers[2].securityContext", ops + ":13:3", "JSON patch " + ops},
		{"Deployment", "web", "spec.template.spec.containers[2].image", ops + ":15:5", "JSON patch " + ops},
		// remove of a field (inline patch): the missing field points at
		// the remove op.
		{"Deployment", "web", "spec.template.spec.securityContext.runAsNonRoot", "kustomize-json6902/overlay/kustomization.yaml:11:9", "JSON patch kustomize-json6902/overlay/kustomization.yaml"},
		// What no op touched stays in the base.
		{"Deployment", "web", "spec.template.spec.containers[0].image", "kustomize-json6902/base/deployment.yaml:18:11", ""},
		{"Deployment", "web", "spec.template.spec.containers[1].image", "kustomize-json6902/base/deployment.yaml:23:11", ""},
		{"Deployment", "web", "spec.template.spec.securityContext", "kustomize-json6902/base/deployment.yaml:14:7", ""},
	})
}

// The prod overlay's replace of the sidecar's securityContext hides the
// base's allowPrivilegeEscalation: false (the bug QA found).
func TestKustomizeJSON6902ReplaceHidesBase(t *testing.T) {
	res := load(t, Options{}, "kustomize")
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		{"Deployment", "prod-web", "spec.template.spec.containers[1].securityContext.allowPrivilegeEscalation", "kustomize/overlays/prod/hostipc.yaml:6:3", "hostipc.yaml"},
		{"Deployment", "prod-web", "spec.template.spec.containers[1].securityContext.privileged", "kustomize/overlays/prod/hostipc.yaml:7:5", "hostipc.yaml"},
		// The app container was not replaced: its missing field stays in the base.
		{"Deployment", "prod-web", "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation", "kustomize/base/deployment.yaml:18:11", ""},
		// dev has no JSON patch: the base line still sets it.
		{"Deployment", "dev-web", "spec.template.spec.containers[1].securityContext.allowPrivilegeEscalation", "kustomize/base/deployment.yaml:25:13", ""},
	})
}

// A patch kustomize cannot apply is reported at the patch: the name of a
// strategic-merge patch that matches nothing, the path of a JSON 6902
// operation (in a file or inline).
func TestPatchMismatchNamesPatchLine(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	write(t, "base/d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: nginx:1.27\n")
	write(t, "base/kustomization.yaml", "resources:\n  - d.yaml\n")
	write(t, "smp/kustomization.yaml", "resources:\n  - ../base\npatches:\n  - path: p.yaml\n")
	write(t, "smp/p.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nope\nspec:\n  replicas: 2\n")
	write(t, "inline/kustomization.yaml", "resources:\n  - ../base\npatches:\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: replace\n        path: /spec/nothere/x\n        value: 1\n")
	write(t, "ops/kustomization.yaml", "resources:\n  - ../base\npatches:\n  - path: ops.yaml\n    target:\n      kind: Deployment\n")
	write(t, "ops/ops.yaml", "- op: add\n  path: /spec/replicas\n  value: 1\n- op: remove\n  path: /spec/template/spec/containers/3\n")
	for dir, want := range map[string]string{"smp": "smp/p.yaml:4", "inline": "inline/kustomization.yaml:8", "ops": "ops/ops.yaml:5"} {
		res := Load([]string{dir}, Options{})
		if len(res.Errors) != 1 || fmt.Sprintf("%s:%d", res.Errors[0].File, res.Errors[0].Line) != want {
			t.Errorf("%s: errors %v, want one at %s", dir, res.Errors, want)
		}
	}
}

// Identical subtrees of one build are shared (the CRD's two versions have
// one schema), each overlay's objects are its own, and kustomize's build
// annotations are gone from them.
func TestBuildsShareIdenticalSubtrees(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	write(t, "crds/kustomization.yaml", "resources:\n  - crd.yaml\n")
	write(t, "crds/crd.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: {type: object}\n    - name: v1beta1\n      served: true\n      storage: false\n      schema:\n        openAPIV3Schema: {type: object}\n")
	write(t, "base/kustomization.yaml", "resources:\n  - ../crds\n  - cm.yaml\n")
	write(t, "base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n")
	for _, o := range []string{"a", "b"} {
		write(t, "overlays/"+o+"/kustomization.yaml", "namespace: "+o+"\nnamePrefix: "+o+"-\nresources:\n  - ../../base\n")
	}
	res := Load([]string{"."}, Options{})
	noErrors(t, res)
	var crds, cms []*manifest.Object
	for _, o := range res.Objects {
		switch o.Kind {
		case "CustomResourceDefinition":
			crds = append(crds, o)
		case "ConfigMap":
			cms = append(cms, o)
		}
		if len(o.Annotations) != 0 || o.Get(manifest.ParsePath("metadata.annotations")) != nil {
			t.Errorf("%s %s keeps annotations %v", o.Kind, o.Name, o.Annotations)
		}
	}
	if len(crds) != 2 || len(cms) != 2 {
		t.Fatalf("crds %d configmaps %d", len(crds), len(cms))
	}
	for _, crd := range crds {
		if crd.Get(manifest.ParsePath("spec.versions[0].schema")) != crd.Get(manifest.ParsePath("spec.versions[1].schema")) {
			t.Error("the CRD's identical version schemas are separate copies")
		}
	}
	if crds[0].Get(manifest.ParsePath("spec")) == crds[1].Get(manifest.ParsePath("spec")) {
		t.Error("two overlays' objects share a tree beyond their builds")
	}
	if cms[0].Name == cms[1].Name {
		t.Errorf("configmaps %s %s: names not per overlay", cms[0].Name, cms[1].Name)
	}
	// Positions still point at each source.
	if got := where(cms[1], manifest.ParsePath("data.a")); got != "base/cm.yaml:6:3" {
		t.Errorf("data.a at %s", got)
	}
}

// Each render's objects are handed to the visitor as soon as that render
// is done, with their locators set, once each, and plain files' objects
// as they are parsed; a source file's parsed documents are kept only
// while a kustomization still to render reads it.
func TestRendersAreVisitedWhenDone(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	write(t, "base/kustomization.yaml", "resources:\n  - cm.yaml\n")
	write(t, "base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n")
	for _, o := range []string{"a", "b", "c"} {
		write(t, "overlays/"+o+"/kustomization.yaml", "namePrefix: "+o+"-\nresources:\n  - ../../base\n")
	}
	write(t, "plain/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n")
	var mu sync.Mutex
	seen := map[*manifest.Object]int{}
	res := Load([]string{"."}, Options{Manifest: manifest.Options{Visit: func(o *manifest.Object) {
		mu.Lock()
		defer mu.Unlock()
		seen[o]++
		if o.File != "plain/cm.yaml" && o.Locator == nil {
			t.Errorf("%s %s visited before its locator was set", o.Kind, o.Name)
		}
	}}})
	noErrors(t, res)
	if len(res.Objects) != 4 { // three overlays (the base is theirs), plain
		t.Fatalf("%d objects", len(res.Objects))
	}
	for _, o := range res.Objects {
		if seen[o] != 1 {
			t.Errorf("%s %s (%s) visited %d times", o.Kind, o.Name, o.Origin, seen[o])
		}
	}
}

// The documents of a source file stay parsed while a pending
// kustomization reads it, and go with the last one.
func TestKustTreeReleasesFileDocs(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	write(t, "base/kustomization.yaml", "resources:\n  - cm.yaml\n")
	write(t, "base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n")
	write(t, "overlay/kustomization.yaml", "resources:\n  - ../base\n  - extra.yaml\n")
	write(t, "overlay/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n")
	tree := newKustTree(nil, 0)
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	base, overlay := resourceFiles(tree.load(abs("base"))), resourceFiles(tree.load(abs("overlay")))
	if fmt.Sprint(base) != fmt.Sprint([]string{abs("base/cm.yaml")}) || fmt.Sprint(overlay) != fmt.Sprint([]string{abs("base/cm.yaml"), abs("overlay/extra.yaml")}) {
		t.Fatalf("resource files: base %v overlay %v", base, overlay)
	}
	cached := func(p string) bool {
		tree.docsMu.Lock()
		defer tree.docsMu.Unlock()
		_, ok := tree.docs[abs(p)]
		return ok
	}
	tree.retain(base)
	tree.retain(overlay)
	for _, f := range overlay {
		if len(tree.fileDocs(f)) != 1 {
			t.Fatalf("%s: not parsed", f)
		}
	}
	if !cached("base/cm.yaml") || !cached("overlay/extra.yaml") {
		t.Fatal("files read by pending kustomizations are not kept")
	}
	tree.release(overlay)
	if !cached("base/cm.yaml") || cached("overlay/extra.yaml") {
		t.Errorf("after the overlay: base kept %v, extra kept %v", cached("base/cm.yaml"), cached("overlay/extra.yaml"))
	}
	tree.release(base)
	if cached("base/cm.yaml") {
		t.Error("base/cm.yaml kept after its last reader")
	}
	// A file no pending kustomization reads is parsed, not kept.
	if len(tree.fileDocs(abs("base/cm.yaml"))) != 1 || cached("base/cm.yaml") {
		t.Error("a file without readers was kept")
	}
}

// A file a kustomization lists as a patch or generator input that does
// not exist is one error at the line that lists it (gatekeeper's
// config/overlays/dev lists a patch its Makefile generates; kustomize's
// own message has no line and quotes the transformer config).
func TestMissingPatchOrGeneratorFileNamedAtItsLine(t *testing.T) {
	for name, tc := range map[string]struct {
		kust string
		line int
		want string
	}{
		"patchesStrategicMerge": {"resources:\n- cm.yaml\npatchesStrategicMerge:\n- image_patch.yaml\n", 4, `patch file "image_patch.yaml" not found`},
		"patches":               {"resources:\n- cm.yaml\npatches:\n- target:\n    kind: ConfigMap\n  path: p.yaml\n", 6, `patch file "p.yaml" not found`},
		"patchesJson6902":       {"resources:\n- cm.yaml\npatchesJson6902:\n- target:\n    kind: ConfigMap\n    name: c\n    version: v1\n  path: j.yaml\n", 8, `patch file "j.yaml" not found`},
		"generator envs":        {"resources:\n- cm.yaml\nconfigMapGenerator:\n- name: g\n  envs:\n  - app.env\n", 6, `file "app.env" of configMapGenerator not found`},
		"generator files":       {"secretGenerator:\n- name: g\n  files:\n  - key=tls/key.pem\n", 4, `file "tls/key.pem" of secretGenerator not found`},
	} {
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			write(t, filepath.Join(tmp, "k", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
			write(t, filepath.Join(tmp, "k", "kustomization.yaml"), tc.kust)
			res := Load([]string{filepath.Join(tmp, "k")}, Options{Manifest: manifest.Options{BaseDir: tmp}})
			if len(res.Errors) != 1 {
				t.Fatalf("errors %v", res.Errors)
			}
			e := res.Errors[0]
			if e.File != "k/kustomization.yaml" || e.Line != tc.line || !strings.Contains(e.Message, tc.want) {
				t.Errorf("error = %s:%d %s, want line %d %q", e.File, e.Line, e.Message, tc.line, tc.want)
			}
		})
	}
}

// An images: entry that only names an image (no newName, newTag or
// digest) changes nothing: the image stays at the resource's line
// (kubeflow's pipeline/third-party/prometheus lists "- name:
// prom/prometheus" alone; image-latest-tag pointed at it).
func TestKustomizeImagesEntryWithoutChangeIsNotAWriter(t *testing.T) {
	tmp := t.TempDir()
	write(t, filepath.Join(tmp, "k", "deploy.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: prom
spec:
  template:
    spec:
      containers:
        - name: prom
          image: prom/prometheus
        - name: side
          image: busybox
`)
	write(t, filepath.Join(tmp, "k", "kustomization.yaml"), "resources:\n- deploy.yaml\nimages:\n- name: prom/prometheus\n- name: busybox\n  newTag: \"1.36\"\n")
	res := Load([]string{filepath.Join(tmp, "k")}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		{"Deployment", "prom", "spec.template.spec.containers[0].image", "k/deploy.yaml:10:11", ""},
		{"Deployment", "prom", "spec.template.spec.containers[1].image", "k/kustomization.yaml:6:3", ""},
	})
}

// A named list item whose name kustomize changed (a binding's subject
// renamed by namePrefix, kubebuilder's default/ overlays) is still found
// in its source at its index: the finding points at the subject, not at
// "subjects:" (kubeflow's notebook-controller, profiles, tensorboard).
func TestKustomizeRenamedSubjectFoundInBase(t *testing.T) {
	tmp := t.TempDir()
	write(t, filepath.Join(tmp, "default", "base", "rb.yaml"), `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: role-binding
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: role
subjects:
- kind: ServiceAccount
  name: service-account
  namespace: system
`)
	write(t, filepath.Join(tmp, "default", "base", "sa.yaml"), "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: service-account\n  namespace: system\n")
	write(t, filepath.Join(tmp, "default", "base", "kustomization.yaml"), "resources:\n- rb.yaml\n- sa.yaml\n")
	write(t, filepath.Join(tmp, "default", "kustomization.yaml"), "namePrefix: nb-\nnamespace: nb\nresources:\n- base\n")
	res := Load([]string{filepath.Join(tmp, "default")}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	noErrors(t, res)
	o := object(t, res, "ClusterRoleBinding", "nb-role-binding")
	if got := manifest.ScalarString(o.Get(manifest.ParsePath("subjects[0]")), "name"); got != "nb-service-account" {
		t.Fatalf("rendered subject %q", got)
	}
	checkLocations(t, res, []locCase{
		{"ClusterRoleBinding", "nb-role-binding", "subjects[0].name", "default/base/rb.yaml:11:3", ""},
		{"ClusterRoleBinding", "nb-role-binding", "subjects[0].kind", "default/base/rb.yaml:10:3", ""},
	})
}

// kustomize's own warnings (deprecated fields) are -v notes attributed to
// the kustomization file and line of the field, marked "# note: <field>"
// in the fixture; none is written to the process's standard error, where
// it would be unattributed and interleaved with the report.
func TestKustomizeDeprecationNotes(t *testing.T) {
	dir := filepath.Join(testdataDir(t), "kustomize-deprecated")
	var want []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p) != "kustomization.yaml" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(testdataDir(t), p)
		for i, line := range strings.Split(string(b), "\n") {
			if _, field, ok := strings.Cut(line, "# note: "); ok {
				want = append(want, fmt.Sprintf("%s:%d: note: kustomize: '%s' is deprecated.", rel, i+1, field))
			}
		}
		return nil
	})
	if err != nil || len(want) != 6 {
		t.Fatalf("fixture marks %d notes (want 6): %v", len(want), err)
	}
	// What kustomize says through the standard logger, on the file
	// being rendered.
	want = append(want, "kustomize-deprecated/overlays/b/kustomization.yaml: note: kustomize: well-defined vars that were never replaced: UNUSED")

	// The process's standard error, as kustomize sees it.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stderr
	os.Stderr = w
	var log strings.Builder
	res := load(t, Options{Log: &log}, "kustomize-deprecated")
	os.Stderr = orig
	w.Close()
	stderr, _ := io.ReadAll(r)

	if len(res.Errors) > 0 || len(res.Objects) != 2 {
		t.Fatalf("rendered %d objects (want 2: a-web, b-web), errors %v", len(res.Objects), res.Errors)
	}
	if len(stderr) > 0 {
		t.Errorf("kustomize wrote to the process's stderr:\n%s", stderr)
	}
	for _, n := range want {
		if !strings.Contains(log.String(), n) {
			t.Errorf("-v log lacks %q:\n%s", n, log.String())
		}
	}
	if strings.Contains(log.String(), "# Warning") {
		t.Errorf("-v log has kustomize's raw warning:\n%s", log.String())
	}
}

// A symbolic link to a repository, named on the command line, is walked
// and rendered like the repository itself.
func TestSymlinkedDirectoryArgumentIsRendered(t *testing.T) {
	target := t.TempDir()
	write(t, filepath.Join(target, "base", "kustomization.yaml"), "resources:\n  - cm.yaml\n")
	write(t, filepath.Join(target, "base", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n")
	write(t, filepath.Join(target, "overlay", "kustomization.yaml"), "namePrefix: o-\nresources:\n  - ../base\n")
	write(t, filepath.Join(target, "plain.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n")
	// The link sits in the working directory, the repository elsewhere.
	wd := t.TempDir()
	t.Chdir(wd)
	link := filepath.Join(wd, "repo")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	res := Load([]string{"repo"}, Options{})
	noErrors(t, res)
	var names []string
	for _, o := range res.Objects {
		names = append(names, o.Name)
	}
	if fmt.Sprint(names) != "[o-cfg plain]" {
		t.Errorf("objects %v", names)
	}
}

// A JSON patch that appends a list item ("path: /rules/-") wrote that
// item only: the items before it stay in the base (gatekeeper's
// config/rbac: every rule of manager-role was "set by JSON patch
// webhook_permissions_patch.yaml").
func TestKustomizeJSONPatchAppendOwnsOnlyTheAppendedItem(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	write(t, filepath.Join(tmp, "rbac", "role.yaml"), `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: manager-role
rules:
- apiGroups:
  - ""
  resources:
  - events
  verbs:
  - create
- apiGroups:
  - '*'
  resources:
  - '*'
  verbs:
  - get
`)
	write(t, filepath.Join(tmp, "rbac", "patch.yaml"), `- op: add
  path: /rules/-
  value:
    apiGroups:
    - admissionregistration.k8s.io
    resources:
    - validatingwebhookconfigurations
    verbs:
    - create
`)
	write(t, filepath.Join(tmp, "rbac", "kustomization.yaml"), "resources:\n- role.yaml\npatchesJson6902:\n- target:\n    group: rbac.authorization.k8s.io\n    version: v1\n    kind: ClusterRole\n    name: manager-role\n  path: patch.yaml\n")
	res := Load([]string{filepath.Join(tmp, "rbac")}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	noErrors(t, res)
	checkLocations(t, res, []locCase{
		{"ClusterRole", "manager-role", "rules[1].resources[0]", "rbac/role.yaml:15:5", ""},
		{"ClusterRole", "manager-role", "rules[1].apiGroups[0]", "rbac/role.yaml:13:5", ""},
		{"ClusterRole", "manager-role", "rules[0].verbs[0]", "rbac/role.yaml:11:5", ""},
		{"ClusterRole", "manager-role", "rules[2].resources[0]", "rbac/patch.yaml:7:7", "JSON patch rbac/patch.yaml"},
	})
}

// Items of a list of scalars named by their value (a capability in
// capabilities.add) point at their own line through kustomize too, not at
// the list's key (kubeflow's istio-cni: five capabilities all at "add:").
func TestKustomizeScalarListItemsByValue(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	write(t, filepath.Join(tmp, "k", "kustomization.yaml"), "resources:\n- d.yaml\n")
	write(t, filepath.Join(tmp, "k", "d.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  template:
    spec:
      containers:
      - name: c
        image: busybox:1.36
        securityContext:
          capabilities:
            add:
            - NET_ADMIN
            - SYS_ADMIN
`)
	res := Load([]string{filepath.Join(tmp, "k")}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	noErrors(t, res)
	o := object(t, res, "Deployment", "x")
	base := manifest.ParsePath("spec.template.spec.containers[0].securityContext.capabilities.add")
	for i, want := range []string{"k/d.yaml:14:15", "k/d.yaml:15:15"} {
		p := base.Item(i, []string{"NET_ADMIN", "SYS_ADMIN"}[i])
		if got := where(o, p); got != want {
			t.Errorf("%s at %s, want %s", p, got, want)
		}
	}
}

// A path item whose Name is not the item's own name (envFrom[0] named by
// its Secret, the name sits under secretRef) is found by index through
// kustomize, as in plain YAML (kubeflow's katib-postgres: secret-in-env
// pointed at "envFrom:").
func TestKustomizeItemNameThatIsNotAKey(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	write(t, filepath.Join(tmp, "k", "kustomization.yaml"), "resources:\n- d.yaml\n")
	write(t, filepath.Join(tmp, "k", "d.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  template:
    spec:
      containers:
      - name: c
        image: busybox:1.36
        envFrom:
          - configMapRef:
              name: cfg
          - secretRef:
              name: creds
`)
	res := Load([]string{filepath.Join(tmp, "k")}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	noErrors(t, res)
	o := object(t, res, "Deployment", "x")
	p := manifest.ParsePath("spec.template.spec.containers[0].envFrom").Item(1, "creds").Key("secretRef")
	if got := where(o, p); got != "k/d.yaml:14:13" {
		t.Errorf("%s at %s, want k/d.yaml:14:13", p, got)
	}
}

// Parsed source files kept for pending kustomizations are bounded in
// bytes: the least recently read goes first, and comes back parsed anew.
func TestKustTreeBoundsFileDocs(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"
	var files []string
	for _, n := range []string{"a", "b", "c"} {
		write(t, n+".yaml", doc)
		abs, _ := filepath.Abs(n + ".yaml")
		files = append(files, abs)
	}
	tree := newKustTree(nil, 0)
	tree.maxCached = 2 * len(doc) // two files' worth
	tree.retain(files)
	cached := func(i int) bool {
		_, ok := tree.docs[files[i]]
		return ok
	}
	tree.fileDocs(files[0])
	tree.fileDocs(files[1])
	tree.fileDocs(files[0]) // b is now the least recently read
	tree.fileDocs(files[2])
	if !cached(0) || cached(1) || !cached(2) || tree.cached != 2*len(doc) {
		t.Errorf("kept a %v b %v c %v, %d bytes", cached(0), cached(1), cached(2), tree.cached)
	}
	if d := tree.fileDocs(files[1]); len(d) != 1 || d[0].Kind != "ConfigMap" || manifest.ScalarString(d[0].Parse(), "kind") != "ConfigMap" {
		t.Errorf("an evicted file is not parsed again: %v", d)
	}
	tree.release(files)
	if len(tree.docs) != 0 || tree.cached != 0 {
		t.Errorf("after the last reader: %d files, %d bytes", len(tree.docs), tree.cached)
	}
}

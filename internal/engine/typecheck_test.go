package engine_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/render"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// typeErrorFixture holds objects of built-in kinds with fields of the
// wrong type outside the pod spec; each bad field's line is marked
// `# error: <field path>`.
const typeErrorFixture = "testdata/engine/type-errors/base/objects.yaml"

// wantTypeErrors reads the marks of the fixture as "file:line: field path".
func wantTypeErrors(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open("../../" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if _, p, ok := strings.Cut(sc.Text(), "# error: "); ok {
			want = append(want, fmt.Sprintf("%s:%d: field %s", file, line, p))
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s has no `# error:` marks", file)
	}
	return want
}

// A field of the wrong type anywhere in an object of a built-in kind is an
// input error at its line, named by its Kubernetes path; CRDs and unknown
// fields are not errors, and every object is still linted. It holds for
// plain YAML, streamed through Visit (trees are slimmed right after their
// checks) or not, and for objects rendered by kustomize, whose errors
// point into the base file.
func TestTypeErrorsOutsidePodSpec(t *testing.T) {
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	want := wantTypeErrors(t, typeErrorFixture)
	for _, tc := range []struct {
		name     string
		input    string
		streamed bool
	}{
		{"plain", typeErrorFixture, false},
		{"streamed", typeErrorFixture, true},
		{"kustomize overlay", "testdata/engine/type-errors/overlay", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &engine.Engine{Registry: reg}
			c := e.NewCollector()
			opt := manifest.Options{BaseDir: "../.."}
			if tc.streamed {
				opt.Visit = c.Visit
			}
			res := render.Load([]string{"../../" + tc.input}, render.Options{Manifest: opt})
			if len(res.Errors) > 0 || len(res.Objects) != 12 {
				t.Fatalf("loaded %d objects (want 12), errors: %v", len(res.Objects), res.Errors)
			}
			raws, errs := c.Finish(res.Objects)
			got := errorFields(errs)
			if !slices.Equal(got, want) {
				t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(errs) > 3 && !strings.HasSuffix(errs[3].Message, "field rules: cannot use a mapping where a list is expected") {
				t.Errorf("Role error %q does not say a list is expected", errs[3].Message)
			}
			hostNet := false
			for _, r := range raws {
				hostNet = hostNet || r.RuleID() == "host-network"
			}
			if !hostNet {
				t.Error("the Deployment with a bad replicas field was not linted (no host-network finding)")
			}
		})
	}
}

// podTypeErrorFixture holds pod templates with fields of the wrong type,
// marked `# error: <field path>`, and the findings the rest of each object
// must still produce, marked `# want: <rule>[@col]`.
const podTypeErrorFixture = "testdata/engine/pod-type-errors/objects.yaml"

// A field of the wrong type inside a pod template costs that field only:
// every bad field is an input error at its line, and the object's other
// fields are still checked (#13 item 14, QA: a wrong-typed containerPort
// hid a privileged container).
func TestTypeErrorsInsidePodSpec(t *testing.T) {
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	wantErrs := wantTypeErrors(t, podTypeErrorFixture)
	var wantFindings []string
	b, err := os.ReadFile("../../" + podTypeErrorFixture)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if _, rule, ok := strings.Cut(line, "# want: "); ok {
			wantFindings = append(wantFindings, fmt.Sprintf("%d %s", i+1, strings.Split(rule, "@")[0]))
		}
	}
	for _, streamed := range []bool{false, true} {
		e := &engine.Engine{Registry: reg}
		c := e.NewCollector()
		opt := manifest.Options{BaseDir: "../.."}
		if streamed {
			opt.Visit = c.Visit
		}
		res := manifest.LoadPaths([]string{"../../" + podTypeErrorFixture}, opt)
		if len(res.Errors) > 0 || len(res.Objects) != 3 {
			t.Fatalf("loaded %d objects (want 3), errors: %v", len(res.Objects), res.Errors)
		}
		raws, errs := c.Finish(res.Objects)
		got := errorFields(errs)
		slices.Sort(got)
		slices.Sort(wantErrs)
		if !slices.Equal(got, wantErrs) {
			t.Errorf("streamed=%v: errors\n%s\nwant\n%s", streamed, strings.Join(got, "\n"), strings.Join(wantErrs, "\n"))
		}
		found := map[string]bool{}
		for _, r := range raws {
			found[fmt.Sprintf("%d %s", r.Location().Line, r.RuleID())] = true
		}
		for _, w := range wantFindings {
			if !found[w] {
				t.Errorf("streamed=%v: finding %q missing: the object was not linted past its type error", streamed, w)
			}
		}
	}
}

// errorFields cuts input errors ("file:line: Kind name: field path: cannot
// use ...") down to "file:line: field path".
func errorFields(errs []finding.InputError) []string {
	var got []string
	for _, e := range errs {
		fileLine, msg, _ := strings.Cut(e.Error(), ": ")
		_, field, _ := strings.Cut(msg, ": field ")
		path, _, _ := strings.Cut(field, ":")
		got = append(got, fmt.Sprintf("%s: field %s", fileLine, path))
	}
	return got
}

// A wrong type that a chart's values produced says which value, as
// findings do: the fix is in --set or the values file, not the template.
func TestRenderedTypeErrorNamesTheValue(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: agent\nversion: 0.1.0\n",
		"values.yaml": "hostNetwork: false\n",
		"templates/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: agent\nspec:\n" +
			"  hostNetwork: {{ .Values.hostNetwork }}\n  containers:\n    - name: a\n      image: agent:1.0\n",
	} {
		p := filepath.Join(dir, "agent", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := rules.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	c := (&engine.Engine{Registry: reg}).NewCollector()
	res := render.Load([]string{filepath.Join(dir, "agent")}, render.Options{
		Manifest: manifest.Options{BaseDir: dir, Visit: c.Visit},
		Helm:     render.HelmOptions{Set: []string{"hostNetwork=maybe"}},
	})
	if len(res.Errors) > 0 || len(res.Objects) != 1 {
		t.Fatalf("objects %d errors %v", len(res.Objects), res.Errors)
	}
	_, errs := c.Finish(res.Objects)
	if len(errs) != 1 {
		t.Fatalf("errors %v", errs)
	}
	e := errs[0]
	if e.File != "agent/templates/pod.yaml" || e.Line != 6 || !strings.Contains(e.Message, "spec.hostNetwork") || !strings.Contains(e.Message, "--set hostNetwork=maybe") {
		t.Errorf("error %s:%d: %s", e.File, e.Line, e.Message)
	}
}

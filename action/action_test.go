package action

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// actionYAML is the part of action.yml the runtime must agree with.
type actionYAML struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID   string            `yaml:"id"`
			Uses string            `yaml:"uses"`
			Env  map[string]string `yaml:"env"`
			Run  string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func readActionYAML(t *testing.T) *actionYAML {
	b, err := os.ReadFile(filepath.Join("..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionYAML
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return &a
}

// Composite actions get no INPUT_* variables on GitHub: action.yml maps
// each input to the run step's env, and the runtime reads exactly those.
func TestInputsAndOutputsMatchActionYAML(t *testing.T) {
	a := readActionYAML(t)
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q", a.Runs.Using)
	}
	var run map[string]string
	for _, s := range a.Runs.Steps {
		if s.Uses != "" {
			t.Errorf("step %q uses an action (%s): the composite must be shell only", s.ID, s.Uses)
		}
		if s.ID == "run" {
			run = s.Env
		}
	}
	declared := map[string]bool{}
	for name := range a.Inputs {
		declared[name] = true
		env := "INPUT_" + strings.ToUpper(name)
		if want := "${{ inputs." + name + " }}"; run[env] != want {
			t.Errorf("input %s: run step env %s = %q, want %q", name, env, run[env], want)
		}
	}
	for env := range run {
		if name, ok := strings.CutPrefix(env, "INPUT_"); ok && !declared[strings.ToLower(name)] {
			t.Errorf("run step maps %s, which is not a declared input", env)
		}
	}
	defaults := InputDefaults()
	for _, name := range InputNames() {
		if !declared[name] {
			t.Errorf("the runtime reads input %q, which action.yml does not declare", name)
			continue
		}
		if d := a.Inputs[name].Default; d != defaults[name] && name != "github-token" {
			t.Errorf("input %s: default %q in action.yml, %q in the runtime", name, d, defaults[name])
		}
	}
	for name := range declared {
		if !slices.Contains(InputNames(), name) {
			t.Errorf("action.yml declares input %q, which the runtime never reads", name)
		}
	}
	var outs []string
	for name, o := range a.Outputs {
		outs = append(outs, name)
		if want := "${{ steps.run.outputs." + name + " }}"; o.Value != want {
			t.Errorf("output %s = %q, want %q", name, o.Value, want)
		}
	}
	slices.Sort(outs)
	want := slices.Sorted(slices.Values(OutputNames()))
	if !slices.Equal(outs, want) {
		t.Errorf("action.yml outputs %v, runtime sets %v", outs, want)
	}
}

func TestReadInputs(t *testing.T) {
	env := map[string]string{
		"INPUT_VALUES": "a.yaml, b.yaml\nc.yaml", "INPUT_SET": "image.tag=1,replicas=2\nx=y",
		"INPUT_MAX-COMMENTS": "3", "INPUT_REVIEW": "false", "INPUT_FILTER-MODE": "diff_context",
	}
	gha := githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }))
	in, err := ReadInputs(gha)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.Values, []string{"a.yaml", "b.yaml", "c.yaml"}) || !slices.Equal(in.Set, []string{"image.tag=1,replicas=2", "x=y"}) {
		t.Errorf("values %q, set %q", in.Values, in.Set)
	}
	if in.MaxComments != 3 || in.Review || in.FilterMode != FilterDiffContext || in.Path != "." || in.FailOn != "high" || !in.Annotations {
		t.Errorf("inputs %+v", in)
	}
	args := strings.Join(in.LintArgs(), " ")
	if want := "--fail-on high --min-severity low --values a.yaml --values b.yaml --values c.yaml --set image.tag=1,replicas=2 --set x=y -- ."; args != want {
		t.Errorf("lint args %q, want %q", args, want)
	}
	env["INPUT_ANNOTATIONS"], env["INPUT_MAX-COMMENTS"] = "yes", "-1"
	if _, err := ReadInputs(gha); err == nil || !strings.Contains(err.Error(), "annotations") || !strings.Contains(err.Error(), "max-comments") {
		t.Errorf("bad inputs: %v", err)
	}
}

// exclude splits like values (gitignore patterns hold no commas);
// tuf-mirror, tuf-root and no-gitignore become lint's flags; the TUF
// cache follows the runner unless the workflow moved it.
func TestReadInputsExcludeAndTUF(t *testing.T) {
	env := map[string]string{
		"INPUT_EXCLUDE": "examples/, **/profiles/*.yaml\n\nmake/\n", "INPUT_NO-GITIGNORE": "true",
		"INPUT_TUF-MIRROR": "https://tuf.internal.example", "INPUT_TUF-ROOT": "sigstore/root.json",
		"RUNNER_TOOL_CACHE": "/opt/hostedtoolcache", "RUNNER_TEMP": "/home/runner/work/_temp",
	}
	gha := githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }))
	in, err := ReadInputs(gha)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(in.LintArgs(), " ")
	want := "--fail-on high --min-severity low --tuf-mirror https://tuf.internal.example --tuf-root sigstore/root.json --tuf-cache /opt/hostedtoolcache/kubectl-secure/tuf --exclude examples/ --exclude **/profiles/*.yaml --exclude make/ --no-gitignore -- ."
	if args != want {
		t.Errorf("lint args\n got %q\nwant %q", args, want)
	}
	for _, c := range []struct{ unset, set, want string }{
		{"RUNNER_TOOL_CACHE", "", "/home/runner/work/_temp/kubectl-secure/tuf"},
		{"RUNNER_TEMP", "", ""},
		{"", "/cache/tuf", "/cache/tuf"},
	} {
		delete(env, c.unset)
		env["KUBECTL_SECURE_TUF_CACHE"] = c.set
		if in, _ := ReadInputs(gha); in.TUFCache != c.want {
			t.Errorf("without %s: TUF cache %q, want %q", c.unset, in.TUFCache, c.want)
		}
	}
	env["INPUT_NO-GITIGNORE"] = "on"
	if _, err := ReadInputs(gha); err == nil || !strings.Contains(err.Error(), "no-gitignore") {
		t.Errorf("no-gitignore: on: %v", err)
	}
}

func TestParsePatch(t *testing.T) {
	patch := "@@ -1,4 +1,5 @@\n a\n-b\n+B\n+B2\n c\n d\n@@ -10 +11,2 @@ func\n-x\n+y\n+z\n\\ No newline at end of file"
	fd, err := ParsePatch("f.yaml", patch)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(m map[int]bool) []int {
		return slices.Sorted(func(yield func(int) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		})
	}
	if got := keys(fd.Added); !slices.Equal(got, []int{2, 3, 11, 12}) {
		t.Errorf("added %v", got)
	}
	if got := keys(fd.Right); !slices.Equal(got, []int{1, 2, 3, 4, 5, 11, 12}) {
		t.Errorf("right %v", got)
	}
	d := Diff{"f.yaml": fd}
	for _, c := range []struct {
		mode FilterMode
		path string
		line int
		keep bool
	}{
		{FilterAdded, "f.yaml", 2, true}, {FilterAdded, "f.yaml", 4, false},
		{FilterDiffContext, "f.yaml", 4, true}, {FilterDiffContext, "f.yaml", 8, false},
		{FilterFile, "f.yaml", 8, true}, {FilterFile, "g.yaml", 1, false},
		{FilterNone, "g.yaml", 1, true},
	} {
		if got := d.Keep(c.mode, c.path, c.line); got != c.keep {
			t.Errorf("Keep(%s, %s:%d) = %v", c.mode, c.path, c.line, got)
		}
	}
	if _, err := ParsePatch("bad.yaml", "@@ nonsense @@\n+x"); err == nil {
		t.Errorf("a broken hunk header was accepted")
	}
}

func manyFindings(n int) *finding.Result {
	res := &finding.Result{ToolName: "kubectl-secure"}
	for i := range n {
		sev := finding.Severity(1 + i%4)
		res.Findings = append(res.Findings, finding.Finding{
			RuleID: "rule-" + sev.String(), Severity: sev, Message: fmt.Sprintf("finding %d %s", i, strings.Repeat("x", i%97)),
			Location:    finding.Location{File: fmt.Sprintf("f%d.yaml", i%50), Line: i + 1, Column: 1},
			Fingerprint: fmt.Sprintf("%032x", i),
		})
	}
	return res
}

func TestSARIFWithinLimits(t *testing.T) {
	res := manyFindings(2000)
	path := filepath.Join(t.TempDir(), "out.sarif")
	note, err := WriteSARIF(path, res, SARIFLimits{Results: 500, Gzipped: 12 << 10})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(b)
	zw.Close()
	if zb.Len() > 12<<10 {
		t.Errorf("gzipped %d bytes over the limit", zb.Len())
	}
	var doc struct {
		Runs []struct {
			Results []struct {
				Properties struct{ Severity string } `json:"properties"`
			} `json:"results"`
			Invocations []struct {
				Notes []struct{ Message struct{ Text string } } `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	results := doc.Runs[0].Results
	if len(results) == 0 || len(results) > 500 || note == "" {
		t.Fatalf("%d results, note %q", len(results), note)
	}
	// The most severe are kept: 500 critical exist, so all kept are.
	for _, r := range results {
		if r.Properties.Severity != "critical" {
			t.Fatalf("kept a %s finding while critical ones were cut", r.Properties.Severity)
		}
	}
	notes := doc.Runs[0].Invocations[0].Notes
	if len(notes) != 1 || !regexp.MustCompile(`holds the \d+ most severe of 2000`).MatchString(notes[0].Message.Text) {
		t.Errorf("notes %+v", notes)
	}
	// Within the limits, nothing is cut and nothing noted.
	if note, err := WriteSARIF(path, manyFindings(10), SARIFLimits{Results: SARIFMaxResults, Gzipped: SARIFMaxGzipped}); err != nil || note != "" {
		t.Errorf("small run: note %q, err %v", note, err)
	}
}

func TestAnnotateWithinGitHubLimits(t *testing.T) {
	var out bytes.Buffer
	gha := githubactions.New(githubactions.WithWriter(&out))
	res := manyFindings(100)
	errs := []finding.InputError{{File: "broken.yaml", Line: 3, Message: "bad"}}
	written, left := Annotate(gha, res.Findings, errs, nil)
	counts := map[string]int{}
	for _, l := range strings.Split(out.String(), "\n") {
		if m := regexp.MustCompile(`^::(error|warning|notice) `).FindStringSubmatch(l); m != nil {
			counts[m[1]]++
		}
	}
	if counts["error"] != 10 || counts["warning"] != 10 || counts["notice"] != 10 || written != 30 || left != 71 {
		t.Errorf("counts %v, written %d, left %d", counts, written, left)
	}
	if !strings.Contains(out.String(), "::error file=broken.yaml,line=3,title=kubectl-secure%3A input error::bad") {
		t.Errorf("input error not annotated first:\n%.300s", out.String())
	}
	// The 9 finding errors are critical (most severe first), not high.
	if strings.Count(out.String(), "(critical%2C rule-critical)") != 9 || strings.Contains(out.String(), "(high%2C rule-high)") {
		t.Errorf("not most severe first")
	}
}

func TestValuesKeyLocations(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "chart"), 0o755)
	os.WriteFile(filepath.Join(dir, "chart", "values.yaml"), []byte("a: 1\nsecurityContext:\n  runAsUser: 0\n  privileged: true\nlist:\n  - x: 1\n  - y: 2\n"), 0o644)
	fs := []finding.Finding{
		{Message: "runs privileged (securityContext.privileged from " + filepath.Join(dir, "chart", "values.yaml") + ")", Origin: "helm chart chart", Location: finding.Location{File: "chart/templates/d.yaml", Line: 9}},
		{Message: "m (list[1].y from chart/values.yaml)", Origin: "helm chart chart", Location: finding.Location{File: "chart/templates/d.yaml", Line: 9}},
		{Message: "m (templates/d.yaml line 3 of packaged chart c.tgz; list[0].x from chart/values.yaml)", Origin: "helm chart chart", Location: finding.Location{File: "chart/templates/d.yaml", Line: 9}},
		{Message: "m (nope from chart/values.yaml)", Origin: "helm chart chart", Location: finding.Location{File: "chart/templates/d.yaml", Line: 9}},
		// The key a field is written under is the line a change touched.
		{Message: "m (written under the condition a (set in chart/values.yaml))", Origin: "helm chart chart", Location: finding.Location{File: "chart/templates/d.yaml", Line: 9}},
		// A key set with --set has no line in the repository.
		{Message: "m (a from --set)", Origin: "helm chart chart", Location: finding.Location{File: "chart/templates/d.yaml", Line: 9}},
	}
	t.Chdir(dir)
	got := reviewLocations(fs, dir)
	want := []string{"chart/values.yaml:4", "chart/values.yaml:7", "chart/values.yaml:6", "chart/templates/d.yaml:9", "chart/values.yaml:1", "chart/templates/d.yaml:9"}
	for i, f := range got {
		if s := fmt.Sprintf("%s:%d", f.Location.File, f.Location.Line); s != want[i] {
			t.Errorf("finding %d at %s, want %s", i, s, want[i])
		}
	}
	if fs[0].Location.File != "chart/templates/d.yaml" {
		t.Errorf("the input findings were changed")
	}
}

// The job summary stays under GitHub's 1 MiB however many findings, and
// says what it left out.
func TestSummaryUnderOneMiB(t *testing.T) {
	res := manyFindings(60000)
	res.Summary.Errors = make([]finding.InputError, 3000)
	for i := range res.Summary.Errors {
		res.Summary.Errors[i] = finding.InputError{File: fmt.Sprintf("bad%d.yaml", i), Line: 1, Message: strings.Repeat("e", 200)}
	}
	s := Summary(SummaryInput{Result: res, Kept: res.Findings, ServerURL: "https://github.com", Repo: "a/b", SHA: "abc", VerifyImages: true})
	if len(s) >= 1<<20 {
		t.Errorf("summary is %d bytes", len(s))
	}
	if !strings.Contains(s, "… and ") || !regexp.MustCompile(`\]\(https://github\.com/a/b/blob/abc/f\d+\.yaml#L\d+\)`).MatchString(s) {
		t.Errorf("summary does not say what it left out or lacks links")
	}
}

func TestUnder(t *testing.T) {
	for _, c := range []struct {
		dir, p string
		want   bool
	}{{".", "a/b.yaml", true}, {"deploy", "deploy/x.yaml", true}, {"deploy", "deployment/x.yaml", false}, {"deploy/x.yaml", "deploy/x.yaml", true}, {"deploy", "chart/values.yaml", false}} {
		if got := under(c.dir)(c.p); got != c.want {
			t.Errorf("under(%q)(%q) = %v", c.dir, c.p, got)
		}
	}
}

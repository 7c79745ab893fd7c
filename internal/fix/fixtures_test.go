package fix_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/fix"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
	"github.com/kubectl-secure/kubectl-secure/internal/render"
)

// lint runs the real pipeline over dir (rendering its kustomizations and
// charts) with paths displayed relative to dir, as lint run there does.
func lint(t *testing.T, dir string) []finding.Finding {
	t.Helper()
	reg, err := pipeline.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.NewPolicy(reg, nil, pipeline.PolicyInput{FailOn: "none"})
	if err != nil {
		t.Fatal(err)
	}
	src := pipeline.SourceFunc(func(_ context.Context, visit func(*manifest.Object)) *manifest.Result {
		return render.Load([]string{dir}, render.Options{Manifest: manifest.Options{BaseDir: dir, MaxFileSize: 1 << 20, Visit: visit}})
	})
	out, err := pipeline.Run(context.Background(), src, p, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range out.Result.Summary.Errors {
		t.Errorf("input error: %v", e)
	}
	return out.Result.Findings
}

// copyDir copies a fixture to a temporary directory the test may rewrite.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

var wantFix = regexp.MustCompile(`# want-fix: ([a-z0-9,-]+)`)

// markers reads the "# want-fix: rule,…" comments of the fixture: the
// lines whose rewrite must fix those rules' findings (file:line → rules).
func markers(t *testing.T, dir string) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		add := func(file, line, rules string) {
			set := map[string]bool{}
			for _, r := range strings.Split(rules, ",") {
				set[r] = true
			}
			out[file+":"+line] = set
		}
		if json, ok := strings.CutSuffix(rel, ".want-fix"); ok {
			// Markers of a JSON file, which has no comments: "line rules".
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(line, "#") {
					add(json, f[0], f[1])
				}
			}
			return nil
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := wantFix.FindStringSubmatch(line); m != nil {
				add(rel, strconv.Itoa(i+1), m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// For every fixture (plain manifests, a kustomize overlay's patches, a Helm
// chart's values): every finding on a "# want-fix" line is fixed by its
// edit, no other finding gets one, every fixable rule appears in every
// fixture, and after applying the edits a second lint shows each fixed
// finding gone and nothing new, with only the edited lines changed.
func TestFixtures(t *testing.T) {
	for _, name := range []string{"plain", "kustomize", "helm"} {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, filepath.Join("testdata", name))
			// Renders may read only below the working directory (or the
			// git work tree): lint from inside the copy, as users do.
			t.Chdir(dir)
			want := markers(t, dir)
			read := func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p))) }
			before := lint(t, dir)

			var edits []fix.Edit
			fixed := map[string]bool{} // fingerprints
			covered := map[string]bool{}
			for _, f := range before {
				e, ok := fix.For(f, read)
				if !ok {
					continue
				}
				at := e.File + ":" + strconv.Itoa(e.Line)
				if !want[at][f.RuleID] {
					t.Errorf("%s (%s at %s) got an edit at %s, which is not marked for it: %s", f.RuleID, f.Path, f.Location, at, e)
					continue
				}
				if e.RuleID != f.RuleID || e.Fingerprint != f.Fingerprint {
					t.Errorf("edit %s does not name its finding", e)
				}
				edits = append(edits, e)
				fixed[f.Fingerprint] = true
				covered[at+" "+f.RuleID] = true
			}
			rulesSeen := map[string]bool{}
			for at, rules := range want {
				for r := range rules {
					rulesSeen[r] = true
					if !covered[at+" "+r] {
						t.Errorf("%s is marked to fix %s, but no finding got an edit there", at, r)
					}
				}
			}
			for _, row := range fix.Rules() {
				if !rulesSeen[row.Rule] {
					t.Errorf("fixable rule %s has no case in testdata/%s", row.Rule, name)
				}
			}

			orig := snapshot(t, dir)
			applied, err := fix.Apply(edits, dir)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			changed := map[string]bool{}
			for _, e := range applied {
				changed[e.File+":"+strconv.Itoa(e.Line)] = true
			}
			for at := range want {
				if !changed[at] {
					t.Errorf("%s was not rewritten", at)
				}
			}
			now := snapshot(t, dir)
			for file, lines := range orig {
				for i, l := range lines {
					at := file + ":" + strconv.Itoa(i+1)
					if !changed[at] && now[file][i] != l {
						t.Errorf("%s changed though no edit targets it: %q → %q", at, l, now[file][i])
					}
					if changed[at] && !strings.HasSuffix(file, ".json") && !strings.Contains(now[file][i], "# want-fix:") {
						t.Errorf("%s lost its comment: %q", at, now[file][i])
					}
				}
			}

			had := map[string]bool{}
			for _, f := range before {
				had[f.Fingerprint] = true
			}
			for _, f := range lint(t, dir) {
				if fixed[f.Fingerprint] {
					t.Errorf("%s at %s is still reported after its fix", f.RuleID, f.Location)
				}
				if !had[f.Fingerprint] {
					t.Errorf("the fixes introduced %s at %s: %s", f.RuleID, f.Location, f.Message)
				}
			}
			if t.Failed() {
				files := make([]string, 0, len(now))
				for f := range now {
					files = append(files, f)
				}
				sort.Strings(files)
				for _, f := range files {
					t.Logf("%s after the fixes:\n%s", f, strings.Join(now[f], "\n"))
				}
			}
		})
	}
}

// snapshot reads every file of dir as lines.
func snapshot(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = strings.Split(string(b), "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

package render

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

func oneError(t *testing.T, res *manifest.Result) finding.InputError {
	t.Helper()
	if len(res.Errors) != 1 {
		t.Fatalf("errors = %v", res.Errors)
	}
	return res.Errors[0]
}

// An exec function plugin is refused, and its script never runs.
func TestExecPluginRefused(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	t.Setenv("PWNED_MARKER", marker)
	res := load(t, Options{}, "unsafe/exec-plugin")
	e := oneError(t, res)
	if e.File != "unsafe/exec-plugin/kustomization.yaml" || e.Line != 4 ||
		!strings.Contains(e.Message, "rendering kustomization unsafe/exec-plugin") || !strings.Contains(e.Message, "disabled") {
		t.Errorf("error = %v", e)
	}
	if len(res.Objects) != 0 {
		t.Errorf("%d objects", len(res.Objects))
	}
	// krusty itself, as configured, refuses it too (defence in depth: the
	// precheck above is not the only guard).
	dir, _ := filepath.Abs(filepath.Join(testdataDir(t), "unsafe", "exec-plugin"))
	_, err := krusty.MakeKustomizer(kustomizerOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err == nil || !strings.Contains(err.Error(), "external plugins disabled") {
		t.Errorf("krusty ran the exec plugin config: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the exec plugin ran")
	}
}

// A legacy (Go or exec) generator plugin is refused.
func TestLegacyPluginRefused(t *testing.T) {
	e := oneError(t, load(t, Options{}, "unsafe/legacy-plugin"))
	if !strings.Contains(e.Message, "SecretsFromDatabase is disabled") {
		t.Errorf("error = %v", e)
	}
	dir, _ := filepath.Abs(filepath.Join(testdataDir(t), "unsafe", "legacy-plugin"))
	if _, err := krusty.MakeKustomizer(kustomizerOptions()).Run(filesys.MakeFsOnDisk(), dir); err == nil {
		t.Error("krusty loaded a legacy plugin")
	}
}

// A remote base is refused, with a message naming --allow-remote, before
// anything is fetched.
func TestRemoteBaseRefused(t *testing.T) {
	e := oneError(t, load(t, Options{}, "unsafe/remote-base"))
	if e.File != "unsafe/remote-base/kustomization.yaml" || e.Line != 3 ||
		!strings.Contains(e.Message, "remote resource") || !strings.Contains(e.Message, "--allow-remote") {
		t.Errorf("error = %v", e)
	}
}

func TestLooksRemote(t *testing.T) {
	for s, want := range map[string]bool{
		"https://github.com/org/repo//base?ref=v1": true,
		"github.com/org/repo/base?ref=main":        true,
		"git@github.com:org/repo.git//base":        true,
		"git::https://example.com/repo.git":        true,
		"ssh://git@example.com/repo.git":           true,
		"gitlab.com/org/repo//deploy":              true,
		"../../base":                               false,
		"deployment.yaml":                          false,
		"config.d/app.yaml":                        false,
		"./overlays/prod":                          false,
	} {
		if got := looksRemote(s); got != want {
			t.Errorf("looksRemote(%q) = %v", s, got)
		}
	}
}

// A local path that does not exist is refused too: kustomize would try it
// as a remote URL.
func TestMissingResourceRefused(t *testing.T) {
	tmp := t.TempDir()
	write(t, filepath.Join(tmp, "k", "kustomization.yaml"), "resources:\n  - nothere\n")
	res := Load([]string{filepath.Join(tmp, "k")}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	e := oneError(t, res)
	if e.Line != 2 || !strings.Contains(e.Message, `resource "nothere" not found`) {
		t.Errorf("error = %v", e)
	}
}

func TestHelmChartsGeneratorRefused(t *testing.T) {
	e := oneError(t, load(t, Options{}, "unsafe/helm-charts"))
	if !strings.Contains(e.Message, "helmCharts runs the helm binary") {
		t.Errorf("error = %v", e)
	}
}

// A kustomization cannot read a base outside its repository.
func TestKustomizeSandbox(t *testing.T) {
	tmp := t.TempDir()
	write(t, filepath.Join(tmp, "outside", "base", "kustomization.yaml"), "resources:\n  - pod.yaml\n")
	write(t, filepath.Join(tmp, "outside", "base", "pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n")
	write(t, filepath.Join(tmp, "repo", ".git", "HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(tmp, "repo", "overlay", "kustomization.yaml"), "resources:\n  - ../../outside/base\n")
	res := Load([]string{filepath.Join(tmp, "repo", "overlay")}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	e := oneError(t, res)
	if !strings.Contains(e.Message, "outside") || !strings.Contains(e.Message, "may not read") {
		t.Errorf("error = %v", e)
	}
	if len(res.Objects) != 0 {
		t.Errorf("read %d objects from outside the repository", len(res.Objects))
	}
}

// Without a git work tree, a directory named on the command line is the
// scope, even outside the working directory: its overlays read their
// bases across it (an extracted archive, `lint ../repo`), and nothing
// above it.
func TestKustomizeSandboxIsTheNamedDirectory(t *testing.T) {
	tmp := t.TempDir()
	wd := filepath.Join(tmp, "elsewhere")
	write(t, filepath.Join(wd, "x"), "")
	t.Chdir(wd)
	write(t, filepath.Join(tmp, "above", "pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: above\n")
	repo := filepath.Join(tmp, "above", "repo")
	write(t, filepath.Join(repo, "base", "kustomization.yaml"), "resources:\n  - pod.yaml\n")
	write(t, filepath.Join(repo, "base", "pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n")
	write(t, filepath.Join(repo, "overlays", "prod", "kustomization.yaml"), "namePrefix: prod-\nresources:\n  - ../../base\n")
	write(t, filepath.Join(repo, "overlays", "escape", "kustomization.yaml"), "resources:\n  - ../../../pod.yaml\n")
	for _, arg := range []string{repo, filepath.Join(repo, "overlays", "..")} {
		res := Load([]string{arg}, Options{})
		var names []string
		for _, o := range res.Objects {
			names = append(names, o.Name)
		}
		if fmt.Sprint(names) != "[prod-p]" {
			t.Errorf("lint %s: objects %v, want [prod-p]", arg, names)
		}
		if e := oneError(t, res); !strings.Contains(e.Message, "escape") || !strings.Contains(e.Message, "may not read") {
			t.Errorf("lint %s: error %v", arg, e)
		}
	}
	// Naming only the overlay puts only the overlay in scope.
	res := Load([]string{filepath.Join(repo, "overlays", "prod")}, Options{})
	if len(res.Objects) != 0 || len(res.Errors) != 1 {
		t.Errorf("overlay alone: objects %d errors %v", len(res.Objects), res.Errors)
	}
}

// A symlink cannot lead a kustomization out of the repository either.
func TestKustomizeSymlinkSandbox(t *testing.T) {
	tmp := t.TempDir()
	write(t, filepath.Join(tmp, "secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n")
	write(t, filepath.Join(tmp, "repo", ".git", "HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(tmp, "repo", "k", "kustomization.yaml"), "resources:\n  - link.yaml\n")
	if err := os.Symlink(filepath.Join(tmp, "secret.yaml"), filepath.Join(tmp, "repo", "k", "link.yaml")); err != nil {
		t.Skip("no symlinks:", err)
	}
	res := Load([]string{filepath.Join(tmp, "repo", "k")}, Options{Manifest: manifest.Options{BaseDir: tmp}})
	if len(res.Objects) != 0 || len(res.Errors) != 1 {
		t.Fatalf("objects %d errors %v", len(res.Objects), res.Errors)
	}
}

// The rendering file system is read-only.
func TestSandboxFSReadOnly(t *testing.T) {
	fs := &sandboxFS{disk: filesys.MakeFsOnDisk()}
	if err := fs.WriteFile(filepath.Join(t.TempDir(), "x"), []byte("x")); err == nil {
		t.Error("WriteFile succeeded")
	}
	if err := fs.MkdirAll(filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("MkdirAll succeeded")
	}
	if _, err := fs.Create(filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("Create succeeded")
	}
	if err := fs.RemoveAll(t.TempDir()); err == nil {
		t.Error("RemoveAll succeeded")
	}
}

func TestWithOriginAnnotations(t *testing.T) {
	for in, want := range map[string]string{
		"resources:\n- a.yaml\n":                                    "buildMetadata:\n    - originAnnotations\n",
		"buildMetadata: [managedByLabel]\n":                         "buildMetadata: [managedByLabel, originAnnotations]\n",
		"buildMetadata: [originAnnotations]\nresources: [a.yaml]\n": "buildMetadata: [originAnnotations]\nresources: [a.yaml]\n",
	} {
		out, err := withOriginAnnotations([]byte(in))
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("%q -> %q (%v), want it to contain %q", in, out, err, want)
		}
	}
}

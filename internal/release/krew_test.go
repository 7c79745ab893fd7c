package release

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-secure/kubectl-secure/internal/toolstest"
)

// krewPlugin is the part of a krew manifest the tests look at.
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Caveats          string `json:"caveats"`
		Platforms        []struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			URI    string `json:"uri"`
			SHA256 string `json:"sha256"`
			Bin    string `json:"bin"`
			Files  []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"files"`
		} `json:"platforms"`
	} `json:"spec"`
}

const releaseDownload = "https://github.com/kubectl-secure/kubectl-secure/releases/download/"

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func fakeArtifacts(tag string, platforms []Platform) []Artifact {
	var arts []Artifact
	for _, p := range platforms {
		name := ArchiveName(tag, p)
		arts = append(arts, Artifact{Platform: p, Name: name, SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(name)))})
	}
	return arts
}

// checkManifest checks a rendered manifest against the archives it lists.
func checkManifest(t *testing.T, raw []byte, tag string, arts []Artifact) {
	t.Helper()
	var m krewPlugin
	if err := yaml.UnmarshalStrict(raw, &m); err != nil {
		t.Fatalf("rendered manifest: %v\n%s", err, raw)
	}
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "secure" {
		t.Errorf("header: %s %s %s", m.APIVersion, m.Kind, m.Metadata.Name)
	}
	if m.Spec.Version != tag {
		t.Errorf("version %q, want %q", m.Spec.Version, tag)
	}
	if n := len(m.Spec.ShortDescription); n == 0 || n >= 50 {
		t.Errorf("shortDescription has %d characters, krew-index wants fewer than 50", n)
	}
	if !strings.Contains(m.Spec.Caveats, "kubectl_complete-secure") {
		t.Errorf("caveats do not say how to install completion:\n%s", m.Spec.Caveats)
	}
	if len(m.Spec.Platforms) != len(arts) {
		t.Fatalf("%d platforms, want %d", len(m.Spec.Platforms), len(arts))
	}
	for i, a := range arts {
		p := m.Spec.Platforms[i]
		if got := p.Selector.MatchLabels; got["os"] != a.Platform.OS || got["arch"] != a.Platform.Arch || len(got) != 2 {
			t.Errorf("platform %d selects %v, want %s", i, got, a.Platform)
		}
		if want := releaseDownload + tag + "/" + a.Name; p.URI != want {
			t.Errorf("%s: uri %s, want %s", a.Platform, p.URI, want)
		}
		if p.SHA256 != a.SHA256 {
			t.Errorf("%s: sha256 %s, want %s", a.Platform, p.SHA256, a.SHA256)
		}
		if p.Bin != binaryName(a.Platform) {
			t.Errorf("%s: bin %s", a.Platform, p.Bin)
		}
		from := map[string]bool{}
		for _, f := range p.Files {
			from[f.From] = f.To == "."
		}
		if !from[binaryName(a.Platform)] || !from[licenseFile] {
			t.Errorf("%s: files %+v do not extract the binary and LICENSE", a.Platform, p.Files)
		}
	}
}

func TestRenderKrew(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join(repoRoot(t), "krew", ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	const tag = "v1.2.3"
	arts := fakeArtifacts(tag, Platforms)
	out, err := RenderKrew(tmpl, tag, arts, false)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("{{")) || bytes.Contains(out, []byte("krew-release-bot")) {
		t.Errorf("template syntax or its comment leaked into the manifest:\n%s", out)
	}
	checkManifest(t, out, tag, arts)

	// A partial build lists only what it built.
	host := fakeArtifacts(tag, []Platform{Platforms[1]})
	out, err = RenderKrew(tmpl, tag, host, true)
	if err != nil {
		t.Fatal(err)
	}
	checkManifest(t, out, tag, host)

	// A full render needs every archive, and every archive needs an entry.
	if _, err := RenderKrew(tmpl, tag, arts[1:], false); err == nil || !strings.Contains(err.Error(), arts[0].Name) {
		t.Errorf("missing archive: err = %v", err)
	}
	extra := append(fakeArtifacts(tag, Platforms), fakeArtifacts(tag, []Platform{{"freebsd", "amd64"}})...)
	if _, err := RenderKrew(tmpl, tag, extra, false); err == nil || !strings.Contains(err.Error(), "freebsd") {
		t.Errorf("archive without entry: err = %v", err)
	}
}

// krewSandbox runs krew as `kubectl krew` against a throwaway KREW_ROOT
// and HOME, with a PATH of krew's bin directory, ~/.local/bin,
// kubectl-krew, kubectl and the system directories, so that plugin
// discovery finds no kubectl-secure but krew's.
type krewSandbox struct {
	root string
	env  []string
}

func newKrewSandbox(t *testing.T) *krewSandbox {
	t.Helper()
	krew := toolstest.Path(t, "KUBECTL_SECURE_KREW", "krew")
	kubectl := toolstest.Path(t, "KUBECTL_SECURE_KUBECTL", "kubectl", "kubectl")
	dir := t.TempDir()
	root := filepath.Join(dir, "krew-root")
	tools := filepath.Join(dir, "tools")
	if err := os.MkdirAll(tools, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(krew, filepath.Join(tools, "kubectl-krew")); err != nil {
		t.Fatal(err)
	}
	// krew refuses to run without a local index; `krew update` would clone
	// one from GitHub. An empty local repository is enough for installing
	// from a manifest, and keeps the test offline.
	index := filepath.Join(root, "index", "default")
	if err := os.MkdirAll(index, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "init", "-q", index).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	// ~/.local/bin is where the caveats tell users to put the completion
	// script.
	local := filepath.Join(dir, ".local", "bin")
	if err := os.MkdirAll(local, 0o755); err != nil {
		t.Fatal(err)
	}
	path := strings.Join([]string{filepath.Join(root, "bin"), local, tools, filepath.Dir(kubectl), "/usr/bin", "/bin"}, string(os.PathListSeparator))
	return &krewSandbox{root: root, env: []string{
		"PATH=" + path, "HOME=" + dir, "KREW_ROOT=" + root, "KREW_NO_UPGRADE_CHECK=1",
		"KUBECONFIG=" + filepath.Join(dir, "no-kubeconfig"), "NO_COLOR=1",
	}}
}

// kubectl runs kubectl with the sandbox's environment plus extra, and
// returns its standard output; a failure carries standard error.
func (k *krewSandbox) kubectl(t *testing.T, extra []string, args ...string) (string, error) {
	t.Helper()
	env := append(append([]string{}, k.env...), extra...)
	kubectl := "kubectl"
	for _, e := range env {
		if p, ok := strings.CutPrefix(e, "PATH="); ok {
			// Resolve kubectl in the sandbox's PATH, not the test's.
			if lp, err := lookPathIn("kubectl", p); err == nil {
				kubectl = lp
			}
		}
	}
	cmd := exec.Command(kubectl, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%w\n%s", err, errOut.String())
	}
	return out.String(), nil
}

func lookPathIn(name, path string) (string, error) {
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// The manifest make dist writes installs on every platform it names, from
// the archive this package packs for that platform (krew installs for
// another platform when told with KREW_OS/KREW_ARCH), and krew's own
// validator accepts it.
func TestKrewInstallsEveryPlatform(t *testing.T) {
	validate := toolstest.Path(t, "KUBECTL_SECURE_VALIDATE_KREW_MANIFEST", "krew")
	k := newKrewSandbox(t)
	o := Options{Root: repoRoot(t), Out: t.TempDir(), Version: "v1.2.3", Commit: "0123456789ab", Date: "2026-01-02T03:04:05Z"}
	stub := filepath.Join(t.TempDir(), "stub")
	if err := os.WriteFile(stub, []byte("not a real binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	var arts []Artifact
	for _, p := range Platforms {
		a, err := o.Pack(p, stub)
		if err != nil {
			t.Fatal(err)
		}
		arts = append(arts, a)
	}
	if err := o.WriteIndex(arts); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(o.Out, ManifestFile)
	raw, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	checkManifest(t, raw, o.Version, arts)
	// -skip-install: its install step downloads each uri; the installs
	// below do the same from the local archives.
	if out, err := exec.Command(validate, "-manifest", manifest, "-skip-install").CombinedOutput(); err != nil {
		t.Fatalf("validate-krew-manifest: %v\n%s", err, out)
	}

	store := filepath.Join(k.root, "store", "secure", o.Version)
	for _, a := range arts {
		t.Run(a.Platform.String(), func(t *testing.T) {
			env := []string{"KREW_OS=" + a.Platform.OS, "KREW_ARCH=" + a.Platform.Arch}
			if out, err := k.kubectl(t, env, "krew", "install", "--manifest="+manifest, "--archive="+filepath.Join(o.Out, a.Name)); err != nil {
				t.Fatalf("krew install: %v\n%s", err, out)
			}
			completion := completionFile
			if a.Platform.OS == "windows" {
				completion += ".cmd"
			}
			for _, f := range []string{binaryName(a.Platform), licenseFile, completion} {
				if _, err := os.Stat(filepath.Join(store, f)); err != nil {
					t.Errorf("not installed: %v", err)
				}
			}
			if out, err := k.kubectl(t, env, "krew", "uninstall", "secure"); err != nil {
				t.Fatalf("krew uninstall: %v\n%s", err, out)
			}
			if _, err := os.Stat(store); !os.IsNotExist(err) {
				t.Errorf("%s still there after uninstall (%v)", store, err)
			}
		})
	}
}

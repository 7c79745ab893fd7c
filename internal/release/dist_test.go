package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-secure/kubectl-secure/internal/toolstest"
)

// TestDist builds a release for this machine's platform twice, from the
// same commit into different directories, and checks that the results are
// byte-identical, that checksums.txt verifies with sha256sum, and that the
// archive installs with krew and runs as `kubectl secure` through
// kubectl's plugin discovery. `make dist` runs the same code for every
// release platform.
func TestDist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the install check drives a Unix kubectl plugin")
	}
	ctx := context.Background()
	root := repoRoot(t)
	stamp, err := FromGit(ctx, root)
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	host := Host()
	dist := func(out string) {
		t.Helper()
		o := Options{Root: root, Out: out, Version: stamp.Version, Commit: stamp.Commit, Date: stamp.Date, Platforms: []Platform{host}}
		if _, err := Dist(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	a := filepath.Join(t.TempDir(), "dist")
	b := filepath.Join(t.TempDir(), "elsewhere", "dist")
	dist(a)
	dist(b)

	archive := ArchiveName(stamp.Version, host)
	want := []string{ChecksumsFile, archive, ManifestFile}
	for _, name := range want {
		x, errA := os.ReadFile(filepath.Join(a, name))
		y, errB := os.ReadFile(filepath.Join(b, name))
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v, %v", name, errA, errB)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds of the same commit", name)
		}
	}
	if got := dirNames(t, a); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("dist holds %v, want %v", got, want)
	}

	t.Run("checksums", func(t *testing.T) {
		sha256sum, err := exec.LookPath("sha256sum")
		if err != nil {
			toolstest.Missing(t, "sha256sum (coreutils) not found")
		}
		cmd := exec.Command(sha256sum, "--check", "--strict", ChecksumsFile)
		cmd.Dir = a
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Count(string(out), ": OK\n") != 1 {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
		// And it would notice a changed archive.
		f, err := os.OpenFile(filepath.Join(b, archive), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte{0})
		f.Close()
		cmd = exec.Command(sha256sum, "--check", "--strict", ChecksumsFile)
		cmd.Dir = b
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("sha256sum -c accepts a changed archive:\n%s", out)
		}
	})

	t.Run("binary", func(t *testing.T) {
		bin := extract(t, filepath.Join(a, archive), Name)
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		for k, v := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "GOOS": host.OS, "GOARCH": host.Arch} {
			if settings[k] != v {
				t.Errorf("build setting %s = %q, want %q", k, settings[k], v)
			}
		}
		if v, ok := settings["vcs.revision"]; ok {
			t.Errorf("the binary carries Go's VCS stamp (vcs.revision=%s), which depends on the checkout's state", v)
		}
		if strings.Contains(string(mustRead(t, bin)), root) {
			t.Errorf("the binary contains the build directory %s", root)
		}
	})

	t.Run("krew", func(t *testing.T) {
		validate := toolstest.Path(t, "KUBECTL_SECURE_VALIDATE_KREW_MANIFEST", "krew")
		k := newKrewSandbox(t)
		manifest := filepath.Join(a, ManifestFile)
		if out, err := exec.Command(validate, "-manifest", manifest, "-skip-install").CombinedOutput(); err != nil {
			t.Fatalf("validate-krew-manifest: %v\n%s", err, out)
		}
		if out, err := k.kubectl(t, nil, "krew", "install", "--manifest="+manifest, "--archive="+filepath.Join(a, archive)); err != nil {
			t.Fatalf("krew install: %v\n%s", err, out)
		}
		out, err := k.kubectl(t, nil, "secure", "version")
		if err != nil || !strings.HasPrefix(out, "kubectl-secure "+stamp.Version+" (commit "+stamp.Commit+", built "+stamp.Date+", go") {
			t.Errorf("kubectl secure version: %v\n%s", err, out)
		}
		out, err = k.kubectl(t, nil, "secure", "version", "-o", "json")
		var v struct{ Version, Commit, Date, GoVersion, Platform string }
		if err != nil || json.Unmarshal([]byte(out), &v) != nil {
			t.Fatalf("kubectl secure version -o json: %v\n%s", err, out)
		}
		if v.Version != stamp.Version || v.Commit != stamp.Commit || v.Date != stamp.Date || v.Platform != host.String() || v.GoVersion != runtime.Version() {
			t.Errorf("version -o json: %+v, want %+v on %s", v, stamp, host)
		}

		// The caveat's command, run as written, makes `kubectl secure <TAB>`
		// work through kubectl's plugin completion.
		t.Run("completion", func(t *testing.T) {
			var m krewPlugin
			if err := yaml.Unmarshal(mustRead(t, manifest), &m); err != nil {
				t.Fatal(err)
			}
			var install string
			for _, l := range strings.Split(m.Spec.Caveats, "\n") {
				if l = strings.TrimSpace(l); strings.HasPrefix(l, "cp ") {
					install = l
				}
			}
			sh := exec.Command("sh", "-c", install)
			sh.Env = k.env
			if out, err := sh.CombinedOutput(); install == "" || err != nil {
				t.Fatalf("caveat command %q: %v\n%s", install, err, out)
			}
			if minor := kubectlMinor(t, k); minor < 26 {
				t.Skipf("kubectl 1.%d completes plugins from 1.26 on", minor)
			}
			out, err := k.kubectl(t, nil, "__complete", "secure", "lint", "--fail-on", "")
			if err != nil || !strings.HasPrefix(out, "low\nmedium\nhigh\ncritical\nnone\n:4\n") {
				t.Errorf("kubectl __complete secure lint --fail-on '': %v\n%s", err, out)
			}
		})

		if out, err := k.kubectl(t, nil, "krew", "uninstall", "secure"); err != nil {
			t.Fatalf("krew uninstall: %v\n%s", err, out)
		}
		if out, err := k.kubectl(t, nil, "secure", "version"); err == nil {
			t.Errorf("kubectl secure still runs after uninstall:\n%s", out)
		}
	})
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// extract writes the entry name of a .tar.gz to a temporary file.
func extract(t *testing.T, archive, name string) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(mustRead(t, archive)))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no %s: %v", archive, name, err)
		}
		if hdr.Name != name {
			continue
		}
		out := filepath.Join(t.TempDir(), name)
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// kubectlMinor is the minor version of the sandbox's kubectl client.
func kubectlMinor(t *testing.T, k *krewSandbox) int {
	t.Helper()
	out, err := k.kubectl(t, nil, "version", "--client", "-o", "json")
	var v struct {
		ClientVersion struct{ Minor string } `json:"clientVersion"`
	}
	if err != nil || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("kubectl version: %v\n%s", err, out)
	}
	minor, err := strconv.Atoi(strings.TrimRight(v.ClientVersion.Minor, "+"))
	if err != nil {
		t.Fatalf("kubectl minor version %q: %v", v.ClientVersion.Minor, err)
	}
	return minor
}

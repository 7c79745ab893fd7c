package action

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// fakeRelease serves a release like GitHub: the archive and checksums.txt
// under /{repo}/releases/download/{tag}/, and the releases API.
type fakeRelease struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	gets  []string
}

func newFakeRelease(t *testing.T, repo, tag string, archive []byte, sum string) *fakeRelease {
	name := fmt.Sprintf("kubectl-secure_%s_%s_%s.tar.gz", strings.TrimPrefix(tag, "v"), runtime.GOOS, runtime.GOARCH)
	f := &fakeRelease{files: map[string][]byte{
		"/" + repo + "/releases/download/" + tag + "/" + name:       archive,
		"/" + repo + "/releases/download/" + tag + "/checksums.txt": []byte(fmt.Sprintf("%s  kubectl-secure_%s_windows_amd64.zip\n%s  %s\n", strings.Repeat("0", 64), tag, sum, name)),
		"/api/repos/" + repo + "/releases/latest":                   []byte(fmt.Sprintf("{\n  \"url\": \"x\",\n  \"tag_name\": %q,\n  \"name\": \"r\"\n}\n", tag)),
	}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.gets = append(f.gets, r.URL.Path)
		b, ok := f.files[r.URL.Path]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(f.Close)
	return f
}

func tarGz(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func runInstall(t *testing.T, srv *fakeRelease, version, toolCache string) (bin string, out string, err error) {
	tmp := t.TempDir()
	output := filepath.Join(tmp, "output")
	os.WriteFile(output, nil, 0o644)
	cmd := exec.Command("bash", filepath.Join("install.sh"))
	cmd.Env = append(os.Environ(),
		"KS_VERSION="+version, "KS_ACTION_REPOSITORY=acme/kubectl-secure", "KS_ACTION_REF=main", "KS_TOKEN=tok",
		"GITHUB_SERVER_URL="+srv.URL, "GITHUB_API_URL="+srv.URL+"/api", "RUNNER_TEMP="+tmp,
		"RUNNER_TOOL_CACHE="+toolCache, "GITHUB_OUTPUT="+output)
	b, err := cmd.CombinedOutput()
	o, _ := os.ReadFile(output)
	if s, ok := strings.CutPrefix(strings.TrimSpace(string(o)), "bin="); ok {
		bin = s
	}
	return bin, string(b), err
}

// The install step checks release archives against checksums.txt before
// it unpacks them, keeps them in the tool cache, and finds latest.
func TestInstallVerifiesReleaseArchives(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("the install step runs on Linux and macOS runners")
	}
	archive := tarGz(t, map[string]string{"kubectl-secure": "#!/bin/sh\necho release\n", "LICENSE": "x"})
	h := sha256.Sum256(archive)
	srv := newFakeRelease(t, "acme/kubectl-secure", "v1.2.3", archive, hex.EncodeToString(h[:]))
	cache := t.TempDir()

	bin, out, err := runInstall(t, srv, "latest", cache)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	want := filepath.Join(cache, "kubectl-secure", "v1.2.3", runtime.GOARCH, "kubectl-secure")
	if bin != want {
		t.Fatalf("bin %q, want %q\n%s", bin, want, out)
	}
	if got, _ := exec.Command(bin).Output(); string(got) != "release\n" {
		t.Errorf("installed binary says %q", got)
	}
	// Cached: nothing downloaded the second time.
	srv.gets = nil
	if bin2, out, err := runInstall(t, srv, "v1.2.3", cache); err != nil || bin2 != want || len(srv.gets) != 0 {
		t.Errorf("cached install: %q %v, requests %v\n%s", bin2, err, srv.gets, out)
	}

	// A tampered archive is refused and nothing is cached.
	bad := newFakeRelease(t, "acme/kubectl-secure", "v1.2.4", tarGz(t, map[string]string{"kubectl-secure": "#!/bin/sh\necho evil\n"}), hex.EncodeToString(h[:]))
	bin, out, err = runInstall(t, bad, "v1.2.4", cache)
	if err == nil || bin != "" || !strings.Contains(out, "does not match checksums.txt") {
		t.Errorf("tampered archive: bin %q, err %v\n%s", bin, err, out)
	}
	if _, err := os.Stat(filepath.Join(cache, "kubectl-secure", "v1.2.4")); err == nil {
		t.Errorf("a tampered archive was cached")
	}
	// A version that is neither latest, source nor a tag is refused.
	if _, out, err := runInstall(t, srv, "1.2.3; rm -rf /", cache); err == nil {
		t.Errorf("odd version accepted:\n%s", out)
	}
}

package plugin

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// The values printed are the ones the build stamps (-X …/plugin.version
// etc.; internal/release checks a stamped release build end to end).
func TestVersionOutputs(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	out, _, code := run(t, "", "", nil, "version")
	want := "kubectl-secure " + version + " (commit " + commit + ", built " + date + ", " + runtime.Version() + ", " + platform + ")\n"
	if code != 0 || out != want {
		t.Errorf("version: code %d\n got %q\nwant %q", code, out, want)
	}

	out, _, code = run(t, "", "", nil, "version", "-o", "json")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("version -o json: code %d %q", code, out)
	}
	wantJSON := map[string]string{"version": version, "commit": commit, "date": date, "goVersion": runtime.Version(), "platform": platform}
	if len(v) != len(wantJSON) {
		t.Errorf("version -o json has fields %v, want %v", v, wantJSON)
	}
	for k, w := range wantJSON {
		if v[k] != w {
			t.Errorf("version -o json: %s = %q, want %q", k, v[k], w)
		}
	}

	if _, errOut, code := run(t, "", "", nil, "version", "-o", "yaml"); code != 2 || !strings.Contains(errOut, `"yaml"`) {
		t.Errorf("version -o yaml: code %d %q, want a usage error", code, errOut)
	}
	if _, _, code := run(t, "", "", nil, "version", "extra"); code != 2 {
		t.Errorf("version with an argument: code %d, want 2", code)
	}
}

package plugin

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// The values printed are the ones the build stamps (-X …/plugin.version
// etc.; internal/release checks a stamped release build end to end).
func TestVersionOutputs(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	bi, _ := debug.ReadBuildInfo()
	info := versionInfo(version, commit, date, bi)
	out, _, code := run(t, "", "", nil, "version")
	want := "kubectl-secure " + info.Version + " (commit " + info.Commit + ", built " + info.Date + ", " + runtime.Version() + ", " + platform + ")\n"
	if code != 0 || out != want {
		t.Errorf("version: code %d\n got %q\nwant %q", code, out, want)
	}

	out, _, code = run(t, "", "", nil, "version", "-o", "json")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("version -o json: code %d %q", code, out)
	}
	wantJSON := map[string]string{"version": info.Version, "commit": info.Commit, "date": info.Date, "goVersion": runtime.Version(), "platform": platform}
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

func TestVersionInfoUnstamped(t *testing.T) {
	installed := &debug.BuildInfo{Main: debug.Module{Path: "github.com/kubectl-secure/kubectl-secure", Version: "v1.2.3"}}
	checkout := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}}}
	for _, c := range []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  [3]string
	}{
		{"stamped", "v9.9.9", "abc", "2026-12-31T00:00:00Z", checkout, [3]string{"v9.9.9", "abc", "2026-12-31T00:00:00Z"}},
		{"go install", "dev", "unknown", "unknown", installed, [3]string{"v1.2.3", "unknown", "unknown"}},
		{"go build in a checkout", "dev", "unknown", "unknown", checkout, [3]string{"dev", "0123456789abcdef", "2026-01-02T03:04:05Z"}},
		{"no build info", "dev", "unknown", "unknown", nil, [3]string{"dev", "unknown", "unknown"}},
	} {
		got := versionInfo(c.version, c.commit, c.date, c.bi)
		if [3]string{got.Version, got.Commit, got.Date} != c.want {
			t.Errorf("%s: %+v, want %v", c.name, got, c.want)
		}
	}
}

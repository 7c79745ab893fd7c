package fix

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// memFS serves files from a map, as For's read.
func memFS(files map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		s, ok := files[p]
		if !ok {
			return nil, fs.ErrNotExist
		}
		return []byte(s), nil
	}
}

const pod = "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: p\r\nspec:\r\n  containers:\r\n    - name: app\r\n      securityContext:\r\n        privileged: true # on purpose\r\n"

func privileged(file string, line, col int) finding.Finding {
	return finding.Finding{
		RuleID: "privileged-container", Path: "spec.containers[0].securityContext.privileged",
		Location:    finding.Location{File: file, Line: line, Column: col},
		Fingerprint: "fp", Message: `container "app" in Pod p runs privileged`,
	}
}

func TestForCRLF(t *testing.T) {
	e, err := explain(privileged("pod.yaml", 9, 9), memFS(map[string]string{"pod.yaml": pod}))
	if err != nil {
		t.Fatal(err)
	}
	want := Edit{File: "pod.yaml", Line: 9, Old: "        privileged: true # on purpose", New: "        privileged: false # on purpose", RuleID: "privileged-container", Fingerprint: "fp"}
	if e != want {
		t.Fatalf("got %+v\nwant %+v", e, want)
	}
	if !e.At(finding.Location{File: "pod.yaml", Line: 9, Column: 1}) || e.At(finding.Location{File: "pod.yaml", Line: 8}) {
		t.Fatal("At does not compare file and line")
	}
	if got := Suggestion(e); got != want.New+"\n" {
		t.Fatalf("Suggestion = %q", got)
	}
	for _, tc := range []struct {
		e    Edit
		want string
	}{
		{e, "pod.yaml:9: privileged: true → false"},
		{Edit{File: "v.yaml", Line: 2, Old: `sc: {a: 1, "privileged": True}  # x`, New: `sc: {a: 1, "privileged": False} # x`}, `v.yaml:2: "privileged": True → False`},
		{Edit{File: "v.yaml", Line: 3, Old: `  pullPolicy: 'Never'`, New: `  pullPolicy: 'IfNotPresent'`}, `v.yaml:3: pullPolicy: 'Never' → 'IfNotPresent'`},
		{Edit{File: "v.yaml", Line: 4, Old: `  - value: true`, New: `  - value: false`}, `v.yaml:4: value: true → false`},
	} {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("String = %q, want %q", got, tc.want)
		}
	}
}

func TestForRefuses(t *testing.T) {
	files := map[string]string{
		"pod.yaml":                          pod,
		"chart/templates/d.yaml":            "spec:\n  hostNetwork: {{ .Values.net }}\n  hostPID: true\n",
		"chart/values.yaml":                 "debug: true\nhostPID: true\nnested:\n  hostNetwork:\n    - true\nnet: true\n",
		"chart/charts/sub/templates/d.yaml": "spec:\n  hostNetwork: {{ .Values.net }}\n",
		"chart/charts/sub/values.yaml":      "net: true\n",
		"other.yaml":                        "spec:\n  hostNetwork: {{ .Values.net }}\n",
	}
	read := memFS(files)
	helm := func(f finding.Finding) finding.Finding { f.Origin = "helm chart chart (release r)"; return f }
	hostNet := func(line, col int, note string) finding.Finding {
		return helm(finding.Finding{RuleID: "host-network", Path: "spec.hostNetwork", Message: "Pod p shares the host's network namespace (hostNetwork: true)" + note,
			Location: finding.Location{File: "chart/templates/d.yaml", Line: line, Column: col}})
	}
	sub := func(f finding.Finding) finding.Finding {
		f.Location.File = "chart/charts/sub/templates/d.yaml"
		return f
	}
	for _, tc := range []struct {
		name string
		f    finding.Finding
		why  string
	}{
		{"stdin", privileged(manifest.StdinName, 9, 9), "not a file on disk"},
		{"cluster", privileged("cluster://ns/pod/p", 9, 9), "not a file on disk"},
		{"missing file", privileged("gone.yaml", 9, 9), "reading gone.yaml"},
		{"past the end", privileged("pod.yaml", 90, 9), "no line 90"},
		{"no position", privileged("pod.yaml", 0, 0), "no position"},
		{"field absent", privileged("pod.yaml", 8, 7), "not privileged"},
		{"rule without fix data", finding.Finding{RuleID: "host-path-volume", Path: "spec.volumes[0].hostPath", Location: finding.Location{File: "pod.yaml", Line: 1, Column: 1}}, "no fix data"},
		{"path not in the table", finding.Finding{RuleID: "privileged-container", Path: "spec.containers[0]", Location: finding.Location{File: "pod.yaml", Line: 7, Column: 7}}, "no fix data"},
		{"template expression, no values note", hostNet(2, 3, ""), "template expression"},
		{"value from --set", hostNet(2, 3, " (net from --set)"), "not a values file on disk"},
		{"value from a packaged chart", hostNet(2, 3, " (net from values.yaml of web)"), "not a values file on disk"},
		{"values key absent", hostNet(2, 3, " (nett from chart/values.yaml)"), "has no nett"},
		{"subchart value from the parent's values", sub(hostNet(2, 3, " (net from chart/values.yaml)")), "subchart value comes from chart/values.yaml"},
		{"subchart value from a user's file", sub(hostNet(2, 3, " (net from values-prod.yaml)")), "subchart value comes from values-prod.yaml"},
		{"not a template", func() finding.Finding {
			f := hostNet(2, 3, " (net from chart/values.yaml)")
			f.Location.File = "other.yaml"
			return f
		}(), "not a chart template"},
		{"literal under a condition of another name", hostNet(3, 3, " (written under the condition debug (set in chart/values.yaml))"), "written under the condition debug"},
		{"condition on a field whose absence is not a fix", finding.Finding{RuleID: "automount-service-account-token", Path: "spec.automountServiceAccountToken", Origin: "helm chart chart (release r)",
			Message:  "Pod p mounts the API token (written under the condition automountServiceAccountToken (set in chart/values.yaml))",
			Location: finding.Location{File: "chart/templates/d.yaml", Line: 3, Column: 3}}, "written under the condition automountServiceAccountToken"},
		{"values value not a scalar on the line", hostNet(2, 3, " (nested.hostNetwork from chart/values.yaml)"), "not a scalar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := explain(tc.f, read)
			if err == nil {
				t.Fatalf("got edit %s, want a refusal", e)
			}
			if !errors.Is(err, errNoFix) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("refusal %q, want one saying %q", err, tc.why)
			}
			if _, ok := For(tc.f, read); ok {
				t.Fatal("For accepted what explain refused")
			}
		})
	}
}

func TestPullPolicyFollowsTheRule(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{`container "app" uses imagePullPolicy: Never: the node's cached copy of "nginx:1.27" runs without the registry checking access`, "IfNotPresent"},
		{`container "app" uses imagePullPolicy: Never: the node's cached copy of "ghcr.io/a/b@sha256:00" runs without the registry checking access`, "IfNotPresent"},
		{`container "app" uses imagePullPolicy: Never: the node's cached copy of "nginx" runs without the registry checking access`, "Always"},
		{`container "app" uses imagePullPolicy: Never: the node's cached copy of "nginx:latest" runs without the registry checking access`, "Always"},
		{`container "app" pulls the floating image "nginx" only if not present: nodes run whatever copy they cached`, "Always"},
	} {
		if got := pullPolicy(finding.Finding{Message: tc.msg}); got != tc.want {
			t.Errorf("pullPolicy(%q) = %s, want %s", tc.msg, got, tc.want)
		}
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, s := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestApply(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.yaml": "x:\r\n  hostPID: true\r\n  sc: {privileged: true, allowPrivilegeEscalation: true} # keep\r\n  hostIPC: true\r\n",
		"b.yaml": "hostNetwork: true\n",
	})
	if err := os.Symlink("b.yaml", filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "elsewhere.yaml")
	if err := os.WriteFile(outside, []byte("hostNetwork: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "out.yaml")); err != nil {
		t.Fatal(err)
	}
	sc := "  sc: {privileged: true, allowPrivilegeEscalation: true} # keep"
	edits := []Edit{
		{File: "a.yaml", Line: 2, Old: "  hostPID: true", New: "  hostPID: false", RuleID: "host-pid"},
		// The same edit from host-pid-ptrace: applied once.
		{File: "a.yaml", Line: 2, Old: "  hostPID: true", New: "  hostPID: false", RuleID: "host-pid-ptrace"},
		// Two findings in one flow map: merged into one line.
		{File: "a.yaml", Line: 3, Old: sc, New: "  sc: {privileged: false, allowPrivilegeEscalation: true} # keep", RuleID: "privileged-container"},
		{File: "a.yaml", Line: 3, Old: sc, New: "  sc: {privileged: true, allowPrivilegeEscalation: false} # keep", RuleID: "allow-privilege-escalation"},
		// Stale: the file no longer says this.
		{File: "a.yaml", Line: 4, Old: "  hostIPC: yes", New: "  hostIPC: false", RuleID: "host-ipc"},
		// Through a symlink: the target is rewritten, the link stays.
		{File: "link.yaml", Line: 1, Old: "hostNetwork: true", New: "hostNetwork: false", RuleID: "host-network"},
		{File: "missing.yaml", Line: 1, Old: "a: 1", New: "a: 2", RuleID: "x"},
		// A symlink out of the tree: refused.
		{File: "out.yaml", Line: 1, Old: "hostNetwork: true", New: "hostNetwork: false", RuleID: "host-network"},
	}
	applied, err := Apply(edits, dir)
	if err == nil || !strings.Contains(err.Error(), "a.yaml:4: line changed since it was linted") || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("want errors for the stale edit and the missing file, got %v", err)
	}
	if !strings.Contains(err.Error(), "out.yaml: a symlink to") {
		t.Fatalf("want an error for the symlink out of the tree, got %v", err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "hostNetwork: true\n" {
		t.Fatalf("the file outside the tree was rewritten: %q", b)
	}
	var got []string
	for _, e := range applied {
		got = append(got, e.File+":"+e.RuleID)
	}
	if want := "a.yaml:host-pid a.yaml:privileged-container a.yaml:allow-privilege-escalation link.yaml:host-network"; strings.Join(got, " ") != want {
		t.Fatalf("applied %v, want %s", got, want)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "a.yaml"))
	if want := "x:\r\n  hostPID: false\r\n  sc: {privileged: false, allowPrivilegeEscalation: false} # keep\r\n  hostIPC: true\r\n"; string(b) != want {
		t.Fatalf("a.yaml is\n%q\nwant\n%q", b, want)
	}
	if st, _ := os.Stat(filepath.Join(dir, "a.yaml")); st.Mode().Perm() != 0o640 {
		t.Fatalf("mode changed to %v", st.Mode())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b.yaml")); string(b) != "hostNetwork: false\n" {
		t.Fatalf("b.yaml is %q", b)
	}
	if st, err := os.Lstat(filepath.Join(dir, "link.yaml")); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link.yaml is no longer a symlink: %v %v", st.Mode(), err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*fix-*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestMergeRefusesOverlaps(t *testing.T) {
	old := "  hostPID: true"
	_, _, err := Merge([]Edit{{Old: old, New: "  hostPID: false", RuleID: "a"}, {Old: old, New: "  hostPID: no", RuleID: "b"}})
	if err == nil {
		t.Fatal("overlapping edits merged")
	}
	if _, _, err := Merge([]Edit{{Old: old, New: "x"}, {Old: "other", New: "y"}}); err == nil {
		t.Fatal("edits of different lines merged")
	}
}

// A values key written by the chart itself, or by a subchart's own
// values.yaml, is followed there.
func TestForFollowsValues(t *testing.T) {
	files := map[string]string{
		"chart/templates/d.yaml":            "spec:\n  hostNetwork: {{ .Values.net }}\n",
		"chart/values.yaml":                 "# defaults\nnet: true  # why\n",
		"chart/charts/sub/templates/d.yaml": "spec:\n  hostNetwork: {{ .Values.net }}\n",
		"chart/charts/sub/values.yaml":      "net: yes\n",
		"templates/d.yaml":                  "spec:\n  hostNetwork: {{ .Values.net }}\n",
		"values.yaml":                       "net: True\n",
		"cond/templates/d.yaml":             "spec:\n  {{- if .Values.hostNetwork }}\n  hostNetwork: true\n  {{- end }}\n",
		"cond/values.yaml":                  "hostNetwork: on\n",
	}
	for _, tc := range []struct{ tmpl, note, want string }{
		{"chart/templates/d.yaml", "net from chart/values.yaml", "chart/values.yaml:2: net: true → false"},
		{"chart/charts/sub/templates/d.yaml", "net from chart/charts/sub/values.yaml", "chart/charts/sub/values.yaml:1: net: yes → false"},
		{"templates/d.yaml", "net from values.yaml", "values.yaml:1: net: True → False"},
		{"cond/templates/d.yaml", "written under the condition hostNetwork (set in cond/values.yaml)", "cond/values.yaml:1: hostNetwork: on → false"},
	} {
		f := finding.Finding{RuleID: "host-network", Path: "spec.hostNetwork", Origin: "helm chart x (release r)",
			Message: "Pod p shares the host's network namespace (hostNetwork: true) (" + tc.note + ")", Location: finding.Location{File: tc.tmpl, Line: 2, Column: 3}}
		e, err := explain(f, memFS(files))
		if err != nil {
			t.Errorf("%s: %v", tc.tmpl, err)
			continue
		}
		if e.String() != tc.want {
			t.Errorf("%s: got %s, want %s", tc.tmpl, e, tc.want)
		}
	}
}

// A JSON 6902 operation's "value:" is rewritten only when the operation
// adds or replaces the finding's field, in a patch file or inlined in a
// kustomization.
func TestJSONOp(t *testing.T) {
	const inline = `patches:
  - target: {kind: Deployment}
    patch: |-
      - op: replace
        path: /spec/template/spec/hostNetwork
        value: true   # on purpose
      - op: add
        path: /spec/template/spec/hostPID
        value: true
`
	for _, tc := range []struct {
		name, src string
		line, col int
		want      string // the new line, "" for a refusal
	}{
		{"file", "- op: add\n  path: /spec/hostNetwork\n  value: true\n", 3, 3, "  value: false"},
		{"value first", "- value: true\n  op: replace\n  path: \"/spec/template/spec/hostNetwork\"\n", 1, 3, "- value: false"},
		{"nested lines between", "- op: add\n  path: /spec/hostNetwork\n  # why\n\n  value: true\n- op: remove\n  path: /spec/hostPID\n", 5, 3, "  value: false"},
		{"inline in a kustomization", inline, 6, 9, "        value: false  # on purpose"},
		{"next operation's path is not ours", inline, 9, 9, ""},
		{"remove", "- op: test\n  path: /spec/hostNetwork\n  value: true\n", 3, 3, ""},
		{"another field", "- op: add\n  path: /spec/hostIPC\n  value: true\n", 3, 3, ""},
		{"no operation", "value: true\n", 1, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := finding.Finding{RuleID: "host-network", Path: "spec.template.spec.hostNetwork", Origin: "kustomize overlay",
				Location: finding.Location{File: "p.yaml", Line: tc.line, Column: tc.col}}
			e, err := explain(f, memFS(map[string]string{"p.yaml": tc.src}))
			switch {
			case tc.want == "" && err == nil:
				t.Fatalf("got %s, want a refusal", e)
			case tc.want != "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && e.New != tc.want:
				t.Fatalf("got %q, want %q", e.New, tc.want)
			}
		})
	}
}

func TestCachedReadsOnce(t *testing.T) {
	n := 0
	read := Cached(func(p string) ([]byte, error) {
		n++
		if p == "missing" {
			return nil, fs.ErrNotExist
		}
		return []byte(p), nil
	})
	for range 3 {
		if b, err := read("a"); err != nil || string(b) != "a" {
			t.Fatalf("read a: %q %v", b, err)
		}
		if _, err := read("missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("read missing: %v", err)
		}
	}
	if n != 2 {
		t.Fatalf("%d reads, want 2", n)
	}
}

// The Action moves a Helm finding to the values line its note names; the
// edit is then that line's.
func TestForOnTheValuesLine(t *testing.T) {
	files := map[string]string{"chart/values.yaml": "image:\n  pullPolicy: IfNotPresent # default\nsc: {privileged: true}\n"}
	for _, tc := range []struct {
		f    finding.Finding
		want string
	}{
		{finding.Finding{RuleID: "image-pull-policy", Path: "spec.containers[0].imagePullPolicy", Message: `container "app" pulls the floating image "nginx" only if not present: nodes run whatever copy they cached (image.pullPolicy from /work/repo/chart/values.yaml)`,
			Location: finding.Location{File: "chart/values.yaml", Line: 2, Column: 3}}, "chart/values.yaml:2: pullPolicy: IfNotPresent → Always"},
		{finding.Finding{RuleID: "privileged-container", Path: "spec.containers[0].securityContext.privileged", Message: `container "app" runs privileged (sc.privileged from chart/values.yaml)`,
			Location: finding.Location{File: "chart/values.yaml", Line: 3, Column: 6}}, "chart/values.yaml:3: privileged: true → false"},
	} {
		tc.f.Origin = "helm chart chart (release r)"
		e, err := explain(tc.f, memFS(files))
		if err != nil {
			t.Errorf("%s: %v", tc.f.RuleID, err)
			continue
		}
		if e.String() != tc.want || !e.At(tc.f.Location) {
			t.Errorf("%s: got %s, want %s", tc.f.RuleID, e, tc.want)
		}
	}
}

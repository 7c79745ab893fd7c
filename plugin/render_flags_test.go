package plugin

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func parseRenderFlags(t *testing.T, args ...string) (*RenderFlags, error) {
	t.Helper()
	fs := pflag.NewFlagSet("lint", pflag.ContinueOnError)
	var f RenderFlags
	f.AddFlags(fs)
	return &f, fs.Parse(args)
}

func TestRenderFlagsParse(t *testing.T) {
	f, err := parseRenderFlags(t,
		"-f", "a.yaml", "--values", "b.yaml,c.yaml",
		"--set", "image.tag=1.2,replicas=3", "--set", "x=y",
		"--set-string", "port=80", "--set-file", "cfg=conf.txt",
		"--release-name", "web", "--namespace", "prod",
		"--kube-version", "1.31.0", "--api-versions", "monitoring.coreos.com/v1,cert-manager.io/v1",
		"--api-versions", "x.io/v1", "--allow-remote", "--render-timeout", "5s")
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.Options()
	if err != nil {
		t.Fatal(err)
	}
	h := o.Helm
	if got := strings.Join(h.ValuesFiles, " "); got != "a.yaml b.yaml c.yaml" {
		t.Errorf("values = %q", got)
	}
	if len(h.Set) != 2 || h.Set[0] != "image.tag=1.2,replicas=3" || h.SetString[0] != "port=80" || h.SetFile[0] != "cfg=conf.txt" {
		t.Errorf("set flags = %q %q %q", h.Set, h.SetString, h.SetFile)
	}
	if h.ReleaseName != "web" || h.Namespace != "prod" || h.KubeVersion != "1.31.0" {
		t.Errorf("release = %q %q %q", h.ReleaseName, h.Namespace, h.KubeVersion)
	}
	if got := strings.Join(h.APIVersions, " "); got != "monitoring.coreos.com/v1 cert-manager.io/v1 x.io/v1" {
		t.Errorf("api versions = %q", got)
	}
	if !o.AllowRemote || o.Timeout != 5*time.Second {
		t.Errorf("allow-remote %v timeout %v", o.AllowRemote, o.Timeout)
	}
}

func TestRenderFlagsDefaults(t *testing.T) {
	f, err := parseRenderFlags(t)
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.Helm.ReleaseName != "release-name" || o.Helm.Namespace != "default" || o.AllowRemote || o.Timeout != 60*time.Second {
		t.Errorf("defaults = %+v", o)
	}
}

// -n is left free: kubectl passes it to plugins for other purposes.
func TestRenderFlagsNoNamespaceShorthand(t *testing.T) {
	fs := pflag.NewFlagSet("lint", pflag.ContinueOnError)
	var f RenderFlags
	f.AddFlags(fs)
	if fl := fs.Lookup("namespace"); fl == nil || fl.Shorthand != "" {
		t.Fatalf("--namespace = %+v, want no shorthand", fl)
	}
	if fs.ShorthandLookup("n") != nil {
		t.Fatal("-n is registered")
	}
	for _, name := range []string{"values", "set", "set-string", "set-file", "release-name", "kube-version", "api-versions", "allow-remote", "render-timeout"} {
		if fl := fs.Lookup(name); fl == nil || fl.Usage == "" {
			t.Errorf("--%s missing or without help", name)
		}
	}
}

func TestRenderFlagsValidate(t *testing.T) {
	for _, args := range [][]string{
		{"--kube-version", "banana"},
		{"--set", "novalue"},
		{"--set-file", "nopath"},
		{"--render-timeout", "-1s"},
		{"-f", "https://example.com/values.yaml"},
	} {
		f, err := parseRenderFlags(t, args...)
		if err != nil {
			t.Fatalf("%v: parse: %v", args, err)
		}
		if _, err := f.Options(); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// The target Kubernetes version is one flag for rules and rendering;
// --kube-version is its deprecated alias; unknown versions are refused.
func TestLintKubernetesVersionFlags(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		// Version-gated as charts commonly are.
		"chart/templates/cj.yaml": "{{- if semverCompare \">=1.21-0\" .Capabilities.KubeVersion.Version }}\napiVersion: batch/v1\n{{- else }}\napiVersion: batch/v1beta1\n{{- end }}\nkind: CronJob\nmetadata:\n  name: x\nspec:\n  schedule: \"@daily\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers:\n            - name: c\n              image: busybox:1.36\n",
	})
	removed := func(out string) bool { return strings.Contains(out, "removed-api") }
	// Default: the newest version, so the chart takes its batch/v1 branch.
	out, _, _ := run(t, dir, "", nil, "lint", "--no-config", "--enable", "removed-api", "chart")
	if removed(out) {
		t.Errorf("default version rendered a removed API:\n%s", out)
	}
	for _, flag := range []string{"--kubernetes-version", "--kube-version"} {
		out, errOut, _ := run(t, dir, "", nil, "lint", "--no-config", "--enable", "removed-api", flag, "1.20", "chart")
		if strings.Contains(out, "removed-api") {
			t.Errorf("%s 1.20: batch/v1beta1 is not removed in 1.20:\n%s", flag, out)
		}
		if !strings.Contains(out, "no findings") {
			t.Errorf("%s 1.20: %s%s", flag, out, errOut)
		}
		if flag == "--kube-version" && !strings.Contains(errOut, "deprecated") {
			t.Errorf("no deprecation notice: %q", errOut)
		}
	}
	for _, args := range [][]string{{"--kubernetes-version", "1.99"}, {"--kube-version", "1.99"}, {"--kube-version", "1.30", "--kubernetes-version", "1.31"}} {
		_, errOut, code := run(t, dir, "", nil, append([]string{"lint", "--no-config", "chart"}, args...)...)
		if code != 2 || !strings.Contains(errOut, "Error:") {
			t.Errorf("%v: code %d %s", args, code, errOut)
		}
	}
}

// Linting a chart that names objects with random functions twice gives
// byte-identical JSON (apart from the time it took).
func TestLintDeterministicWithGenerators(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"chart/Chart.yaml":              "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"chart/templates/test-pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test-{{ randAlphaNum 5 | lower }}\n  annotations:\n    id: {{ uuidv4 }}\n    at: {{ now | quote }}\nspec:\n  containers:\n    - name: t\n      image: busybox\n      securityContext:\n        privileged: true\n",
		"chart/templates/secret.yaml":   "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s-{{ randAlpha 4 | lower }}\ndata:\n  password: {{ randAlphaNum 20 | b64enc }}\n  key: {{ genPrivateKey \"ecdsa\" | b64enc }}\n",
	})
	elapsed := regexp.MustCompile(`"elapsedSeconds":\s*[0-9.e+-]+`)
	var outs [2]string
	for i := range outs {
		out, errOut, code := run(t, dir, "", nil, "lint", "--no-config", "-o", "json", "chart")
		if code == 2 {
			t.Fatalf("code 2: %s", errOut)
		}
		outs[i] = elapsed.ReplaceAllString(out, "")
	}
	if outs[0] != outs[1] {
		t.Errorf("runs differ:\n%s\n---\n%s", outs[0], outs[1])
	}
	if !strings.Contains(outs[0], "release-name-test-xxxxx") {
		t.Errorf("no seeded name in\n%s", outs[0])
	}
}

// --exclude (repeatable) and the config's exclude: keep paths out of
// walks; .gitignore is honoured unless --no-gitignore; Helm values with
// no chart are an error.
func TestLintExcludeFlags(t *testing.T) {
	priv := func(name string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\nspec:\n  containers:\n    - name: c\n      image: busybox:1.36\n      securityContext:\n        privileged: true\n"
	}
	dir := writeFiles(t, map[string]string{
		".git/HEAD":                      "ref: refs/heads/main\n",
		".gitignore":                     "build/\n",
		"build/out.yaml":                 priv("build"),
		"app/pod.yaml":                   priv("app"),
		"examples/broken.yaml":           "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
		"make/tmpl.yaml":                 "{{ .Values.x }}: [\n",
		"profiles/p.yaml":                priv("profile"),
		"cfgdir/.kubectl-secure.yaml":    "exclude:\n  - ../profiles/\n",
		"cfgdir/placeholder/README.yaml": "{}\n",
	})
	args := []string{"lint", "--no-config", "--enable", "privileged-container", "-o", "json"}
	objects := func(out string) string {
		var names []string
		for _, n := range []string{"build", "app", "profile"} {
			if strings.Contains(out, `"name": "`+n+`"`) || strings.Contains(out, `"name":"`+n+`"`) {
				names = append(names, n)
			}
		}
		return strings.Join(names, " ")
	}
	out, errOut, code := run(t, dir, "", nil, append(args, "--exclude", "examples/", "--exclude", "make/**", ".")...)
	if code != 1 || objects(out) != "app profile" {
		t.Errorf("code %d objects %q\n%s%s", code, objects(out), out, errOut)
	}
	out, _, _ = run(t, dir, "", nil, append(args, "--exclude", "examples/", "--exclude", "make/**", "--no-gitignore", ".")...)
	if objects(out) != "build app profile" {
		t.Errorf("--no-gitignore: objects %q", objects(out))
	}
	// The config's patterns are relative to the config file.
	out, _, _ = run(t, dir, "", nil, "lint", "--config", filepath.Join(dir, "cfgdir", ".kubectl-secure.yaml"), "--enable", "privileged-container", "-o", "json", "--exclude", "examples/", "--exclude", "make/", ".")
	if objects(out) != "app" {
		t.Errorf("config exclude: objects %q\n%s", objects(out), out)
	}
	_, errOut, code = run(t, dir, "", nil, "lint", "--no-config", "--set", "a=b", "app")
	if code != 2 || !strings.Contains(errOut, "no Helm chart") {
		t.Errorf("--set without chart: code %d %s", code, errOut)
	}
}

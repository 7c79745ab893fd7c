package plugin

import (
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

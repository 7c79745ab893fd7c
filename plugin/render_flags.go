package plugin

import (
	"fmt"
	"strings"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
	"github.com/kubectl-secure/kubectl-secure/internal/render"
	"github.com/spf13/pflag"
)

// RenderFlags control how kustomizations and Helm charts are rendered.
// The Helm flags keep Helm's names so that a `helm template` command line
// carries over.
type RenderFlags struct {
	ValuesFiles   []string
	Set           []string
	SetString     []string
	SetFile       []string
	ReleaseName   string
	Namespace     string
	KubeVersion   string
	APIVersions   []string
	AllowRemote   bool
	RenderTimeout time.Duration
	RenderMemory  int64
	Exclude       []string
	NoGitignore   bool
}

// AddFlags registers the render flags. --namespace has no -n shorthand:
// kubectl plugins commonly receive -n for something else.
func (f *RenderFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringSliceVarP(&f.ValuesFiles, "values", "f", nil, "Helm values file for charts (repeatable or comma-separated; later files win)")
	fs.StringArrayVar(&f.Set, "set", nil, "set Helm values on the command line (repeatable; key1=val1,key2=val2)")
	fs.StringArrayVar(&f.SetString, "set-string", nil, "set Helm STRING values on the command line (repeatable)")
	fs.StringArrayVar(&f.SetFile, "set-file", nil, "set Helm values from files (repeatable; key=path)")
	fs.StringVar(&f.ReleaseName, "release-name", render.DefaultReleaseName, "Helm release name charts are rendered with")
	fs.StringVar(&f.Namespace, "namespace", render.DefaultNamespace, "namespace charts are rendered into (.Release.Namespace)")
	// One target version for rendering and rules: --kubernetes-version
	// (a policy flag). --kube-version, Helm's name, stays as an alias.
	// (Not pflag's MarkDeprecated: cobra prints its notice to standard
	// output, into a JSON or SARIF report.)
	fs.StringVar(&f.KubeVersion, "kube-version", "", "deprecated alias of --kubernetes-version")
	fs.StringArrayVar(&f.Exclude, "exclude", nil, "skip paths matching this gitignore-style pattern in directory walks (repeatable; e.g. examples/, '**/profiles/*.yaml')")
	fs.BoolVar(&f.NoGitignore, "no-gitignore", false, "also walk files that the repository's .gitignore files ignore")
	fs.StringArrayVar(&f.APIVersions, "api-versions", nil, "API versions added to .Capabilities.APIVersions when rendering charts (repeatable, comma-separated)")
	fs.BoolVar(&f.AllowRemote, "allow-remote", false, "let kustomize fetch remote bases and resources (git, http); off by default so untrusted input cannot reach out")
	fs.DurationVar(&f.RenderTimeout, "render-timeout", render.DefaultTimeout, "time limit for rendering each kustomization or chart")
	f.RenderMemory = render.DefaultMaxMemory
	fs.Var((*byteSize)(&f.RenderMemory), "render-max-memory", "stop the run (exit 2) when rendering a chart or kustomization takes the heap past this size: a template that allocates without bound cannot be interrupted otherwise")
}

// Options validates the flags and returns the render options (Manifest
// and Log are left for the caller).
func (f *RenderFlags) Options() (render.Options, error) {
	if f.RenderTimeout < 0 {
		return render.Options{}, fmt.Errorf("--render-timeout must not be negative")
	}
	if f.KubeVersion != "" {
		if _, err := render.ParseKubernetesVersion(f.KubeVersion); err != nil {
			return render.Options{}, fmt.Errorf("--kube-version: %w", err)
		}
	}
	for _, e := range f.Exclude {
		if strings.TrimSpace(e) == "" {
			return render.Options{}, fmt.Errorf("--exclude: empty pattern")
		}
	}
	for _, flag := range []struct {
		name string
		vals []string
	}{{"--set", f.Set}, {"--set-string", f.SetString}, {"--set-file", f.SetFile}} {
		for _, v := range flag.vals {
			if !strings.Contains(v, "=") {
				return render.Options{}, fmt.Errorf("%s %q: want key=value", flag.name, v)
			}
		}
	}
	var apis []string
	for _, a := range f.APIVersions {
		for _, s := range strings.Split(a, ",") {
			if s = strings.TrimSpace(s); s != "" {
				apis = append(apis, s)
			}
		}
	}
	for _, v := range f.ValuesFiles {
		if v == "" {
			return render.Options{}, fmt.Errorf("--values: empty file name")
		}
		if strings.Contains(v, "://") {
			return render.Options{}, fmt.Errorf("--values %s: only local files are read", v)
		}
	}
	return render.Options{
		Helm: render.HelmOptions{
			ValuesFiles: append([]string(nil), f.ValuesFiles...),
			Set:         append([]string(nil), f.Set...),
			SetString:   append([]string(nil), f.SetString...),
			SetFile:     append([]string(nil), f.SetFile...),
			ReleaseName: f.ReleaseName,
			Namespace:   f.Namespace,
			KubeVersion: f.KubeVersion,
			APIVersions: apis,
		},
		AllowRemote: f.AllowRemote,
		Timeout:     f.RenderTimeout,
		MaxMemory:   f.RenderMemory,
		Exclude:     excludeRules(f.Exclude, ""),
		NoGitignore: f.NoGitignore,
	}, nil
}

// Resolve completes render options with the policy: the one target
// Kubernetes version (--kubernetes-version, its alias --kube-version, or
// the config's kubernetesVersion; charts are rendered for it and rules
// judge by it) and the config's exclude: patterns. kubernetesVersionFlag
// is the --kubernetes-version flag's value.
func (f *RenderFlags) Resolve(o *render.Options, p *pipeline.Policy, kubernetesVersionFlag string) error {
	if f.KubeVersion != "" {
		if kubernetesVersionFlag != "" && kubernetesVersionFlag != f.KubeVersion {
			return fmt.Errorf("--kube-version %s and --kubernetes-version %s disagree: give only --kubernetes-version", f.KubeVersion, kubernetesVersionFlag)
		}
		p.Settings.KubernetesVersion = f.KubeVersion
	}
	o.Helm.KubeVersion = ""
	if kv := p.Settings.KubernetesVersion; kv != "" {
		full, err := render.ParseKubernetesVersion(kv)
		if err != nil {
			return fmt.Errorf("--kubernetes-version: %w", err)
		}
		o.Helm.KubeVersion = full
	}
	if p.Config != nil {
		o.Exclude = append(excludeRules(p.Config.Exclude, p.Config.Dir()), o.Exclude...)
	}
	return nil
}

// Deprecations are the notices for deprecated flags that were given.
func (f *RenderFlags) Deprecations() []string {
	if f.KubeVersion != "" {
		return []string{"--kube-version is deprecated: use --kubernetes-version (it also sets .Capabilities.KubeVersion for charts)"}
	}
	return nil
}

func excludeRules(patterns []string, dir string) []render.ExcludeRule {
	var out []render.ExcludeRule
	for _, p := range patterns {
		out = append(out, render.ExcludeRule{Pattern: p, Dir: dir})
	}
	return out
}

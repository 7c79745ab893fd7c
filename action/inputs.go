package action

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
)

// FilterMode says which findings a pull request's review keeps; the names
// and meanings are reviewdog's.
type FilterMode string

// Filter modes.
const (
	// FilterAdded keeps findings on lines the pull request adds.
	FilterAdded FilterMode = "added"
	// FilterDiffContext keeps findings on any line shown in the diff.
	FilterDiffContext FilterMode = "diff_context"
	// FilterFile keeps findings anywhere in a changed file.
	FilterFile FilterMode = "file"
	// FilterNone keeps every finding.
	FilterNone FilterMode = "nofilter"
)

// Inputs are the action's inputs (action.yml), parsed.
type Inputs struct {
	Path              string
	Values            []string
	Set               []string
	Config            string
	Baseline          string
	FailOn            string
	MinSeverity       string
	KubernetesVersion string
	VerifyImages      bool
	// TUFMirror and TUFRoot are lint's --tuf-mirror and --tuf-root.
	TUFMirror, TUFRoot string
	// TUFCache is not an input: the verified TUF metadata are kept where
	// the job's later steps (and, on self-hosted runners, later jobs) find
	// them (see tufCacheDir).
	TUFCache string
	// Exclude are lint's --exclude patterns (gitignore syntax).
	Exclude     []string
	NoGitignore bool
	Token       string
	Review      bool
	FilterMode  FilterMode
	MaxComments int
	Annotations bool
	SARIFFile   string
	Summary     bool
	// Version is read by the install step; the runtime only reports it.
	Version string
}

// input is one declared input: its name in action.yml, the default the
// runtime assumes when the variable is absent (run by hand), and how it
// is parsed.
type input struct {
	name, def string
	set       func(in *Inputs, v string) error
}

// inputs is the only way the runtime reads inputs, so that a test can
// hold it against action.yml.
var inputs = []input{
	{"path", ".", func(in *Inputs, v string) error { in.Path = v; return nil }},
	{"values", "", func(in *Inputs, v string) error { in.Values = splitList(v, true); return nil }},
	{"set", "", func(in *Inputs, v string) error { in.Set = splitList(v, false); return nil }},
	{"config", "", func(in *Inputs, v string) error { in.Config = v; return nil }},
	{"baseline", "", func(in *Inputs, v string) error { in.Baseline = v; return nil }},
	{"fail-on", "high", func(in *Inputs, v string) error { in.FailOn = v; return nil }},
	{"min-severity", "low", func(in *Inputs, v string) error { in.MinSeverity = v; return nil }},
	{"kubernetes-version", "", func(in *Inputs, v string) error { in.KubernetesVersion = v; return nil }},
	{"verify-images", "false", boolInput(func(in *Inputs) *bool { return &in.VerifyImages })},
	{"tuf-mirror", "", func(in *Inputs, v string) error { in.TUFMirror = v; return nil }},
	{"tuf-root", "", func(in *Inputs, v string) error { in.TUFRoot = v; return nil }},
	{"exclude", "", func(in *Inputs, v string) error { in.Exclude = splitList(v, true); return nil }},
	{"no-gitignore", "false", boolInput(func(in *Inputs) *bool { return &in.NoGitignore })},
	{"github-token", "", func(in *Inputs, v string) error { in.Token = v; return nil }},
	{"review", "true", boolInput(func(in *Inputs) *bool { return &in.Review })},
	{"filter-mode", string(FilterAdded), func(in *Inputs, v string) error {
		switch m := FilterMode(v); m {
		case FilterAdded, FilterDiffContext, FilterFile, FilterNone:
			in.FilterMode = m
			return nil
		}
		return fmt.Errorf("want added, diff_context, file or nofilter")
	}},
	{"max-comments", "25", func(in *Inputs, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("want a whole number, 0 or more")
		}
		in.MaxComments = n
		return nil
	}},
	{"annotations", "true", boolInput(func(in *Inputs) *bool { return &in.Annotations })},
	{"sarif-file", "kubectl-secure.sarif", func(in *Inputs, v string) error { in.SARIFFile = v; return nil }},
	{"summary", "true", boolInput(func(in *Inputs) *bool { return &in.Summary })},
	{"version", "latest", func(in *Inputs, v string) error { in.Version = v; return nil }},
}

func boolInput(field func(*Inputs) *bool) func(*Inputs, string) error {
	return func(in *Inputs, v string) error {
		// The YAML 1.2 core schema's booleans, as @actions/core's getBooleanInput.
		switch v {
		case "true", "True", "TRUE":
			*field(in) = true
		case "false", "False", "FALSE":
			*field(in) = false
		default:
			return fmt.Errorf("want true or false")
		}
		return nil
	}
}

// InputNames lists every input the runtime reads.
func InputNames() []string {
	names := make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = in.name
	}
	return names
}

// InputDefaults maps each input to the default the runtime assumes.
func InputDefaults() map[string]string {
	m := make(map[string]string, len(inputs))
	for _, in := range inputs {
		m[in.name] = in.def
	}
	return m
}

// ReadInputs reads and checks every input; the error names each bad one.
// An input that is absent or empty takes its default (GitHub passes
// action.yml's defaults; a run by hand gets the same).
func ReadInputs(gha *githubactions.Action) (*Inputs, error) {
	in := &Inputs{}
	var bad []string
	for _, d := range inputs {
		v := gha.GetInput(d.name)
		if v == "" {
			v = d.def
		}
		if err := d.set(in, v); err != nil {
			bad = append(bad, fmt.Sprintf("input %s: %q: %v", d.name, v, err))
		}
	}
	in.TUFCache = tufCacheDir(gha.Getenv)
	if len(bad) > 0 {
		return in, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return in, nil
}

// LintArgs are the lint flags and path that the inputs stand for: the
// action lints exactly as `kubectl secure lint <args>` would.
func (in *Inputs) LintArgs() []string {
	args := []string{"--fail-on", in.FailOn, "--min-severity", in.MinSeverity}
	for _, f := range [...]struct{ flag, v string }{
		{"--config", in.Config}, {"--baseline", in.Baseline}, {"--kubernetes-version", in.KubernetesVersion},
		{"--tuf-mirror", in.TUFMirror}, {"--tuf-root", in.TUFRoot}, {"--tuf-cache", in.TUFCache},
	} {
		if f.v != "" {
			args = append(args, f.flag, f.v)
		}
	}
	for _, v := range in.Values {
		args = append(args, "--values", v)
	}
	for _, s := range in.Set {
		args = append(args, "--set", s)
	}
	for _, e := range in.Exclude {
		args = append(args, "--exclude", e)
	}
	if in.NoGitignore {
		args = append(args, "--no-gitignore")
	}
	if in.VerifyImages {
		args = append(args, "--verify-images")
	}
	return append(args, "--", in.Path)
}

// tufCacheDir is the TUF metadata cache of a run on a runner: the
// user's KUBECTL_SECURE_TUF_CACHE, else next to the installed binary in
// the runner's tool cache, else in $RUNNER_TEMP (kept for the job's
// steps). Empty off a runner: lint's own default.
func tufCacheDir(getenv func(string) string) string {
	if d := getenv(imagesig.TUFCacheEnv); d != "" {
		return d
	}
	for _, v := range []string{"RUNNER_TOOL_CACHE", "RUNNER_TEMP"} {
		if d := getenv(v); d != "" {
			return filepath.Join(d, "kubectl-secure", "tuf")
		}
	}
	return ""
}

// splitList splits a multi-line input; commas also separate when
// commaToo (file lists), never for --set, where commas are Helm's own.
func splitList(v string, commaToo bool) []string {
	var out []string
	for _, line := range strings.Split(v, "\n") {
		parts := []string{line}
		if commaToo {
			parts = strings.Split(line, ",")
		}
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// Output names, as declared in action.yml.
const (
	OutFindings    = "findings"
	OutNewFindings = "new-findings"
	OutErrors      = "errors"
	OutSARIFFile   = "sarif-file"
	OutReportJSON  = "report-json"
	OutExitCode    = "exit-code"
)

// OutputNames lists every output the runtime sets.
func OutputNames() []string {
	return []string{OutFindings, OutNewFindings, OutErrors, OutSARIFFile, OutReportJSON, OutExitCode}
}

package plugin

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
	"github.com/kubectl-secure/kubectl-secure/internal/report"
)

// Flag groups shared by the commands that run the pipeline (lint, scan):
// the same names, defaults and meanings everywhere.

// OutputFlags selects and places the report.
type OutputFlags struct {
	Format     string
	OutputFile string
	Color      string
	Verbose    bool
}

// AddFlags registers the output flags.
func (f *OutputFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&f.Format, "output", "o", "text", "report format: "+strings.Join(report.Formats(), ", "))
	fs.StringVar(&f.OutputFile, "output-file", "", "write the report to this file instead of standard output")
	fs.StringVar(&f.Color, "color", "auto", "colour in text output: auto (terminal and no NO_COLOR), always or never")
	fs.BoolVarP(&f.Verbose, "verbose", "v", false, "also report skipped documents and other diagnostics on standard error")
}

// PolicyFlags select what counts and what fails.
type PolicyFlags struct {
	FailOn            string
	MinSeverity       string
	ConfigFile        string
	NoConfig          bool
	Baseline          string
	WriteBaseline     string
	KubernetesVersion string
	Disable           []string
	Enable            []string
}

// AddFlags registers the policy flags.
func (f *PolicyFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.FailOn, "fail-on", "", "exit 1 when a finding is at or above this severity: low, medium, high, critical or none (default high, or failOn from the config file)")
	fs.StringVar(&f.MinSeverity, "min-severity", "low", "report only findings at or above this severity")
	fs.StringVar(&f.ConfigFile, "config", "", "config file (default: .kubectl-secure.yaml in the current directory or a parent; env "+EnvConfig+")")
	fs.BoolVar(&f.NoConfig, "no-config", false, "ignore any config file")
	fs.StringVar(&f.Baseline, "baseline", "", "suppress findings recorded in this baseline file")
	fs.StringVar(&f.WriteBaseline, "write-baseline", "", "record the current findings in this baseline file (the run then exits 0 unless inputs had errors)")
	fs.StringVar(&f.KubernetesVersion, "kubernetes-version", "", "target Kubernetes version for Pod Security Standards and removed APIs, e.g. 1.34 (default: the newest known)")
	fs.StringSliceVar(&f.Disable, "disable", nil, "rule IDs not to run (repeatable, comma-separated)")
	fs.StringSliceVar(&f.Enable, "enable", nil, "run only these rule IDs (repeatable, comma-separated)")
}

// LoadFlags bound the input.
type LoadFlags struct {
	MaxFileSize int64
	NoRender    bool
}

// AddFlags registers the input flags.
func (f *LoadFlags) AddFlags(fs *pflag.FlagSet) {
	f.MaxFileSize = manifest.DefaultMaxFileSize
	fs.Var((*byteSize)(&f.MaxFileSize), "max-file-size", "reject input files larger than this: bytes, or a quantity such as 64Mi or 1G")
	fs.BoolVar(&f.NoRender, "no-render", false, "treat kustomizations and Helm charts as plain YAML files instead of rendering them")
}

// Input returns the policy the flags ask for.
func (f *PolicyFlags) Input() pipeline.PolicyInput {
	return pipeline.PolicyInput{
		FailOn:            f.FailOn,
		MinSeverity:       f.MinSeverity,
		Baseline:          f.Baseline,
		KubernetesVersion: f.KubernetesVersion,
		Disable:           f.Disable,
		Enable:            f.Enable,
	}
}

// Validate checks the output flags.
func (f *OutputFlags) Validate() error {
	if !contains(report.Formats(), f.Format) {
		return usageError("unknown output format %q (want one of %s)", f.Format, strings.Join(report.Formats(), ", "))
	}
	switch f.Color {
	case "auto", "always", "never":
	default:
		return usageError("--color must be auto, always or never")
	}
	return nil
}

// Output returns where and how to print.
func (f *OutputFlags) Output() pipeline.Output {
	return pipeline.Output{Format: f.Format, File: f.OutputFile, Color: f.Color, Verbose: f.Verbose}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// byteSize is a flag value in bytes that also takes Kubernetes quantities
// (64Mi, 1G).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Type() string { return "size" }

func (b *byteSize) Set(s string) error {
	q, err := resource.ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a size (bytes, or a quantity such as 64Mi or 1G)", s)
	}
	v, ok := q.AsInt64()
	if !ok || v <= 0 {
		return fmt.Errorf("%q is not a positive whole number of bytes", s)
	}
	*b = byteSize(v)
	return nil
}

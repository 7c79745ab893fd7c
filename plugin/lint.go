package plugin

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/internal/baseline"
	"github.com/kubectl-secure/kubectl-secure/internal/config"
	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/render"
	"github.com/kubectl-secure/kubectl-secure/internal/report"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

const lintExample = `  # Lint a directory of manifests
  kubectl secure lint deploy/

  # Lint what kustomize would build, from stdin
  kustomize build overlays/prod | kubectl secure lint -

  # SARIF for GitHub code scanning, failing only on critical findings
  kubectl secure lint -o sarif --output-file results.sarif --fail-on critical .

  # Adopt on a legacy repository: record today's findings, then gate only new ones
  kubectl secure lint --write-baseline .kubectl-secure-baseline.json .
  kubectl secure lint --baseline .kubectl-secure-baseline.json .`

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

// LintOptions is the `lint` command.
type LintOptions struct {
	Output OutputFlags
	Policy PolicyFlags
	Load   LoadFlags
	Render RenderFlags
	Verify VerifyImagesFlags

	Paths []string

	genericiooptions.IOStreams
	getenv Env
	now    func() time.Time

	// Completed state.
	cfg       *config.File
	registry  *engine.Registry
	failOn    finding.Severity
	failNever bool
	minSev    finding.Severity
	baseline  map[string]bool
	disabled  map[string]bool
	severity  map[string]finding.Severity
	settings  engine.Settings
	render    render.Options
}

// NewLintOptions returns options with defaults.
func NewLintOptions(streams genericiooptions.IOStreams, getenv Env) *LintOptions {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &LintOptions{IOStreams: streams, getenv: getenv, now: time.Now}
}

// NewCmdLint builds `kubectl secure lint`.
func NewCmdLint(streams genericiooptions.IOStreams, getenv Env) *cobra.Command {
	o := NewLintOptions(streams, getenv)
	cmd := &cobra.Command{
		Use:     "lint PATH... | -",
		Short:   "Lint manifests for security problems",
		Long:    "Lint Kubernetes manifests (files, directories, or - for standard input) and report\nfindings with the file, line and column of the field to change.\n\nExit codes: 0 nothing at or above --fail-on; 1 findings at or above it;\n2 an input could not be read or parsed, or a usage error (everything else\nis still linted and reported).",
		Example: lintExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	o.Output.AddFlags(cmd.Flags())
	o.Policy.AddFlags(cmd.Flags())
	o.Load.AddFlags(cmd.Flags())
	o.Render.AddFlags(cmd.Flags())
	o.Verify.AddFlags(cmd.Flags())
	return cmd
}

// Complete fills derived state: config file, registry, severities.
func (o *LintOptions) Complete(args []string) error {
	o.Paths = args
	reg, err := rules.NewRegistry()
	if err != nil {
		return fmt.Errorf("building rule registry: %w", err)
	}
	o.registry = reg
	if !o.Policy.NoConfig {
		path := o.Policy.ConfigFile
		if path == "" {
			path = o.getenv(EnvConfig)
		}
		if path == "" {
			path = config.Find(".")
		}
		if path != "" {
			cfg, err := config.Load(path)
			if err != nil {
				return usageError("%v", err)
			}
			if err := cfg.CheckRuleIDs(func(id string) bool { _, ok := reg.Get(id); return ok || id == ImageSignatureRuleID }); err != nil {
				return usageError("%v", err)
			}
			o.cfg = cfg
		}
	}
	if o.cfg == nil {
		o.cfg = &config.File{}
	}
	return nil
}

// Validate checks flags and arguments.
func (o *LintOptions) Validate() error {
	if len(o.Paths) == 0 {
		return usageError("lint needs at least one path, or - for standard input\nSee 'kubectl secure lint --help'.")
	}
	stdin := 0
	for _, p := range o.Paths {
		if p == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usageError("- (standard input) can be given only once")
	}
	if !contains(report.Formats(), o.Output.Format) {
		return usageError("unknown output format %q (want one of %s)", o.Output.Format, strings.Join(report.Formats(), ", "))
	}
	switch o.Output.Color {
	case "auto", "always", "never":
	default:
		return usageError("--color must be auto, always or never")
	}
	failOn := o.Policy.FailOn
	if failOn == "" {
		failOn = o.cfg.FailOn
	}
	if failOn == "" {
		failOn = "high"
	}
	if failOn == "none" {
		o.failNever = true
	} else {
		s, err := finding.ParseSeverity(failOn)
		if err != nil {
			return usageError("--fail-on: %v", err)
		}
		o.failOn = s
	}
	s, err := finding.ParseSeverity(o.Policy.MinSeverity)
	if err != nil {
		return usageError("--min-severity: %v", err)
	}
	o.minSev = s
	if o.Load.MaxFileSize <= 0 {
		return usageError("--max-file-size must be positive")
	}
	known := func(id string) bool { _, ok := o.registry.Get(id); return ok || id == ImageSignatureRuleID }
	o.disabled = map[string]bool{}
	for _, id := range append(append([]string{}, o.cfg.Rules.Disable...), o.Policy.Disable...) {
		if !known(id) {
			return usageError("--disable: unknown rule %q (see 'kubectl secure rules')", id)
		}
		o.disabled[id] = true
	}
	enable := append(append([]string{}, o.cfg.Rules.Enable...), o.Policy.Enable...)
	if len(enable) > 0 {
		on := map[string]bool{}
		for _, id := range enable {
			if !known(id) {
				return usageError("--enable: unknown rule %q (see 'kubectl secure rules')", id)
			}
			on[id] = true
		}
		for _, r := range o.registry.Rules() {
			if !on[r.ID] {
				o.disabled[r.ID] = true
			}
		}
		if !on[ImageSignatureRuleID] {
			o.disabled[ImageSignatureRuleID] = true
		}
	}
	o.severity = map[string]finding.Severity{}
	for id, sv := range o.cfg.Rules.Severity {
		o.severity[id], _ = finding.ParseSeverity(sv)
	}
	kv := o.Policy.KubernetesVersion
	if kv == "" {
		kv = o.cfg.KubernetesVersion
	}
	if kv != "" {
		if _, _, err := config.ParseKubernetesVersion(kv); err != nil {
			return usageError("--kubernetes-version: %v", err)
		}
	}
	o.settings = engine.Settings{
		KubernetesVersion:     kv,
		AllowedRegistries:     o.cfg.Images.AllowedRegistries,
		SensitiveHostPaths:    o.cfg.SensitiveHostPaths,
		DangerousCapabilities: o.cfg.DangerousCapabilities,
	}
	ropt, err := o.Render.Options()
	if err != nil {
		return usageError("%v", err)
	}
	o.render = ropt
	if o.Verify.Enabled && o.cfg.ImageVerification == nil {
		return usageError("--verify-images needs an imageVerification policy in the config file (see docs/verify.md)")
	}
	if o.Verify.Concurrency < 1 || o.Verify.Timeout <= 0 {
		return usageError("--verify-concurrency and --verify-timeout must be positive")
	}
	if o.Policy.Baseline != "" {
		b, err := baseline.Load(o.Policy.Baseline)
		if err != nil {
			return usageError("%v", err)
		}
		o.baseline = b
	}
	return nil
}

// Run lints and reports.
func (o *LintOptions) Run() error {
	start := o.now()
	defer governHeap(defaultHeapTarget, o.getenv)()
	eng := &engine.Engine{Registry: o.registry, Settings: o.settings, Disabled: o.disabled}
	collector := eng.NewCollector()
	visit := collector.Visit
	images := &imageCollector{seen: map[*manifest.Object]bool{}}
	verify := o.Verify.Enabled && !o.disabled[ImageSignatureRuleID]
	if verify {
		visit = func(obj *manifest.Object) {
			images.visit(obj)
			collector.Visit(obj)
		}
	}
	ropt := o.render
	ropt.Disabled = o.Load.NoRender
	ropt.Manifest = manifest.Options{MaxFileSize: o.Load.MaxFileSize, Stdin: o.In, Visit: visit}
	if o.Output.Verbose {
		ropt.Log = o.ErrOut
	}
	loaded := render.Load(o.Paths, ropt)
	if verify {
		for _, obj := range loaded.Objects {
			if !images.seen[obj] {
				images.visit(obj)
			}
		}
	}
	raws, ruleErrs := collector.Finish(loaded.Objects)
	inputErrs := append(loaded.Errors, ruleErrs...)
	objects := len(loaded.Objects)
	// From here on only the findings matter: let the objects go before
	// the report is built (they are most of the memory left).
	loaded.Objects = nil
	if verify {
		imgRaws, err := o.verifyImages(images.uses)
		if err != nil {
			return &ExitError{Code: ExitCodeError, Err: err}
		}
		raws = append(raws, imgRaws...)
	}
	sort.SliceStable(inputErrs, func(i, j int) bool {
		a, b := inputErrs[i], inputErrs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})

	exemptions := make([]engine.Exemption, len(o.cfg.Exemptions))
	for i, x := range o.cfg.Exemptions {
		exemptions[i] = engine.Exemption{Rule: x.Rule, Namespace: x.Namespace, Kind: x.Kind, Name: x.Name, Reason: x.Reason}
	}
	pre := []engine.Processor{
		engine.IgnoreAnnotations{},
		engine.ConfigFilter{Disabled: o.disabled, Severities: o.severity, Exemptions: exemptions},
	}
	raws, suppressed := engine.Pipeline(raws, pre...)
	if o.Policy.WriteBaseline != "" {
		// Every fingerprint, before dedupe: the duplicates dedupe would
		// drop are different findings and must stay suppressed too.
		kept, _ := engine.Pipeline(append([]engine.Raw(nil), raws...), engine.Sort{})
		if err := baseline.WriteFile(o.Policy.WriteBaseline, engine.Findings(kept)); err != nil {
			return &ExitError{Code: ExitCodeError, Err: err}
		}
	}
	raws, n := engine.Pipeline(raws, engine.Baseline{Fingerprints: o.baseline}, engine.MinSeverity{Min: o.minSev}, engine.Dedupe{}, engine.Sort{})
	suppressed += n

	res := &finding.Result{
		ToolName:    "kubectl-secure",
		ToolVersion: version,
		Findings:    engine.Findings(raws),
		Rules:       o.activeRuleInfos(),
		Summary: finding.Summary{
			Files:      len(loaded.Files),
			Objects:    objects,
			Skipped:    len(loaded.Skipped),
			Suppressed: suppressed,
			Errors:     inputErrs,
			FailOn:     o.failOn,
		},
	}
	res.CountBySeverity()
	res.Summary.Elapsed = o.now().Sub(start)

	for _, e := range inputErrs {
		fmt.Fprintln(o.ErrOut, e.Error())
	}
	if o.Output.Verbose {
		for _, s := range loaded.Skipped {
			fmt.Fprintf(o.ErrOut, "%s:%d: skipped document %d: %s\n", s.File, s.Line, s.Doc+1, s.Reason)
		}
	}
	if err := o.writeReport(res); err != nil {
		return &ExitError{Code: ExitCodeError, Err: err}
	}
	switch {
	case len(inputErrs) > 0:
		return &ExitError{Code: ExitCodeError, Err: fmt.Errorf("%d input error(s)", len(inputErrs)), quiet: true}
	case o.Policy.WriteBaseline != "":
		return nil
	case !o.failNever && res.Failing(o.failOn):
		return &ExitError{Code: ExitCodeFindings}
	}
	return nil
}

func (o *LintOptions) activeRuleInfos() []finding.RuleInfo {
	var out []finding.RuleInfo
	if o.Verify.Enabled && !o.disabled[ImageSignatureRuleID] {
		out = append(out, imageSignatureInfo)
	}
	for _, r := range o.registry.Rules() {
		if !o.disabled[r.ID] {
			info := r.RuleInfo
			if s, ok := o.severity[r.ID]; ok {
				info.Severity = s
			}
			out = append(out, info)
		}
	}
	return out
}

func (o *LintOptions) writeReport(res *finding.Result) error {
	opts := report.Options{Verbose: o.Output.Verbose}
	var w io.Writer = o.Out
	var file *os.File
	if o.Output.OutputFile != "" {
		f, err := os.Create(o.Output.OutputFile)
		if err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
		file = f
		bw := bufio.NewWriterSize(f, 64<<10)
		defer bw.Flush()
		w = bw
	} else {
		opts.ErrorsShownElsewhere = true
		switch o.Output.Color {
		case "always":
			opts.Color = true
		case "auto":
			if f, ok := o.Out.(*os.File); ok {
				opts.Color = report.ColorEnabled(f, o.getenv)
			}
		}
	}
	if err := report.Write(w, o.Output.Format, res, opts); err != nil {
		return fmt.Errorf("writing %s report: %w", o.Output.Format, err)
	}
	if file != nil {
		if err := w.(*bufio.Writer).Flush(); err != nil {
			file.Close()
			return fmt.Errorf("writing report %s: %w", o.Output.OutputFile, err)
		}
		if err := file.Close(); err != nil {
			return fmt.Errorf("writing report %s: %w", o.Output.OutputFile, err)
		}
	}
	return nil
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

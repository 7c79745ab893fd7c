package pipeline

import (
	"fmt"
	"path/filepath"

	"github.com/kubectl-secure/kubectl-secure/internal/baseline"
	"github.com/kubectl-secure/kubectl-secure/internal/config"
	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// PolicyInput is what the user asked for, from flags; the config file
// fills what the flags leave empty. Every front door has the same knobs.
type PolicyInput struct {
	// FailOn is low, medium, high, critical or none; "" means the
	// config's failOn, else high.
	FailOn string
	// MinSeverity is the lowest severity reported; "" means low.
	MinSeverity string
	// Baseline names a baseline file whose fingerprints are suppressed.
	Baseline string
	// KubernetesVersion is the target version; "" means the config's,
	// else the newest known.
	KubernetesVersion string
	Disable, Enable   []string
	// ExtraRules document rules whose findings come from the source
	// rather than the engine (a cluster's running images): they can be
	// disabled, enabled and configured like any other.
	ExtraRules []finding.RuleInfo
	// ConfigOnlyRules are rules of the other front doors (scan's running
	// images, for lint): one config file serves every command, so it may
	// disable, enable or grade them, though this run does not have them.
	ConfigOnlyRules []finding.RuleInfo
}

// Policy is a validated, ready-to-run PolicyInput: the registry, what
// runs, at which severity, what fails.
type Policy struct {
	Config   *config.File
	Registry *engine.Registry
	Settings engine.Settings
	Disabled map[string]bool
	Severity map[string]finding.Severity
	Baseline map[string]bool
	// Extra documents the source's own rules (PolicyInput.ExtraRules).
	Extra     []finding.RuleInfo
	MinSev    finding.Severity
	FailOn    finding.Severity
	FailNever bool
}

// UsageError is a policy the user must correct (exit 2 with the message).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// LoadConfig reads the config file: path if given, else the first of
// config.FileNames in dir or a parent; none found is an empty config.
// Unknown rule IDs in it (neither in reg nor extra) are usage errors.
func LoadConfig(path, dir string, reg *engine.Registry, extra ...finding.RuleInfo) (*config.File, error) {
	if path == "" {
		path = config.Find(dir)
	}
	if path == "" {
		return &config.File{}, nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	if err := cfg.CheckRuleIDs(knownRule(reg, extra...)); err != nil {
		return nil, &UsageError{Err: err}
	}
	return cfg, nil
}

// NewRegistry is the registry of every built-in rule.
func NewRegistry() (*engine.Registry, error) {
	reg, err := rules.NewRegistry()
	if err != nil {
		return nil, fmt.Errorf("building rule registry: %w", err)
	}
	return reg, nil
}

func knownRule(reg *engine.Registry, extra ...finding.RuleInfo) func(string) bool {
	return func(id string) bool {
		_, ok := reg.Get(id)
		for _, r := range extra {
			ok = ok || r.ID == id
		}
		return ok || id == ImageSignatureRuleID
	}
}

// NewPolicy validates in against cfg (nil means no config file).
func NewPolicy(reg *engine.Registry, cfg *config.File, in PolicyInput) (*Policy, error) {
	if cfg == nil {
		cfg = &config.File{}
	}
	p := &Policy{Config: cfg, Registry: reg, Extra: in.ExtraRules}
	failOn := in.FailOn
	if failOn == "" {
		failOn = cfg.FailOn
	}
	if failOn == "" {
		failOn = "high"
	}
	if failOn == "none" {
		p.FailNever = true
	} else {
		s, err := finding.ParseSeverity(failOn)
		if err != nil {
			return nil, usagef("--fail-on: %v", err)
		}
		p.FailOn = s
	}
	minSev := in.MinSeverity
	if minSev == "" {
		minSev = "low"
	}
	s, err := finding.ParseSeverity(minSev)
	if err != nil {
		return nil, usagef("--min-severity: %v", err)
	}
	p.MinSev = s

	known := knownRule(reg, in.ExtraRules...)
	inConfig := knownRule(reg, append(append([]finding.RuleInfo{}, in.ExtraRules...), in.ConfigOnlyRules...)...)
	p.Disabled = map[string]bool{}
	for _, id := range cfg.Rules.Disable {
		if !inConfig(id) {
			return nil, usagef("%s: rules.disable: unknown rule %q (see 'kubectl secure rules')", cfg.Path, id)
		}
		p.Disabled[id] = true
	}
	for _, id := range in.Disable {
		if !known(id) {
			return nil, usagef("--disable: unknown rule %q (see 'kubectl secure rules')", id)
		}
		p.Disabled[id] = true
	}
	if len(cfg.Rules.Enable) > 0 || len(in.Enable) > 0 {
		on := map[string]bool{}
		for _, id := range cfg.Rules.Enable {
			if !inConfig(id) {
				return nil, usagef("%s: rules.enable: unknown rule %q (see 'kubectl secure rules')", cfg.Path, id)
			}
			on[id] = true
		}
		for _, id := range in.Enable {
			if !known(id) {
				return nil, usagef("--enable: unknown rule %q (see 'kubectl secure rules')", id)
			}
			on[id] = true
		}
		for _, r := range reg.Rules() {
			if !on[r.ID] {
				p.Disabled[r.ID] = true
			}
		}
		if !on[ImageSignatureRuleID] {
			p.Disabled[ImageSignatureRuleID] = true
		}
		for _, r := range in.ExtraRules {
			if !on[r.ID] {
				p.Disabled[r.ID] = true
			}
		}
	}
	p.Severity = map[string]finding.Severity{}
	for id, sv := range cfg.Rules.Severity {
		p.Severity[id], _ = finding.ParseSeverity(sv)
	}
	kv := in.KubernetesVersion
	if kv == "" {
		kv = cfg.KubernetesVersion
	}
	if kv != "" {
		if _, _, err := config.ParseKubernetesVersion(kv); err != nil {
			return nil, usagef("--kubernetes-version: %v", err)
		}
	}
	p.Settings = engine.Settings{
		KubernetesVersion:     kv,
		AllowedRegistries:     cfg.Images.AllowedRegistries,
		SensitiveHostPaths:    cfg.SensitiveHostPaths,
		DangerousCapabilities: cfg.DangerousCapabilities,
	}
	if in.Baseline != "" {
		b, err := baseline.Load(in.Baseline)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		p.Baseline = b
	}
	return p, nil
}

// exemptions converts the config's exemptions for the engine.
func (p *Policy) exemptions() []engine.Exemption {
	out := make([]engine.Exemption, len(p.Config.Exemptions))
	for i, x := range p.Config.Exemptions {
		out[i] = engine.Exemption{Rule: x.Rule, Namespace: x.Namespace, Kind: x.Kind, Name: x.Name, Reason: x.Reason}
	}
	return out
}

// configDir is where relative paths in the config file are resolved.
func (p *Policy) configDir() string { return filepath.Dir(p.Config.Path) }

// RuleInfos documents every rule that runs, with configured severities.
func (p *Policy) RuleInfos(verifyImages bool) []finding.RuleInfo {
	var out []finding.RuleInfo
	if verifyImages && !p.Disabled[ImageSignatureRuleID] {
		out = append(out, ImageSignatureInfo)
	}
	for _, info := range p.Extra {
		if !p.Disabled[info.ID] {
			if s, ok := p.Severity[info.ID]; ok {
				info.Severity = s
			}
			out = append(out, info)
		}
	}
	for _, r := range p.Registry.Rules() {
		if !p.Disabled[r.ID] {
			info := r.RuleInfo
			if s, ok := p.Severity[r.ID]; ok {
				info.Severity = s
			}
			out = append(out, info)
		}
	}
	return out
}

// Failing reports whether res should fail the run (exit 1).
func (p *Policy) Failing(res *finding.Result) bool {
	return !p.FailNever && res.Failing(p.FailOn)
}

package pipeline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/baseline"
	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Source yields the objects of a run: files and renders for lint, a
// cluster for scan. Load hands each object to visit as soon as it is
// ready (visit is safe for concurrent use), so the engine checks it while
// it is hot; objects that were never visited are checked after Load
// returns. Load reports what it read, what it skipped and what failed.
type Source interface {
	Load(ctx context.Context, visit func(*manifest.Object)) *manifest.Result
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, visit func(*manifest.Object)) *manifest.Result

// Load implements Source.
func (f SourceFunc) Load(ctx context.Context, visit func(*manifest.Object)) *manifest.Result {
	return f(ctx, visit)
}

// Options are the parts of a run beyond the policy.
type Options struct {
	// Verify, when set, verifies image signatures (needs an
	// imageVerification policy in the config).
	Verify *VerifyOptions
	// WriteBaseline, when set, records every finding (after ignore
	// annotations and config, before the baseline) in this file.
	WriteBaseline string
	// ToolVersion is reported in the result.
	ToolVersion string
	// Now is the clock (tests inject one); nil means time.Now.
	Now func() time.Time
	// PodSecurity builds the Pod Security readiness table
	// (Result.PodSecurity): per namespace, the level enforced, the
	// strictest one its pods satisfy and what blocks the next.
	PodSecurity bool
}

// Outcome is a finished run.
type Outcome struct {
	Result *finding.Result
	// Skipped lists documents that were not Kubernetes objects.
	Skipped []manifest.Skipped
	// Files lists the files read.
	Files []string
	// WroteBaseline is set when Options.WriteBaseline was written.
	WroteBaseline bool
}

// Run takes src through the engine and the processors. An error is a
// runtime failure of the run itself (a baseline that cannot be written, a
// verification policy that does not compile); input problems are
// Result.Summary.Errors and the rest of the input is still checked.
func Run(ctx context.Context, src Source, p *Policy, opt Options) (*Outcome, error) {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	verify := opt.Verify != nil && !p.Disabled[ImageSignatureRuleID]
	if verify {
		if err := p.CheckVerify(); err != nil {
			return nil, err
		}
	}
	disabled := p.Disabled
	var psa *podSecurityTable
	if opt.PodSecurity {
		psa = newPodSecurityTable(&p.Settings)
		disabled = psa.engineDisabled(src, disabled)
	}
	eng := &engine.Engine{Registry: p.Registry, Settings: p.Settings, Disabled: disabled}
	collector := eng.NewCollector()
	visit := collector.Visit
	images := &imageCollector{uses: map[*manifest.Object][]imageUse{}}
	if verify {
		visit = func(obj *manifest.Object) {
			images.visit(obj)
			collector.Visit(obj)
		}
	}
	if psa != nil {
		visit = psa.observe(src, visit)
	}
	loaded := src.Load(ctx, visit)
	var podSecurity []finding.PodSecurityNamespace
	if psa != nil {
		podSecurity = psa.finish(loaded.Objects)
	}
	var edges Edges
	if es, ok := src.(EdgeSource); ok {
		if e := es.Edges(); e != nil {
			edges = *e
		}
	}
	var imageUses []imageUse
	if verify && edges.Images != nil {
		for _, r := range edges.Images {
			imageUses = append(imageUses, imageUse{obj: r.Object, ref: r.Ref, path: r.Path, loc: r.Object.Locate(r.Path), container: r.Container})
		}
	} else if verify {
		imageUses = images.of(loaded.Objects)
	}
	raws, ruleErrs := collector.Finish(loaded.Objects)
	raws = append(raws, edges.Findings...)
	if psa != nil {
		raws = append(raws, psa.raws(p, podSecurity)...)
	}
	inputErrs := append(loaded.Errors, ruleErrs...)
	objects := len(loaded.Objects) + edges.Uncounted
	// From here on only the findings matter: let the objects go before
	// the result is built (they are most of the memory left).
	loaded.Objects = nil
	if verify {
		imgRaws, err := p.verifyImages(ctx, opt.Verify, imageUses)
		if err != nil {
			return nil, err
		}
		raws = append(raws, imgRaws...)
	}
	slices.SortStableFunc(inputErrs, func(a, b finding.InputError) int {
		if c := finding.CompareString(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})

	raws, suppressed := engine.Pipeline(raws,
		engine.IgnoreAnnotations{},
		engine.ConfigFilter{Disabled: p.Disabled, Severities: p.Severity, Exemptions: p.exemptions()},
	)
	out := &Outcome{Skipped: loaded.Skipped, Files: loaded.Files}
	if opt.WriteBaseline != "" {
		// Every fingerprint, before dedupe: the duplicates dedupe would
		// drop are different findings and must stay suppressed too.
		kept, _ := engine.Pipeline(append([]engine.Raw(nil), raws...), engine.Sort{})
		if err := baseline.WriteFile(opt.WriteBaseline, engine.Findings(kept)); err != nil {
			return nil, fmt.Errorf("writing baseline: %w", err)
		}
		out.WroteBaseline = true
	}
	raws, n := engine.Pipeline(raws, engine.Baseline{Fingerprints: p.Baseline}, engine.MinSeverity{Min: p.MinSev}, engine.Dedupe{}, engine.Sort{})
	suppressed += n

	res := &finding.Result{
		ToolName:    "kubectl-secure",
		ToolVersion: opt.ToolVersion,
		Findings:    engine.Findings(raws),
		Rules:       p.RuleInfos(verify),
		Summary: finding.Summary{
			Files:        len(loaded.Files),
			Objects:      objects,
			Skipped:      len(loaded.Skipped),
			Suppressed:   suppressed,
			Errors:       inputErrs,
			NotEvaluated: edges.NotEvaluated,
			FailOn:       p.FailOn,
		},
		PodSecurity: podSecurity,
	}
	if edges.Decorate != nil {
		for i := range res.Findings {
			edges.Decorate(&res.Findings[i])
		}
	}
	res.CountBySeverity()
	res.Summary.Elapsed = now().Sub(start)
	out.Result = res
	return out, nil
}

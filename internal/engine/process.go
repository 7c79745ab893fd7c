package engine

import (
	"cmp"
	"path"
	"slices"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Annotations users put on objects to silence rules.
const (
	IgnoreAnnotation       = "kubectl-secure.io/ignore"
	IgnoreReasonAnnotation = "kubectl-secure.io/ignore-reason"
)

// Exemption silences a rule for objects matching globs. Empty globs match
// everything; Rule "*" matches every rule.
type Exemption struct {
	Rule      string
	Namespace string
	Kind      string
	Name      string
	Reason    string
}

// Matches reports whether the exemption covers a finding of rule ruleID
// about obj.
func (x Exemption) Matches(ruleID string, obj finding.ObjectRef) bool {
	return glob(x.Rule, ruleID) && glob(x.Namespace, obj.Namespace) &&
		glob(x.Kind, obj.Kind) && glob(x.Name, obj.Name)
}

func glob(pattern, s string) bool {
	if pattern == "" || pattern == "*" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// Processor transforms the findings of a run; it returns the findings kept
// and how many it suppressed.
type Processor interface {
	Name() string
	Process(in []Raw) (out []Raw, suppressed int)
}

// Pipeline applies processors in order. The canonical order is
// ignore annotations → config → baseline → severity → dedupe → sort.
func Pipeline(raws []Raw, procs ...Processor) ([]Raw, int) {
	total := 0
	for _, p := range procs {
		var n int
		raws, n = p.Process(raws)
		total += n
	}
	return raws, total
}

// Findings builds the report form of raws.
func Findings(raws []Raw) []finding.Finding {
	out := make([]finding.Finding, len(raws))
	for i := range raws {
		out[i] = raws[i].Finding()
	}
	return out
}

// filter keeps matching findings in place: processors own their input.
func filter(in []Raw, keep func(*Raw) bool) ([]Raw, int) {
	out := in[:0]
	for i := range in {
		if keep(&in[i]) {
			out = append(out, in[i])
		}
	}
	return out, len(in) - len(out)
}

// IgnoreAnnotations drops findings whose object lists the rule (or "*",
// "all") in the kubectl-secure.io/ignore annotation.
type IgnoreAnnotations struct{}

// Name implements Processor.
func (IgnoreAnnotations) Name() string { return "ignore-annotations" }

// Process implements Processor.
func (IgnoreAnnotations) Process(in []Raw) ([]Raw, int) {
	return filter(in, func(r *Raw) bool { return !Ignores(r.Obj, r.Rule.ID) })
}

// Ignores reports whether o's kubectl-secure.io/ignore annotation lists
// ruleID (or "*", "all"). Set-level rules that speak for several objects
// in one finding (a namespace's workloads) use it to leave out the objects
// that opted out, so that one object's annotation never silences others.
func Ignores(o *manifest.Object, ruleID string) bool {
	if o == nil {
		return false
	}
	v, ok := o.Annotations[IgnoreAnnotation]
	if !ok {
		return false
	}
	for _, id := range strings.Split(v, ",") {
		id = strings.TrimSpace(id)
		if id == ruleID || id == "*" || id == "all" {
			return true
		}
	}
	return false
}

// ConfigFilter applies the config file: disabled rules, exemptions and
// severity overrides.
type ConfigFilter struct {
	Disabled   map[string]bool
	Severities map[string]finding.Severity
	Exemptions []Exemption
}

// Name implements Processor.
func (ConfigFilter) Name() string { return "config" }

// Process implements Processor.
func (c ConfigFilter) Process(in []Raw) ([]Raw, int) {
	out, n := filter(in, func(r *Raw) bool {
		if c.Disabled[r.Rule.ID] {
			return false
		}
		for i := range c.Exemptions {
			if c.Exemptions[i].Matches(r.Rule.ID, r.Ref()) {
				return false
			}
		}
		return true
	})
	for i := range out {
		if s, ok := c.Severities[out[i].Rule.ID]; ok {
			out[i].Severity = s
		}
	}
	return out, n
}

// Baseline drops findings whose fingerprint is recorded.
type Baseline struct{ Fingerprints map[string]bool }

// Name implements Processor.
func (Baseline) Name() string { return "baseline" }

// Process implements Processor.
func (b Baseline) Process(in []Raw) ([]Raw, int) {
	if len(b.Fingerprints) == 0 {
		return in, 0
	}
	return filter(in, func(r *Raw) bool { return !b.Fingerprints[r.Fingerprint()] })
}

// MinSeverity drops findings below a threshold. Findings below it are not
// counted as suppressed: they were asked not to be shown.
type MinSeverity struct{ Min finding.Severity }

// Name implements Processor.
func (MinSeverity) Name() string { return "severity" }

// Process implements Processor.
func (m MinSeverity) Process(in []Raw) ([]Raw, int) {
	out, _ := filter(in, func(r *Raw) bool { return r.Severity >= m.Min })
	return out, 0
}

// Dedupe drops the copies of a finding that several overlays of one base
// report: the same rule on the same field (rule, source position,
// container, path; and message for set-level findings) of objects rendered
// by different renders (Origin). Findings about different objects of one
// render are never merged, even at one source position: a Helm range that
// stamps out two Deployments from one template, a kustomize images:
// override applied to several workloads, or a packaged chart whose
// positions all collapse onto one line each report every object.
type Dedupe struct{}

// Name implements Processor.
func (Dedupe) Name() string { return "dedupe" }

// Process implements Processor. It sorts first (the Sort that follows
// then finds its work done): duplicates share file, line and column, so
// they fall into one short run of neighbours, and are found without a map
// over every finding. Of a group of findings with one key, the render
// (Origin) reporting the most distinct objects is kept — one finding per
// object — and the other renders' findings are its overlay copies.
func (Dedupe) Process(in []Raw) ([]Raw, int) {
	Sort{}.Process(in)
	out := in[:0]
	for i := 0; i < len(in); {
		j := i + 1
		for j < len(in) && in[j].Line == in[i].Line && in[j].Column == in[i].Column && in[j].File == in[i].File {
			j++
		}
		if j-i == 1 {
			out = append(out, in[i])
			i = j
			continue
		}
		keep := dedupeRun(in[i:j])
		for k := i; k < j; k++ {
			if keep[k-i] {
				out = append(out, in[k])
			}
		}
		i = j
	}
	return out, 0
}

// dedupeRun decides which of the findings at one position to keep.
func dedupeRun(run []Raw) []bool {
	// An origin's findings of a group, each an object's field: the same
	// field of another object, or of one object at another index (a Helm
	// range writing several env entries from one line), is another.
	type field struct {
		obj  objectKey
		path string
	}
	type origin struct {
		name string
		objs []field
	}
	type group struct {
		key     dedupeKey
		origins []origin
	}
	// Runs are short (a few rules on one line) but for set-level findings
	// about many namespaces: a map only then.
	var groups []*group
	var byKey map[dedupeKey]*group
	if len(run) > 32 {
		byKey = make(map[dedupeKey]*group, len(run))
	}
	find := func(key dedupeKey) *group {
		if byKey != nil {
			if g := byKey[key]; g != nil {
				return g
			}
		} else if gi := slices.IndexFunc(groups, func(g *group) bool { return g.key == key }); gi >= 0 {
			return groups[gi]
		}
		g := &group{key: key}
		groups = append(groups, g)
		if byKey != nil {
			byKey[key] = g
		}
		return g
	}
	keep := make([]bool, len(run))
	first := make([]bool, len(run)) // first finding of its object in its origin
	for k := range run {
		g := find(keyOf(&run[k]))
		on := run[k].origin()
		oi := slices.IndexFunc(g.origins, func(o origin) bool { return o.name == on })
		if oi < 0 {
			g.origins = append(g.origins, origin{name: on})
			oi = len(g.origins) - 1
		}
		ok := field{run[k].objectKey(), run[k].Path}
		if !slices.Contains(g.origins[oi].objs, ok) {
			g.origins[oi].objs = append(g.origins[oi].objs, ok)
			first[k] = true
		}
	}
	for k := range run {
		if !first[k] {
			continue
		}
		g := find(keyOf(&run[k]))
		best := 0
		for oi := range g.origins {
			if len(g.origins[oi].objs) > len(g.origins[best].objs) {
				best = oi
			}
		}
		keep[k] = g.origins[best].name == run[k].origin()
	}
	return keep
}

// dedupeKey is what makes two findings at one position the same field.
// The message counts only for set-level findings: a per-object message
// names the object, which differs between overlays (namePrefix) while the
// line to fix is one. The path is without list indices: an overlay that
// adds an env entry before the base's moves env[0] to env[1], and the
// line to fix is still one.
type dedupeKey struct {
	rule, container, path, msg string
	setLevel                   bool
}

func keyOf(r *Raw) dedupeKey {
	k := dedupeKey{rule: r.Rule.ID, container: r.Container, path: withoutIndices(r.Path), setLevel: r.setLevel}
	if r.setLevel {
		k.msg = r.Message
	}
	return k
}

// withoutIndices drops the [N] of a path: spec.containers[0].env[1].x →
// spec.containers[].env[].x.
func withoutIndices(p string) string {
	if !strings.Contains(p, "[") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	skip := false
	for _, c := range p {
		switch {
		case c == '[':
			skip = true
			b.WriteRune(c)
		case c == ']':
			skip = false
			b.WriteRune(c)
		case !skip:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// objectKey is the identity of the object a finding is about.
type objectKey struct{ kind, namespace, name string }

func (r *Raw) objectKey() objectKey {
	if r.Obj == nil {
		return objectKey{}
	}
	return objectKey{r.Obj.Kind, r.Obj.Namespace, r.Obj.Name}
}

// origin is the render that produced r's object ("" for plain YAML).
func (r *Raw) origin() string {
	if r.Obj == nil {
		return ""
	}
	return r.Obj.Origin
}

// Sort orders findings as reports print them (finding.Compare).
type Sort struct{}

// Name implements Processor.
func (Sort) Name() string { return "sort" }

// Process implements Processor.
func (Sort) Process(in []Raw) ([]Raw, int) {
	// An unstable sort is deterministic here: findings that compare
	// equal agree on rule, object, path and message, so they are the same.
	slices.SortFunc(in, func(a, b Raw) int { return Compare(&a, &b) })
	return in, 0
}

// Compare orders raws exactly as finding.Compare orders their findings,
// without building them.
func Compare(a, b *Raw) int {
	if a.File != b.File {
		return strings.Compare(a.File, b.File)
	}
	if c := cmp.Compare(a.Line, b.Line); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Column, b.Column); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
		return c
	}
	if c := finding.CompareString(a.Rule.ID, b.Rule.ID); c != 0 {
		return c
	}
	if a.Obj != b.Obj {
		ra, rb := a.Ref(), b.Ref()
		for _, p := range [...][2]string{{ra.Kind, rb.Kind}, {ra.Namespace, rb.Namespace}, {ra.Name, rb.Name}} {
			if c := finding.CompareString(p[0], p[1]); c != 0 {
				return c
			}
		}
	}
	for _, p := range [...][2]string{{a.Container, b.Container}, {a.Path, b.Path}, {a.Message, b.Message}} {
		if c := finding.CompareString(p[0], p[1]); c != 0 {
			return c
		}
	}
	return 0
}

package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"unique"
	"unsafe"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Raw is a finding still attached to its object, as processors see it.
// It is compact — a large run holds 100,000 of them — and shares what
// findings of one rule or object have in common by pointer: the rule's ID
// and remediation, the object's identity and origin. Finding() builds the
// report form.
type Raw struct {
	Obj     *manifest.Object
	Rule    *finding.RuleInfo
	Message string
	// File is where the finding points, which for rendered objects is
	// the user's source file rather than the object's.
	File            string
	Container, Path string
	// fingerprint is the hash behind finding.Fingerprint, unencoded.
	fingerprint                      [16]byte
	Line, Column, EndLine, EndColumn int32
	Severity                         finding.Severity
	// setLevel: reported by a set-level rule, about the set (a namespace,
	// a binding) rather than one field of one object.
	setLevel bool
}

// RuleID is the ID of the rule that reported r.
func (r *Raw) RuleID() string { return r.Rule.ID }

// Ref is the identity of the object r is about.
func (r *Raw) Ref() finding.ObjectRef {
	if r.Obj == nil {
		return finding.ObjectRef{}
	}
	return r.Obj.Ref()
}

// Location is where r points.
func (r *Raw) Location() finding.Location {
	return finding.Location{File: r.File, Line: int(r.Line), Column: int(r.Column), EndLine: int(r.EndLine), EndColumn: int(r.EndColumn)}
}

// Fingerprint is r's stable identity (finding.Fingerprint).
func (r *Raw) Fingerprint() string { return hex.EncodeToString(r.fingerprint[:]) }

// SetLocation points r at loc.
func (r *Raw) SetLocation(loc finding.Location) {
	r.File = loc.File
	r.Line, r.Column, r.EndLine, r.EndColumn = int32(loc.Line), int32(loc.Column), int32(loc.EndLine), int32(loc.EndColumn)
}

// Finding is r in the form reports print.
func (r *Raw) Finding() finding.Finding {
	f := finding.Finding{
		RuleID:      r.Rule.ID,
		Severity:    r.Severity,
		Message:     r.Message,
		Location:    r.Location(),
		Object:      r.Ref(),
		Container:   r.Container,
		Path:        r.Path,
		Remediation: r.Rule.Remediation,
		Fingerprint: r.Fingerprint(),
	}
	if r.Obj != nil {
		f.Origin = r.Obj.Origin
	}
	return f
}

// NewRaw is a finding of rule on object o at path p, for reporters
// outside the rule engine (image verification).
func NewRaw(rule *finding.RuleInfo, o *manifest.Object, p manifest.Path, loc finding.Location, container, msg string) Raw {
	r := Raw{Obj: o, Rule: rule, Message: msg, Container: intern(container), Path: pathString(p), Severity: rule.Severity}
	r.SetLocation(loc)
	r.fingerprint = fingerprint(rule.ID, o.Ref(), p)
	return r
}

// Context is what a per-object check sees.
type Context struct {
	rule     *Rule
	obj      *manifest.Object
	settings *Settings
	cache    *objectCache
	out      []Raw
}

// Settings returns the run's settings.
func (c *Context) Settings() *Settings { return c.settings }

// Workload returns the pod template of the object, decoded once, or nil
// when the object carries none. A decode error is reported by the engine.
func (c *Context) Workload() *Workload { return c.cache.workload(c.obj) }

// Report records a finding at the field p (or its nearest existing
// ancestor when the field is missing).
func (c *Context) Report(p manifest.Path, msg string) {
	c.out = append(c.out, newRaw(c.rule, c.obj, p, msg))
}

// ReportSeverity is Report for a finding graded other than the rule's
// default severity: rules whose risk depends on what they find (a literal
// credential or a configuration file in a Secret) document the grades in
// their rationale.
func (c *Context) ReportSeverity(p manifest.Path, sev finding.Severity, msg string) {
	r := newRaw(c.rule, c.obj, p, msg)
	r.Severity = sev
	c.out = append(c.out, r)
}

// Reportf is Report with formatting.
func (c *Context) Reportf(p manifest.Path, format string, args ...any) {
	c.Report(p, fmt.Sprintf(format, args...))
}

// SetContext is what a set-level check sees.
type SetContext struct {
	rule     *Rule
	settings *Settings
	caches   map[*manifest.Object]*objectCache
	out      []Raw
}

// Settings returns the run's settings.
func (c *SetContext) Settings() *Settings { return c.settings }

// RuleID is the ID of the rule being run.
func (c *SetContext) RuleID() string { return c.rule.ID }

// Workload returns the decoded pod template of o, or nil. Unless the rule
// sets NeedsWorkloads it is slim (see slimWorkload): name, namespace and
// labels, and pod-level fields (service account and token automount, host
// namespaces, pod security context, …) with their positions, but no
// containers, volumes or annotations.
func (c *SetContext) Workload(o *manifest.Object) *Workload {
	oc := c.caches[o]
	if oc == nil {
		oc = &objectCache{}
		c.caches[o] = oc
	}
	return oc.workload(o)
}

// Report records a finding on object o at field p.
func (c *SetContext) Report(o *manifest.Object, p manifest.Path, msg string) {
	r := newRaw(c.rule, o, p, msg)
	r.setLevel = true
	c.out = append(c.out, r)
}

// ReportSeverity is Report for a finding graded other than the rule's
// default severity (see Context.ReportSeverity).
func (c *SetContext) ReportSeverity(o *manifest.Object, p manifest.Path, sev finding.Severity, msg string) {
	r := newRaw(c.rule, o, p, msg)
	r.setLevel = true
	r.Severity = sev
	c.out = append(c.out, r)
}

// Reportf is Report with formatting.
func (c *SetContext) Reportf(o *manifest.Object, p manifest.Path, format string, args ...any) {
	c.Report(o, p, fmt.Sprintf(format, args...))
}

func newRaw(rule *Rule, o *manifest.Object, p manifest.Path, msg string) Raw {
	if ex, ok := o.Locator.(manifest.Explainer); ok {
		if note := ex.Explain(p); note != "" {
			msg += " (" + note + ")"
		}
	}
	r := Raw{
		Obj:       o,
		Rule:      &rule.RuleInfo,
		Message:   msg,
		Container: intern(containerName(p)),
		Path:      pathString(p),
		Severity:  rule.Severity,
	}
	r.SetLocation(o.Locate(p))
	r.fingerprint = fingerprint(rule.ID, o.Ref(), p)
	return r
}

// intern returns the canonical copy of s. Findings repeat the same few
// paths and container names across objects (142 distinct paths for 113,000
// findings on the benchmark corpus); sharing one copy keeps them small. It also copies strings that may share a decoder's buffer
// (item names in paths are decoded container names): a finding outlives
// the decoded pod spec and must not keep it alive. The canonical copies are
// weakly held by the runtime, so nothing grows without bound.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// appendPath appends p rendered as manifest.Path.String (identity false)
// or manifest.Path.Identity (identity true) does.
func appendPath(b []byte, p manifest.Path, identity bool) []byte {
	for i, e := range p {
		if e.Index >= 0 {
			b = append(b, '[')
			if identity && e.Name != "" {
				b = append(b, e.Name...)
			} else {
				b = strconv.AppendInt(b, int64(e.Index), 10)
			}
			b = append(b, ']')
			continue
		}
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, e.Key...)
	}
	return b
}

// pathString is p.String(), interned: it is rendered on the stack and
// only allocated when no finding holds that path yet.
func pathString(p manifest.Path) string {
	var buf [256]byte
	b := appendPath(buf[:0], p, false)
	if len(b) == 0 {
		return ""
	}
	return unique.Make(unsafe.String(&b[0], len(b))).Value()
}

// fingerprint is the hash finding.Fingerprint(ruleID, ref, p.Identity())
// encodes, without the intermediate strings: the same sha256 input (each
// part followed by a NUL byte) from one stack buffer, of which the
// fingerprint keeps 16 bytes (32 hex digits).
func fingerprint(ruleID string, ref finding.ObjectRef, p manifest.Path) [16]byte {
	var buf [512]byte
	b := buf[:0]
	for _, s := range [...]string{ruleID, ref.Kind, ref.Namespace, ref.Name} {
		b = append(b, s...)
		b = append(b, 0)
	}
	b = appendPath(b, p, true)
	b = append(b, 0)
	sum := sha256.Sum256(b)
	return [16]byte(sum[:16])
}

// containerName returns the name of the container a path points into.
func containerName(p manifest.Path) string {
	for i := 0; i+1 < len(p); i++ {
		switch p[i].Key {
		case "containers", "initContainers", "ephemeralContainers":
			if p[i+1].Index >= 0 {
				return p[i+1].Name
			}
		}
	}
	return ""
}

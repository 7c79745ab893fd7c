package fix

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

// kind is the YAML type of a fixable field.
type kind int

const (
	boolKind kind = iota
	// enumKind is a Kubernetes enum string (Always, RuntimeDefault, …).
	enumKind
)

// fix is the fix data of one rule at one field: the rule's finding at a
// path ending in suffix is fixed by setting the field to a value. It is
// rule metadata kept here while the rule files are busy; it could become
// an optional field of engine.Rule.
type fix struct {
	rule string
	// suffix is the end of the finding's path with sequence indices
	// written as []: "securityContext.privileged", "volumeMounts[].readOnly".
	suffix string
	kind   kind
	// to is the value that fixes the finding; choose, when set, picks it
	// per finding instead.
	to     string
	choose func(f finding.Finding) string
	// absentFixes: the rule is satisfied when the field is absent, so a
	// Helm condition that writes it ({{ if .Values.hostNetwork }}) can
	// be turned off instead.
	absentFixes bool
	// safe, when set, says whether the fix is safe for this finding;
	// where it is not, no edit is offered (a one-click change that breaks
	// the workload is no fix).
	safe func(f finding.Finding) bool
}

// table is every one-line fix, one row per rule and field.
var table = []fix{
	{rule: "privileged-container", suffix: "securityContext.privileged", kind: boolKind, to: "false", absentFixes: true},
	{rule: "allow-privilege-escalation", suffix: "securityContext.allowPrivilegeEscalation", kind: boolKind, to: "false"},
	{rule: "readonly-root-filesystem", suffix: "securityContext.readOnlyRootFilesystem", kind: boolKind, to: "true"},
	{rule: "run-as-non-root", suffix: "securityContext.runAsNonRoot", kind: boolKind, to: "true"},
	{rule: "host-network", suffix: "spec.hostNetwork", kind: boolKind, to: "false", absentFixes: true},
	{rule: "host-pid", suffix: "spec.hostPID", kind: boolKind, to: "false", absentFixes: true},
	{rule: "host-ipc", suffix: "spec.hostIPC", kind: boolKind, to: "false", absentFixes: true},
	{rule: "host-pid-ptrace", suffix: "spec.hostPID", kind: boolKind, to: "false", absentFixes: true},
	// Only where the account has no binding: a pod whose token carries
	// permissions may be calling the API (a controller), and turning the
	// token off would break it; that needs a person, not a suggestion.
	{rule: "automount-service-account-token", suffix: "spec.automountServiceAccountToken", kind: boolKind, to: "false",
		safe: func(f finding.Finding) bool { return strings.Contains(f.Message, rules.NoRoleBinding) }},
	{rule: "windows-host-process", suffix: "windowsOptions.hostProcess", kind: boolKind, to: "false", absentFixes: true},
	{rule: "host-path-writable", suffix: "volumeMounts[].readOnly", kind: boolKind, to: "true"},
	{rule: "proc-mount-unmasked", suffix: "securityContext.procMount", kind: enumKind, to: "Default"},
	{rule: "proc-mount-restricted", suffix: "securityContext.procMount", kind: enumKind, to: "Default"},
	{rule: "seccomp-unconfined", suffix: "seccompProfile.type", kind: enumKind, to: "RuntimeDefault"},
	{rule: "apparmor-unconfined", suffix: "appArmorProfile.type", kind: enumKind, to: "RuntimeDefault"},
	{rule: "image-pull-policy", suffix: "imagePullPolicy", kind: enumKind, choose: pullPolicy},
}

// Fixable is one row of the fix table, as docs/fix.md shows it.
type Fixable struct {
	// Rule is the rule ID, Field the path suffix rewritten ([] for any
	// sequence item), Value what is written (Markdown).
	Rule, Field, Value string
}

// Rules lists the rules with a one-line fix and what each writes.
func Rules() []Fixable {
	out := make([]Fixable, 0, len(table))
	for _, fx := range table {
		v := "`" + fx.to + "`"
		if fx.choose != nil {
			v = "`IfNotPresent` for an image pinned by digest or version tag, else `Always`"
		}
		out = append(out, Fixable{Rule: fx.rule, Field: fx.suffix, Value: v})
	}
	return out
}

var indexRE = regexp.MustCompile(`\[[^\]]*\]`)

// lookup finds the fix of rule at path.
func lookup(rule, path string) (fix, bool) {
	p := indexRE.ReplaceAllString(path, "[]")
	for _, fx := range table {
		if fx.rule == rule && (p == fx.suffix || strings.HasSuffix(p, "."+fx.suffix)) {
			return fx, true
		}
	}
	return fix{}, false
}

// key is the mapping key the fix rewrites: the last element of suffix.
func (fx fix) key() string {
	k := fx.suffix[strings.LastIndexByte(fx.suffix, '.')+1:]
	return strings.TrimSuffix(k, "[]")
}

func (fx fix) value(f finding.Finding) string {
	if fx.choose != nil {
		return fx.choose(f)
	}
	return fx.to
}

// neverImage finds the image in image-pull-policy's message about Never.
var neverImage = regexp.MustCompile(`cached copy of ("(?:[^"\\]|\\.)*")`)

// pullPolicy follows image-pull-policy's remediation: a pinned image keeps
// IfNotPresent, a floating one needs Always. The rule flags IfNotPresent
// only for floating images; for Never its message names the image.
func pullPolicy(f finding.Finding) string {
	m := neverImage.FindStringSubmatch(f.Message)
	if m == nil {
		return "Always"
	}
	img, err := strconv.Unquote(m[1])
	if err != nil {
		return "Always"
	}
	_, tag, digest := rules.SplitImage(img)
	if digest != "" || tag != "" && tag != "latest" {
		return "IfNotPresent"
	}
	return "Always"
}

package fix

import (
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// valuesRef is the values key a Helm field came from and the values file
// that set it. cond means the key is only the condition the field is
// written under ({{ if .Values.hostNetwork }}hostNetwork: true).
type valuesRef struct {
	key  []string
	path manifest.Path
	file string
	cond bool
}

// valuesNote reads the values source the Helm locator notes in a
// finding's message (finding.ParseValuesNote).
func valuesNote(msg string) (valuesRef, bool) {
	v, ok := finding.ParseValuesNote(msg)
	if !ok {
		return valuesRef{}, false
	}
	return valuesRef{key: splitDotted(v.Key), path: manifest.ParsePath(v.Key), file: v.File, cond: v.Condition}, true
}

var dottedIndex = regexp.MustCompile(`\[(\d+)\]`)

// splitDotted splits "a.b[2].c" into a, b, 2, c.
func splitDotted(s string) []string {
	return strings.Split(dottedIndex.ReplaceAllString(s, ".$1"), ".")
}

// valuesEdit rewrites the values file line that sets ref.key.
func valuesEdit(f finding.Finding, ref valuesRef, fx fix, to string, read func(string) ([]byte, error)) (Edit, error) {
	last := ref.key[len(ref.key)-1]
	if !onDisk(ref.file) || !(strings.HasSuffix(ref.file, ".yaml") || strings.HasSuffix(ref.file, ".yml")) {
		return Edit{}, refuse("the value comes from %s, not a values file on disk", ref.file)
	}
	// The note's key is relative to the chart whose template wrote the
	// field. In a subchart's own values.yaml that is where it is; in a
	// parent's or the user's file it sits below the subchart's name (or
	// alias), which the note does not say: leave those alone.
	dir, ok := chartDir(f.Location.File)
	if !ok {
		return Edit{}, refuse("%s is not a chart template", f.Location.File)
	}
	if path.Base(path.Dir(dir)) == "charts" && !sameFile(ref.file, path.Join(dir, "values.yaml")) {
		return Edit{}, refuse("the subchart value comes from %s, where its key is not known", ref.file)
	}
	src, err := read(ref.file)
	if err != nil {
		return Edit{}, refuse("reading %s: %v", ref.file, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return Edit{}, refuse("parsing %s: %v", ref.file, err)
	}
	key, cur := manifest.Lookup(&doc, ref.path)
	if cur == nil {
		return Edit{}, refuse("%s has no %s", ref.file, strings.Join(ref.key, "."))
	}
	if key == nil || cur.Kind != yaml.ScalarNode || cur.Line != key.Line {
		return Edit{}, refuse("%s in %s is not a scalar on the key's line", strings.Join(ref.key, "."), ref.file)
	}
	lines := splitLines(src)
	if key.Line > len(lines) {
		return Edit{}, refuse("%s has no line %d", ref.file, key.Line)
	}
	line := lines[key.Line-1].text
	nl, err := rewrite(line, byteOffset(line, key.Column), last, fx.kind, to)
	if err != nil {
		return Edit{}, err
	}
	return Edit{File: ref.file, Line: key.Line, Old: line, New: nl, RuleID: f.RuleID, Fingerprint: f.Fingerprint}, nil
}

// checkJSONOp accepts a "value:" key at line ln, byte offset at, of a
// JSON 6902 patch only when its operation adds or replaces a path ending
// in field. It reads the operation's sibling keys from the text, so that a
// patch inlined in a kustomization's block scalar is read alike.
func checkJSONOp(lines []srcLine, ln, at int, field string) error {
	op := map[string]string{}
	// sibling classifies line i: an entry of the same mapping (first
	// marks the item's "- " line), a line below it (nested, blank or a
	// comment), or the end of the mapping.
	sibling := func(i int) (same, first, end bool) {
		t := lines[i].text
		if strings.TrimSpace(t) == "" || strings.HasPrefix(strings.TrimSpace(t), "#") {
			return false, false, false
		}
		if len(t) <= at {
			return false, false, true
		}
		switch pre := strings.TrimSpace(t[:at]); {
		case pre == "" && t[at] == ' ':
			return false, false, false
		case pre == "":
			return true, false, false
		case pre == "-":
			return true, true, false
		}
		return false, false, true
	}
	record := func(i int) {
		if e, err := parseEntry(lines[i].text, at, ""); err == nil {
			op[e.key] = e.value
		}
	}
	if _, first, _ := sibling(ln - 1); !first {
		for i := ln - 2; i >= 0; i-- {
			same, first, end := sibling(i)
			if end {
				break
			}
			if same {
				record(i)
			}
			if first {
				break
			}
		}
	}
	for i := ln; i < len(lines); i++ {
		same, first, end := sibling(i)
		if end || first {
			break
		}
		if same {
			record(i)
		}
	}
	kind, path := op["op"], op["path"]
	if kind != "add" && kind != "replace" || !strings.HasSuffix(path, "/"+field) {
		return refuse("the JSON patch operation %q %q does not set %s", kind, path, field)
	}
	return nil
}

// chartDir returns the chart directory of a template's display path
// ("web/charts/cache/templates/x.yaml" → "web/charts/cache"; "." for a
// chart linted from inside).
func chartDir(tmpl string) (string, bool) {
	segs := strings.Split(tmpl, "/")
	for i := len(segs) - 2; i >= 0; i-- {
		if segs[i] == "templates" {
			if i == 0 {
				return ".", true
			}
			return strings.Join(segs[:i], "/"), true
		}
	}
	return "", false
}

package finding

import "strings"

// ValuesSource is where a field of a Helm-rendered object came from: the
// values key and the values file (or flag) that set it. Condition means
// the key is only the condition the field is written under
// ({{ if .Values.hostNetwork }}hostNetwork: true{{ end }}): not where the
// value comes from, but still the line a change must touch.
//
// The renderer appends it to the finding's message as a note, and the
// consumers (one-line fixes, the Action's review) read it back with
// ParseValuesNote: the format is defined here, once.
type ValuesSource struct {
	// Key is dotted, with indices: securityContext.privileged, env[0].value.
	Key string
	// File is the values file as displayed (chart/values.yaml), or the
	// flag that set the key (--set).
	File      string
	Condition bool
}

const conditionPrefix = "written under the condition "

// Note renders v for a message: "securityContext.privileged from
// values.yaml" or "written under the condition hostNetwork (set in
// values.yaml)".
func (v ValuesSource) Note() string {
	if v.Condition {
		return conditionPrefix + v.Key + " (set in " + v.File + ")"
	}
	return v.Key + " from " + v.File
}

// ParseValuesNote finds the values source among the notes that end a
// finding's message: "… (note; note)", where the notes are joined with
// "; " and one may be a ValuesSource's Note.
func ParseValuesNote(msg string) (ValuesSource, bool) {
	note, ok := lastGroup(msg)
	if !ok {
		return ValuesSource{}, false
	}
	for _, part := range strings.Split(note, "; ") {
		if rest, ok := strings.CutPrefix(part, conditionPrefix); ok {
			k, file, ok := strings.Cut(rest, " (set in ")
			if ok && k != "" && strings.HasSuffix(file, ")") && len(file) > 1 {
				return ValuesSource{Key: k, File: strings.TrimSuffix(file, ")"), Condition: true}, true
			}
			continue
		}
		k, file, ok := strings.Cut(part, " from ")
		if !ok || k == "" || file == "" || strings.Contains(k, " ") {
			continue
		}
		return ValuesSource{Key: k, File: file}, true
	}
	return ValuesSource{}, false
}

// lastGroup returns the text inside the balanced parentheses that end s.
func lastGroup(s string) (string, bool) {
	if !strings.HasSuffix(s, ")") {
		return "", false
	}
	depth := 0
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				return s[i+1 : len(s)-1], true
			}
		}
	}
	return "", false
}

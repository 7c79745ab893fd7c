// Package fix turns findings into one-line source edits: the data behind
// `kubectl secure lint --fix` and the GitHub Action's suggestion blocks.
//
// A finding is fixable when one scalar on one line of a file on disk sets
// the field the rule objects to (privileged: true, imagePullPolicy: Never,
// …). The edit rewrites only that scalar: indentation, quotes, flow style
// and comments stay as written. Everything else (a missing field, a value
// written by a template expression, a block scalar, stdin, a cluster) is
// left to the user.
package fix

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Edit replaces one whole line of a source file (1-based Line; Old is the
// current line without its newline, New the replacement, indentation and
// trailing comment kept).
//
// File and Line are usually the finding's location. When a Helm template
// line emits the value from a values file (the finding's message names
// "key from file"), the edit is on that values file's line instead; a
// review can suggest it only where it comments that line.
type Edit struct {
	File        string
	Line        int
	Old, New    string
	RuleID      string
	Fingerprint string
}

// For returns the one-line edit that fixes f, reading the file through
// read; ok is false when no one-line change fixes it (the field is absent,
// comes from a template expression that can't be rewritten safely, spans
// lines, …).
func For(f finding.Finding, read func(path string) ([]byte, error)) (Edit, bool) {
	e, err := explain(f, read)
	return e, err == nil
}

// errNoFix marks every reason For refuses; tests read the reasons.
var errNoFix = errors.New("no one-line fix")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errNoFix}, args...)...)
}

// explain is For with the reason it refused. A fix that the source
// allows may still be unsafe for the finding (it would break the
// workload): that is checked last, so the other reasons come first.
func explain(f finding.Finding, read func(string) ([]byte, error)) (Edit, error) {
	e, err := edit(f, read)
	if err != nil {
		return Edit{}, err
	}
	if fx, _ := lookup(f.RuleID, f.Path); fx.safe != nil && !fx.safe(f) {
		return Edit{}, refuse("the fix of %s is not safe for this finding", f.RuleID)
	}
	return e, nil
}

// edit finds the one-line edit of f's source.
func edit(f finding.Finding, read func(string) ([]byte, error)) (Edit, error) {
	fx, ok := lookup(f.RuleID, f.Path)
	if !ok {
		return Edit{}, refuse("rule %s at %q has no fix data", f.RuleID, f.Path)
	}
	file := f.Location.File
	if !onDisk(file) {
		return Edit{}, refuse("%q is not a file on disk", file)
	}
	if f.Location.Line < 1 || f.Location.Column < 1 {
		return Edit{}, refuse("no position")
	}
	src, err := read(file)
	if err != nil {
		return Edit{}, refuse("reading %s: %v", file, err)
	}
	lines := splitLines(src)
	if f.Location.Line > len(lines) {
		return Edit{}, refuse("%s has no line %d", file, f.Location.Line)
	}
	to := fx.value(f)
	fieldKey := fx.key()
	line := lines[f.Location.Line-1].text
	at := byteOffset(line, f.Location.Column)
	key := fieldKey
	if strings.HasPrefix(f.Origin, "helm ") {
		if ref, ok := valuesNote(f.Message); ok {
			last := ref.key[len(ref.key)-1]
			if ref.cond && !(fx.absentFixes && last == fieldKey) {
				// Turning the condition off fixes the finding only when
				// the field's absence is safe, and a key of another name
				// (debug: true) may steer more than this field.
				return Edit{}, refuse("the field is written under the condition %s", strings.Join(ref.key, "."))
			}
			if !sameFile(ref.file, file) {
				// The value comes from a values file: change it there,
				// never the template.
				return valuesEdit(f, ref, fx, to, read)
			}
			// Already on the values line (the Action reviews Helm
			// findings there): the key is the values key.
			key = last
		}
	}
	if strings.HasPrefix(f.Origin, "kustomize ") && lineKey(line, at) == "value" {
		// A JSON 6902 operation: "value:" sets the field its "path:" names.
		if err := checkJSONOp(lines, f.Location.Line, at, fieldKey); err != nil {
			return Edit{}, err
		}
		key = "value"
	}
	nl, err := rewrite(line, at, key, fx.kind, to)
	if err != nil {
		return Edit{}, fmt.Errorf("%s:%d: %w", file, f.Location.Line, err)
	}
	return Edit{File: file, Line: f.Location.Line, Old: line, New: nl, RuleID: f.RuleID, Fingerprint: f.Fingerprint}, nil
}

// String renders the edit as lint --fix prints it, the key and the values
// around the arrow: "values.yaml:16: privileged: true → false".
func (e Edit) String() string {
	key, from, to := e.change()
	if key != "" {
		key += ": "
	}
	return fmt.Sprintf("%s:%d: %s%s → %s", e.File, e.Line, key, from, to)
}

// change finds the value token that differs between Old and New, and the
// key before it.
func (e Edit) change() (key, from, to string) {
	o, n := e.Old, e.New
	p := 0
	for p < len(o) && p < len(n) && o[p] == n[p] {
		p++
	}
	for p > 0 && !strings.ContainsRune(" \t{[,:", rune(o[p-1])) {
		p--
	}
	from, to = token(o[p:]), token(n[p:])
	before := strings.TrimRight(o[:p], " \t")
	if strings.HasSuffix(before, ":") {
		before = strings.TrimSuffix(before, ":")
		key = before[strings.LastIndexAny(before, " \t{,")+1:]
	}
	return key, from, to
}

// token is the scalar s starts with.
func token(s string) string {
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		if _, end, ok := scanQuoted(s, 0); ok {
			return s[:end]
		}
	}
	end := len(s)
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(",}]", s[i]) >= 0 || s[i] == '#' && i > 0 && isSpace(s[i-1]) {
			end = i
			break
		}
	}
	return strings.TrimSpace(s[:end])
}

// At reports whether e rewrites the line loc points at, so that a review
// comment there can carry it as a suggestion (an edit that follows a Helm
// value into its values file is elsewhere).
func (e Edit) At(loc finding.Location) bool { return e.File == loc.File && e.Line == loc.Line }

// Cached wraps read so that each file is read once: For reads the file of
// every finding, and findings crowd into few files.
func Cached(read func(path string) ([]byte, error)) func(path string) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	var mu sync.Mutex
	seen := map[string]result{}
	return func(p string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if r, ok := seen[p]; ok {
			return r.b, r.err
		}
		b, err := read(p)
		seen[p] = result{b, err}
		return b, err
	}
}

// Suggestion is the body of a GitHub suggestion block that applies e to
// the commented line (the caller wraps it in ```suggestion fences).
func Suggestion(e Edit) string { return e.New + "\n" }

// sameFile reports whether a values note's file (as lint displayed it,
// possibly absolute) is the finding's file (possibly made relative to a
// repository).
func sameFile(note, file string) bool {
	note, file = path.Clean(filepath.ToSlash(note)), path.Clean(filepath.ToSlash(file))
	return note == file || strings.HasSuffix(note, "/"+file)
}

// onDisk reports whether a finding's file names a file rather than
// standard input, a cluster object or a URL.
func onDisk(file string) bool {
	return file != "" && file != manifest.StdinName && !strings.Contains(file, "://") && !strings.HasPrefix(file, "<")
}

// byteOffset converts a 1-based column in runes to a byte offset in line.
func byteOffset(line string, col int) int {
	off := 0
	for i := 1; i < col && off < len(line); i++ {
		_, w := utf8.DecodeRuneInString(line[off:])
		off += w
	}
	return off
}

// srcLine is one line of a file: its text without the line ending, and
// the ending ("\n", "\r\n" or "" on the last line).
type srcLine struct{ text, eol string }

// splitLines cuts src into lines, keeping each line's ending so that a
// rewrite leaves CRLF files CRLF. A UTF-8 byte order mark stays in front
// of line 1's text.
func splitLines(src []byte) []srcLine {
	var out []srcLine
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			out = append(out, srcLine{text: string(src)})
			break
		}
		t, eol := src[:i], "\n"
		if len(t) > 0 && t[len(t)-1] == '\r' {
			t, eol = t[:len(t)-1], "\r\n"
		}
		out = append(out, srcLine{text: string(t), eol: eol})
		src = src[i+1:]
	}
	return out
}

// joinLines is splitLines' inverse.
func joinLines(lines []srcLine) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l.text)
		b.WriteString(l.eol)
	}
	return b.Bytes()
}

package render

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Helm template is text, not YAML: it cannot be parsed as YAML before
// rendering. tmplFile keeps a line outline of it instead (the YAML keys
// written literally, their indentation, and the template actions that emit
// YAML) so that a rendered field can be traced to the line that wrote it.

// emitKind is how a template action produces output.
type emitKind int

const (
	emitNone    emitKind = iota
	emitToYaml           // toYaml X: a whole block from values
	emitInclude          // include/template "name": a block from a helper
	emitTpl              // tpl: text rendered from values
	emitValue            // any other output mentioning .Values
	emitOther            // output not from values (.Chart.Name, ...)
)

// action is one {{ ... }} that produces output.
type action struct {
	kind   emitKind
	col    int // 0-based column of "{{"
	end    int // 0-based column after "}}" (on the action's first line)
	indent int // the nindent/indent argument, or -1
	// values is the values path the action reads (nil when unknown);
	// define is the helper an include calls.
	values []string
	define string
	// also lists the other values paths the action reads ("printf
	// \"%s:%s\" .Values.image.repository .Values.image.tag").
	also [][]string
}

// tline is one line of a template.
type tline struct {
	no      int // 1-based
	text    string
	indent  int  // columns of leading spaces
	item    bool // starts a sequence item ("- ")
	itemCol int
	key     string // literal mapping key, "" if none
	keyCol  int    // 0-based column of the key
	inline  bool   // the key has a value on the same line
	// actionOnly lines hold nothing but template actions and blanks.
	actionOnly bool
	actions    []action
	// conds are the values paths of the enclosing if/with conditions,
	// innermost last.
	conds [][]string
	// rangeOver is the values path the innermost enclosing range
	// iterates, nil when none or not a values key.
	rangeOver []string
	// inRange: the line is inside a range, so it may be written many
	// times.
	inRange bool
	// rangeLine is the line (0-based) the innermost range opens at.
	rangeLine int
	// separator is a "---" document marker.
	separator bool
	// inDefine names the helper the line belongs to ("" at top level).
	inDefine string
	// inAction marks a line continuing a multi-line action or comment.
	inAction bool
}

// defineBody is where a named template's body is written.
type defineBody struct {
	file   *tmplFile
	lo, hi int // line indexes [lo, hi) of the body
}

// tmplFile is the outline of one template file.
type tmplFile struct {
	name    string // template name inside its chart ("templates/x.yaml")
	full    string // Helm's full name ("web/charts/cache/templates/x.yaml")
	file    string // absolute path on disk ("" inside an archive)
	display string
	lines   []tline
	defines map[string][2]int
}

var (
	actionRe  = regexp.MustCompile(`(?s)\{\{(.*?)\}\}`)
	valuesRe  = regexp.MustCompile(`\$?\.Values((?:\.[A-Za-z0-9_\-]+)*)`)
	indentRe  = regexp.MustCompile(`\bn?indent\s+(\d+)`)
	keyRe     = regexp.MustCompile(`^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{\[\]&*!|>%@` + "`" + `-][^#]*?|-[^\s#][^#]*?)\s*:(\s|$)`)
	defNameRe = regexp.MustCompile(`^(?:define|block|include|template)\s+"([^"]+)"`)
)

// valuesPath parses the .Values path an expression starts with: ".Values.a.b"
// gives [a b]; "." and ".x" resolve against dot (the values path "." is
// bound to by an enclosing with), nil when unknown.
func valuesPath(expr string, dot []string, dotKnown bool) []string {
	expr = strings.TrimSpace(expr)
	expr = strings.TrimLeft(expr, "(")
	if m := valuesRe.FindStringSubmatchIndex(expr); m != nil && m[0] == 0 {
		s := expr[m[2]:m[3]]
		if s == "" {
			return []string{}
		}
		return strings.Split(strings.TrimPrefix(s, "."), ".")
	}
	if !dotKnown || !strings.HasPrefix(expr, ".") {
		return nil
	}
	f := strings.FieldsFunc(expr, func(r rune) bool { return r == ' ' || r == '|' || r == ')' || r == '\t' })
	if len(f) == 0 {
		return nil
	}
	first := f[0]
	if first == "." {
		return append([]string{}, dot...)
	}
	out := append([]string{}, dot...)
	for _, s := range strings.Split(strings.TrimPrefix(first, "."), ".") {
		if s == "" {
			return nil
		}
		out = append(out, s)
	}
	return out
}

// frame is an open if/with/range/define block while scanning actions.
type frame struct {
	kind     string
	line     int      // where the block opens (0-based)
	values   []string // the values path the block's expression reads
	dot      []string // what "." is inside (with)
	dotKnown bool
	define   string
}

// parseTemplate builds the outline of a template.
func parseTemplate(name, file, display, text string) *tmplFile {
	tf := &tmplFile{name: name, file: file, display: display, defines: map[string][2]int{}}
	raw := strings.Split(text, "\n")
	tf.lines = make([]tline, len(raw))
	for i, l := range raw {
		l = strings.TrimRight(l, "\r")
		tf.lines[i] = tline{no: i + 1, text: l}
	}
	// Line starts, to map action offsets to lines.
	starts := make([]int, len(raw))
	off := 0
	for i, l := range raw {
		starts[i] = off
		off += len(l) + 1
	}
	lineOf := func(o int) int {
		lo, hi := 0, len(starts)-1
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if starts[mid] <= o {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		return lo
	}

	var stack []frame
	defineStart := map[string]int{}
	snapshot := func(l *tline) {
		l.conds, l.rangeOver, l.inRange, l.rangeLine = nil, nil, false, -1
		for _, f := range stack {
			if (f.kind == "if" || f.kind == "with") && f.values != nil {
				l.conds = append(l.conds, f.values)
			}
			if f.kind == "range" {
				l.rangeOver, l.inRange, l.rangeLine = f.values, true, f.line
			}
			if f.kind == "define" {
				l.inDefine = f.define
			}
		}
	}
	// Snapshots are taken line by line as the scan passes them.
	next := 0
	advance := func(upTo int) {
		for ; next <= upTo && next < len(tf.lines); next++ {
			snapshot(&tf.lines[next])
		}
	}
	dotOf := func() ([]string, bool) {
		for i := len(stack) - 1; i >= 0; i-- {
			switch stack[i].kind {
			case "with":
				return stack[i].dot, stack[i].dotKnown
			case "range", "define", "block":
				return nil, false
			}
		}
		return []string{}, false // top level: "." is the root context
	}
	for _, m := range actionRe.FindAllStringSubmatchIndex(text, -1) {
		ln := lineOf(m[0])
		for j := ln + 1; j <= lineOf(m[1]-1) && j < len(tf.lines); j++ {
			tf.lines[j].inAction = true
		}
		advance(ln - 1)
		inner := strings.TrimSpace(strings.Trim(strings.TrimSpace(text[m[2]:m[3]]), "-"))
		word := inner
		if i := strings.IndexAny(inner, " \t\n("); i >= 0 {
			word = inner[:i]
		}
		rest := strings.TrimSpace(strings.TrimPrefix(inner, word))
		dot, dotKnown := dotOf()
		switch {
		case strings.HasPrefix(inner, "/*"):
			continue
		case word == "if" || word == "with" || word == "range":
			expr := rest
			if _, e, ok := strings.Cut(rest, ":="); ok && word == "range" {
				expr = e // range $k, $v := .Values.x
			}
			f := frame{kind: word, line: ln, values: valuesPath(expr, dot, dotKnown)}
			if word == "with" {
				f.dot, f.dotKnown = f.values, f.values != nil
			}
			stack = append(stack, f)
			advance(ln)
			continue
		case word == "define" || word == "block":
			n := ""
			if mm := defNameRe.FindStringSubmatch(inner); mm != nil {
				n = mm[1]
			}
			stack = append(stack, frame{kind: word, define: n})
			defineStart[n] = lineOf(m[1]) + 1
			if word == "block" {
				// block also emits where it stands.
				tf.addAction(ln, m[0]-starts[ln], m[1]-starts[ln], action{kind: emitInclude, define: n, indent: -1})
			}
			advance(ln)
			continue
		case word == "end":
			advance(ln)
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if top.kind == "define" || top.kind == "block" {
					if s, ok := defineStart[top.define]; ok {
						tf.defines[top.define] = [2]int{s, ln}
					}
				}
			}
			continue
		case word == "else":
			// The else branch is written when the condition is false: it
			// is not under it. "else if X" / "else with X" open a branch
			// under X, read with the dot outside the block.
			advance(ln)
			if n := len(stack); n > 0 {
				stack = stack[:n-1]
				odot, oknown := dotOf()
				f := frame{kind: "if"}
				if w, expr, ok := strings.Cut(rest, " "); ok && (w == "if" || w == "with") {
					f.values = valuesPath(strings.TrimSpace(expr), odot, oknown)
					if w == "with" {
						f.kind, f.dot, f.dotKnown = "with", f.values, f.values != nil
					}
				}
				stack = append(stack, f)
			}
			continue
		case strings.HasPrefix(word, "$") && (strings.Contains(inner, ":=") || strings.Contains(inner, " = ")):
			continue
		}
		a := action{kind: emitOther, indent: -1}
		if mm := indentRe.FindStringSubmatch(inner); mm != nil {
			a.indent, _ = strconv.Atoi(mm[1])
		}
		switch {
		case word == "include" || word == "template":
			a.kind = emitInclude
			if mm := defNameRe.FindStringSubmatch(inner); mm != nil {
				a.define = mm[1]
			}
		case strings.Contains(inner, "toYaml") || strings.Contains(inner, "toJson"):
			a.kind = emitToYaml
			i := strings.Index(inner, "toYaml")
			if i < 0 {
				i = strings.Index(inner, "toJson")
			}
			a.values = valuesPath(inner[i+6:], dot, dotKnown)
		case word == "tpl":
			a.kind = emitTpl
			a.values = valuesPath(rest, dot, dotKnown)
		case strings.Contains(inner, ".Values"):
			a.kind = emitValue
			a.values = valuesPath(inner[strings.Index(inner, "$.Values")+1:], dot, dotKnown)
			if strings.Index(inner, "$.Values") < 0 {
				a.values = valuesPath(inner[strings.Index(inner, ".Values"):], dot, dotKnown)
			}
			for _, mm := range valuesRe.FindAllStringSubmatch(inner, -1)[1:] {
				if mm[1] != "" {
					a.also = append(a.also, strings.Split(strings.TrimPrefix(mm[1], "."), "."))
				}
			}
		case (word == "." || strings.HasPrefix(word, ".")) && dotKnown:
			a.kind = emitValue
			a.values = valuesPath(word, dot, dotKnown)
		}
		tf.addAction(ln, m[0]-starts[ln], m[1]-starts[ln], a)
	}
	advance(len(tf.lines))
	for i := range tf.lines {
		tf.outline(&tf.lines[i])
	}
	return tf
}

func (tf *tmplFile) addAction(ln, col, end int, a action) {
	a.col = col
	a.end = end
	tf.lines[ln].actions = append(tf.lines[ln].actions, a)
}

// outline fills the structural fields of a line.
func (tf *tmplFile) outline(l *tline) {
	t := l.text
	trimmed := strings.TrimLeft(t, " ")
	l.indent = len(t) - len(trimmed)
	if l.inAction {
		l.actionOnly = true
		return
	}
	if strings.HasPrefix(trimmed, "---") && strings.TrimSpace(strings.TrimPrefix(trimmed, "---")) == "" && l.indent == 0 {
		l.separator = true
		return
	}
	stripped := actionRe.ReplaceAllString(t, "")
	// An action that goes on over the next lines ({{- include "x" (pick
	// ... ) | nindent 12 }}) ends this line.
	if i := strings.Index(stripped, "{{"); i >= 0 && !strings.Contains(stripped[i:], "}}") {
		stripped = stripped[:i]
	}
	if strings.TrimSpace(stripped) == "" {
		l.actionOnly = strings.Contains(t, "{{")
		// A line inside a multi-line action is neither.
		return
	}
	if strings.HasPrefix(strings.TrimSpace(stripped), "#") {
		return
	}
	rest := trimmed
	col := l.indent
	for strings.HasPrefix(rest, "- ") || rest == "-" {
		if !l.item {
			l.item, l.itemCol = true, col
		}
		n := len(rest)
		rest = strings.TrimLeft(strings.TrimPrefix(rest, "-"), " ")
		col += n - len(rest)
	}
	if strings.HasPrefix(rest, "{{") && l.item {
		return
	}
	if m := keyRe.FindStringSubmatch(rest); m != nil {
		k := m[1]
		if strings.Contains(k, "{{") {
			k = "" // templated key
		}
		if len(k) >= 2 && (k[0] == '"' || k[0] == '\'') {
			if uq, err := strconv.Unquote(k); err == nil && k[0] == '"' {
				k = uq
			} else {
				k = strings.ReplaceAll(k[1:len(k)-1], "''", "'")
			}
		}
		l.key, l.keyCol = k, col
		after := strings.TrimSpace(rest[len(m[0]):])
		l.inline = after != "" && !strings.HasPrefix(after, "#")
	}
}

// lineSpan is a found position: a line, a column span on it.
type lineSpan struct {
	line     *tline
	col, end int // 0-based, end exclusive
}

// keySpan spans a key line from its key to the end of its content.
func keySpan(l *tline) lineSpan {
	col := l.keyCol
	if l.key == "" && l.item {
		col = l.itemCol
	}
	end := len(strings.TrimRight(l.text, " \t"))
	if end <= col {
		end = col + 1
	}
	return lineSpan{line: l, col: col, end: end}
}

func runeCol(s string, byteCol int) int {
	if byteCol > len(s) {
		byteCol = len(s)
	}
	return utf8.RuneCountInString(s[:byteCol])
}

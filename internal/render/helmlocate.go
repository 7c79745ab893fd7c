package render

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// hit is where a rendered field was found in a template.
type hit struct {
	tf    *tmplFile
	span  lineSpan
	depth int
	// values is the values key the field came from, when known; cond
	// means it is only the condition the field is written under.
	values []string
	cond   bool
}

// structural reports whether a line writes YAML structure literally.
func (l *tline) structural() bool { return !l.separator && (l.key != "" || l.item) }

// startCol is the column a structural line starts its node at.
func (l *tline) startCol() int {
	if l.item {
		return l.itemCol
	}
	return l.keyCol
}

func (tf *tmplFile) firstLevel(lo, hi int) int {
	for j := lo; j < hi; j++ {
		if tf.lines[j].structural() {
			return tf.lines[j].startCol()
		}
	}
	return -1
}

func (tf *tmplFile) findKey(lo, hi, level int, key string) int {
	for j := lo; j < hi; j++ {
		l := &tf.lines[j]
		if l.key == key && l.keyCol == level && (!l.item || j == lo) {
			return j
		}
	}
	// A compact mapping may start on an item line of the block start.
	return -1
}

// blockEnd returns the end (exclusive) of the block a key line at li opens.
func (tf *tmplFile) blockEnd(li int) int {
	kc := tf.lines[li].keyCol
	compact := false
	for j := li + 1; j < len(tf.lines); j++ {
		l := &tf.lines[j]
		if l.separator {
			return j
		}
		if !l.structural() {
			continue
		}
		if l.indent > kc {
			continue
		}
		if l.item && l.itemCol == kc {
			if !compact {
				// Only a sequence right below the key may sit at its column.
				first := true
				for q := li + 1; q < j; q++ {
					if tf.lines[q].structural() {
						first = false
						break
					}
				}
				compact = first
			}
			if compact {
				continue
			}
		}
		return j
	}
	return len(tf.lines)
}

// itemEnd returns the end of the sequence item starting at it.
func (tf *tmplFile) itemEnd(it, hi int) int {
	ic := tf.lines[it].itemCol
	for j := it + 1; j < hi; j++ {
		l := &tf.lines[j]
		if l.separator {
			return j
		}
		if !l.structural() {
			continue
		}
		if l.indent <= ic {
			return j
		}
	}
	return hi
}

// itemName returns the literal name: of a sequence item, or "".
func (tf *tmplFile) itemName(it, end int) string {
	l := &tf.lines[it]
	for j := it; j < end; j++ {
		m := &tf.lines[j]
		if m.key == "name" && m.keyCol == l.keyCol && (j == it || !m.item) {
			v := strings.TrimSpace(m.text[m.keyCol+len("name"):])
			v = strings.TrimSpace(strings.TrimPrefix(v, ":"))
			if i := strings.Index(v, " #"); i >= 0 {
				v = strings.TrimSpace(v[:i]) // name: app  # the main container
			}
			if strings.Contains(v, "{{") {
				return ""
			}
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			}
			return strings.Trim(v, "'")
		}
	}
	return ""
}

// helmLocator maps paths of one rendered object to lines of its template.
type helmLocator struct {
	c        *chartRender
	ch       *chartInfo
	tf       *tmplFile
	lo, hi   int // the template lines of this object's document
	rendered *yaml.Node
	// trace says which template lines executed for document doc of the
	// rendered template out (nil when unknown).
	trace *execTrace
	out   string
	doc   int
}

// findKey finds the line writing key at level in [lo, hi) of tf: the
// first that executed for this document when the trace knows (the
// else-branch's key, not the if-branch's), else the first written.
func (l *helmLocator) findKey(tf *tmplFile, lo, hi, level int, key string) int {
	first := -1
	for j := lo; j < hi; j++ {
		ln := &tf.lines[j]
		if ln.key != key || ln.keyCol != level || (ln.item && j != lo) {
			continue
		}
		ran, known := l.trace.ran(l.out, l.doc, tf.full, j)
		if !known || ran {
			return j
		}
		if first < 0 {
			first = j
		}
	}
	return first
}

// executed keeps the lines that executed for this document, when the
// trace knows and at least one did; else it returns lines unchanged.
func (l *helmLocator) executed(tf *tmplFile, lines []int) []int {
	var out []int
	for _, j := range lines {
		ran, known := l.trace.ran(l.out, l.doc, tf.full, j)
		if !known {
			return lines
		}
		if ran {
			out = append(out, j)
		}
	}
	if len(out) == 0 {
		return lines
	}
	return out
}

// Locate implements manifest.Locator.
func (l *helmLocator) Locate(p manifest.Path) finding.Location {
	h := l.find(p)
	return l.location(h)
}

// Explain names the values key and the values file (or flag) a field came
// from, e.g. "securityContext.privileged from values-debug.yaml".
func (l *helmLocator) Explain(p manifest.Path) string {
	h := l.find(p)
	var parts []string
	if h.tf != nil && h.tf.file == "" && l.c.archive != "" {
		parts = append(parts, fmt.Sprintf("%s line %d of packaged chart %s", h.tf.name, h.span.line.no, l.c.archive))
	}
	if h.values != nil {
		if src := l.c.valuesSource(l.ch, h.values); src != "" {
			// With cond, not where the value comes from: why it is written.
			parts = append(parts, finding.ValuesSource{Key: dotted(h.values), File: src, Condition: h.cond}.Note())
		}
	}
	return strings.Join(parts, "; ")
}

func dotted(keys []string) string {
	var b strings.Builder
	for i, k := range keys {
		if _, err := strconv.Atoi(k); err == nil && i > 0 {
			b.WriteString("[" + k + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
	}
	return b.String()
}

func (l *helmLocator) location(h hit) finding.Location {
	if h.tf == nil || h.span.line == nil {
		return finding.Location{File: l.tf.display, Line: 1, Column: 1, EndLine: 1, EndColumn: 2}
	}
	if h.tf.file == "" {
		return finding.Location{File: l.c.archive, Line: 1, Column: 1, EndLine: 1, EndColumn: 2}
	}
	t := h.span.line.text
	return finding.Location{
		File:      h.tf.display,
		Line:      h.span.line.no,
		Column:    runeCol(t, h.span.col) + 1,
		EndLine:   h.span.line.no,
		EndColumn: runeCol(t, h.span.end) + 1,
	}
}

func (l *helmLocator) find(p manifest.Path) hit {
	start := hit{tf: l.tf}
	for j := l.lo; j < l.hi; j++ {
		if l.tf.lines[j].structural() {
			start.span = keySpan(&l.tf.lines[j])
			break
		}
	}
	if start.span.line == nil && l.lo < len(l.tf.lines) {
		start.span = lineSpan{line: &l.tf.lines[l.lo], col: 0, end: 1}
	}
	_, rdepth := manifest.Walk(l.rendered, p)
	h := l.search(l.tf, l.lo, l.hi, -1, p, 0, rdepth, start, 0)
	if h.values == nil && h.span.line != nil && h.depth == len(p) && len(p) > 0 {
		// A literal key: name the values behind its value — the one with
		// the highest precedence when several build it ("{{ .repo }}:{{
		// .tag }}" with --set tag=…) — or, failing that, the condition it
		// is written under.
		best := -2
		vals := l.c.chartValues(l.ch)
		for _, a := range h.span.line.actions {
			if a.col <= h.span.line.keyCol {
				continue
			}
			switch {
			case a.values != nil && (a.kind == emitValue || a.kind == emitTpl || a.kind == emitToYaml):
				// An empty value wrote nothing ("{{ .Values.global.registry
				// | default .Values.image.registry }}"): not the source.
				if v, _ := lookupValues(vals, a.values); v == nil || v == "" {
					continue
				}
				if r := l.c.sourceRank(l.ch, a.values); r > best {
					best, h.values = r, a.values
				}
			case a.kind == emitInclude && a.define != "" && h.values == nil:
				// The value comes from a helper: point at the helper's line
				// that reads the values.
				if hh, ok := l.helperValue(a.define); ok {
					return hh
				}
			}
		}
		// The other keys an action reads ("printf \"%s:%s\" .Values.repo
		// .Values.tag"), when one was set with a higher precedence.
		for _, a := range h.span.line.actions {
			if a.col <= h.span.line.keyCol || a.kind != emitValue {
				continue
			}
			for _, key := range a.also {
				if v, _ := lookupValues(vals, key); v == nil || v == "" {
					continue
				}
				if r := l.c.sourceRank(l.ch, key); r > best {
					best, h.values = r, key
				}
			}
		}
		if h.values == nil && h.span.line.rangeOver != nil {
			// Written by a range over values: the element that produced
			// the value, rather than a condition around the range.
			h.values = l.rangeElement(h.span.line.rangeOver, p)
		}
		if h.values == nil && len(h.span.line.conds) > 0 {
			h.values = h.span.line.conds[len(h.span.line.conds)-1]
			h.cond = true
		}
	}
	return h
}

// rangeElement names the element of the values map or list at r whose
// value the rendered scalar at p shows ("--token=abc" from extraArgs.token,
// "hunter2" from extraEnv[1].value): an element whose value is the whole
// scalar first, else one the scalar contains (with its key, for a map);
// r itself when none does.
func (l *helmLocator) rangeElement(r []string, p manifest.Path) []string {
	n, _ := manifest.Walk(l.rendered, p)
	if n == nil || n.Kind != yaml.ScalarNode {
		return r
	}
	v, _ := lookupValues(l.c.chartValues(l.ch), r)
	type elem struct {
		key string
		val any
	}
	var elems []elem
	switch t := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			elems = append(elems, elem{k, t[k]})
		}
	case []any:
		for i, e := range t {
			elems = append(elems, elem{strconv.Itoa(i), e})
		}
	default:
		return r
	}
	_, isMap := v.(map[string]any)
	var contained []string
	for _, e := range elems {
		fields := map[string]any{"": e.val}
		if m, ok := e.val.(map[string]any); ok {
			fields = m
		}
		for _, f := range slices.Sorted(maps.Keys(fields)) {
			fv := fields[f]
			if fv == nil {
				continue
			}
			switch fv.(type) {
			case map[string]any, []any:
				continue
			}
			s := fmt.Sprint(fv)
			path := append(append([]string{}, r...), e.key)
			if f != "" {
				path = append(path, f)
			}
			switch {
			case s == n.Value:
				return path
			case contained == nil && s != "" && strings.Contains(n.Value, s) && (!isMap || strings.Contains(n.Value, e.key)):
				contained = path
			}
		}
	}
	if contained != nil {
		return contained
	}
	return r
}

// helperValue finds, in the body of helper name, the value action with
// the highest-precedence source, and returns its position.
func (l *helmLocator) helperValue(name string) (hit, bool) {
	def, ok := l.c.defines[name]
	if !ok {
		return hit{}, false
	}
	var h hit
	best := -2
	// Lines that did not run are skipped, unless the trace saw none of
	// the helper's (included through fromYaml, which drops the markers).
	var body []int
	for j := def.lo; j < def.hi && j < len(def.file.lines); j++ {
		body = append(body, j)
	}
	ran := l.executed(def.file, body)
	unknown := len(ran) == len(body)
	if unknown {
		// The trace tells nothing: keep the lines whose conditions hold,
		// and only keys a values source sets (not one the chart sets
		// while rendering, as a cached generated certificate) to a value
		// that can have produced output (not "" behind a default).
		ran, best = l.condsHold(def.file, body), -1
	}
	vals := l.c.chartValues(l.ch)
	for _, j := range ran {
		line := &def.file.lines[j]
		for _, a := range line.actions {
			if a.values == nil || a.kind != emitValue {
				continue
			}
			keys := [][]string{a.values}
			if unknown {
				keys = append(keys, a.also...)
			}
			for _, key := range keys {
				if v, _ := lookupValues(vals, key); unknown && !isTrue(v) {
					continue
				}
				if r := l.c.sourceRank(l.ch, key); r > best {
					best = r
					h = hit{tf: def.file, span: lineSpan{line: line, col: a.col, end: a.end}, values: key}
				}
			}
		}
	}
	return h, h.span.line != nil
}

// isTrue is Go templates' truth, as if/with and default judge a value.
func isTrue(v any) bool {
	t, _ := template.IsTrue(v)
	return t
}

// condsHold keeps the lines whose enclosing if/with conditions on values
// keys are all true by Go template rules, as Helm evaluates them.
func (l *helmLocator) condsHold(tf *tmplFile, lines []int) []int {
	vals := l.c.chartValues(l.ch)
	var out []int
	for _, j := range lines {
		ok := true
		for _, c := range tf.lines[j].conds {
			if v, _ := lookupValues(vals, c); !isTrue(v) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, j)
		}
	}
	return out
}

const maxIncludeHops = 8

// search follows p from step k within lines [lo, hi) of tf whose direct
// children start at column level (-1: the first structural line's).
func (l *helmLocator) search(tf *tmplFile, lo, hi, level int, p manifest.Path, k, rdepth int, best hit, hops int) hit {
	for k < len(p) && k < rdepth {
		if level < 0 {
			level = tf.firstLevel(lo, hi)
		}
		e := p[k]
		if e.Index < 0 {
			li := -1
			if level >= 0 {
				li = l.findKey(tf, lo, hi, level, e.Key)
			}
			if li < 0 {
				break
			}
			line := &tf.lines[li]
			best = hit{tf: tf, span: keySpan(line), depth: k + 1}
			k++
			if line.inline {
				if k < len(p) && k < rdepth {
					if h, ok := l.fromActions(tf, line, p, k, rdepth, hops); ok {
						return h
					}
				}
				if k < len(p) {
					return best
				}
				break
			}
			lo, hi, level = li+1, tf.blockEnd(li), -1
			continue
		}
		var items []int
		for j := lo; j < hi; j++ {
			if tf.lines[j].item && tf.lines[j].itemCol == level && (len(items) == 0 || j != items[len(items)-1]) {
				items = append(items, j)
			}
		}
		if len(items) == 0 {
			break
		}
		// Items of branches that did not execute are not in the output:
		// counting them would put rules[2] on a skipped if-block's item.
		items = l.executed(tf, items)
		items = l.renderedItems(tf, items, hi, p[:k])
		name := e.Name
		if name == "" {
			if r, _ := manifest.Walk(l.rendered, p[:k+1]); r != nil && r.Kind == yaml.MappingNode {
				name = manifest.ScalarString(r, "name")
			}
		}
		pick := -1
		if name != "" {
			for _, it := range items {
				if tf.itemName(it, tf.itemEnd(it, hi)) == name {
					pick = it
					break
				}
			}
		}
		if pick < 0 {
			// The item may come from a toYaml after the literal items
			// (promtail: "- name: config", then toYaml .Values.defaultVolumes).
			if h, lit, ok := l.fromListEmitter(tf, lo, hi, level, items, p, k); ok {
				if h.span.line != nil {
					return h
				}
				pick = lit
			}
		}
		if pick < 0 {
			// More items rendered than literal ones executed: a helper or
			// toYaml wrote the rest (kyverno's flags after its literal args).
			if h, lit, ok := l.aroundItemEmitter(tf, lo, hi, level, items, p, k); ok {
				if h.span.line != nil {
					return h
				}
				pick = lit
			}
		}
		if pick < 0 {
			switch {
			case len(items) == 1:
				pick = items[0]
			case e.Index < len(items):
				pick = items[e.Index]
			default:
				pick = items[len(items)-1]
			}
		}
		it := &tf.lines[pick]
		best = hit{tf: tf, span: lineSpan{line: it, col: it.itemCol, end: len(strings.TrimRight(it.text, " "))}, depth: k + 1}
		k++
		end := tf.itemEnd(pick, hi)
		if it.key != "" {
			lo, hi, level = pick, end, it.keyCol
		} else {
			lo, hi, level = pick+1, end, -1
		}
	}
	if k >= len(p) || k >= rdepth {
		return best
	}
	// The next key is not written literally: look for the action that
	// emits it.
	if h, ok := l.fromEmitters(tf, lo, hi, level, p, k, rdepth, hops); ok {
		return h
	}
	return best
}

// fromListEmitter maps item p[k].Index of the sequence written in [lo, hi)
// at column level to what wrote it, counting in template order the
// executed literal items (one each) and the toYaml/tpl actions emitting
// values lists at that column (one per element; none when the list is
// empty, as its with/if then skips it). It returns the action's hit, or
// the literal item's line (lit, with an empty hit), and ok only when the
// count is the length of the rendered sequence: a range or helper that
// writes items makes it unknowable.
func (l *helmLocator) fromListEmitter(tf *tmplFile, lo, hi, level int, items []int, p manifest.Path, k int) (h hit, lit int, ok bool) {
	seq, _ := manifest.Walk(l.rendered, p[:k])
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return hit{}, 0, false
	}
	type seg struct {
		line *tline
		a    action
		lit  int // the literal item's line index, or -1
		n    int
	}
	var segs []seg
	next := 0
	vals := l.c.chartValues(l.ch)
	for j := lo; j < hi; j++ {
		if next < len(items) && items[next] == j {
			n := 1
			if tf.lines[j].inRange && tf.lines[j].rangeLine >= lo {
				// A range over values inside the sequence writes the item
				// once per element (a range around the whole object, once).
				if tf.lines[j].rangeOver == nil {
					return hit{}, 0, false
				}
				switch v, _ := lookupValues(vals, tf.lines[j].rangeOver); t := v.(type) {
				case []any:
					n = len(t)
				case map[string]any:
					n = len(t)
				case nil:
					n = 0
				default:
					return hit{}, 0, false
				}
			}
			segs = append(segs, seg{lit: j, n: n})
			next++
			continue
		}
		line := &tf.lines[j]
		if !line.actionOnly {
			continue
		}
		for _, a := range line.actions {
			if a.kind != emitToYaml && a.kind != emitTpl || a.values == nil || a.indent != level {
				continue
			}
			v, found := lookupValues(vals, a.values)
			list, isList := v.([]any)
			if found && v != nil && !isList {
				return hit{}, 0, false
			}
			segs = append(segs, seg{line: line, a: a, lit: -1, n: len(list)})
		}
	}
	total, emitters := 0, false
	for _, sg := range segs {
		total += sg.n
		emitters = emitters || sg.lit < 0
	}
	if !emitters || total != len(seq.Content) {
		return hit{}, 0, false
	}
	idx := p[k].Index
	for _, sg := range segs {
		if idx >= sg.n {
			idx -= sg.n
			continue
		}
		if sg.lit >= 0 {
			return hit{}, sg.lit, true
		}
		rest := append(manifest.Path{{Index: idx}}, p[k+1:]...)
		return hit{tf: tf, span: lineSpan{line: sg.line, col: sg.a.col, end: sg.a.end}, depth: len(p), values: joinValues(sg.a.values, rest)}, 0, true
	}
	return hit{}, 0, false
}

// renderedItems drops the literal items whose literal name no item of
// the rendered sequence at p has: they did not render. This matters when
// the trace knows nothing, e.g. for a helper included through fromYaml,
// which drops the line markers.
func (l *helmLocator) renderedItems(tf *tmplFile, items []int, hi int, p manifest.Path) []int {
	seq, _ := manifest.Walk(l.rendered, p)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return items
	}
	names := map[string]bool{}
	for _, el := range seq.Content {
		if el = manifest.Resolve(el); el != nil && el.Kind == yaml.MappingNode {
			names[manifest.ScalarString(el, "name")] = true
		}
	}
	var out []int
	for _, it := range items {
		if n := tf.itemName(it, tf.itemEnd(it, hi)); n == "" || names[n] {
			out = append(out, it)
		}
	}
	if len(out) == 0 {
		return items // none rendered: leave the choice to the fallbacks
	}
	return out
}

// aroundItemEmitter maps item p[k].Index of a sequence whose rendered
// length exceeds the executed literal items when one action at column
// level (an include, a toYaml) wrote the others, all after the literal
// items or all before them: the index then tells which it is. It returns
// the action's hit, or the literal item's line (lit, with an empty hit).
func (l *helmLocator) aroundItemEmitter(tf *tmplFile, lo, hi, level int, items []int, p manifest.Path, k int) (h hit, lit int, ok bool) {
	seq, _ := manifest.Walk(l.rendered, p[:k])
	if seq == nil || seq.Kind != yaml.SequenceNode || len(seq.Content) <= len(items) || len(items) == 0 {
		return hit{}, 0, false
	}
	for _, it := range items {
		if tf.lines[it].inRange && tf.lines[it].rangeLine >= lo {
			return hit{}, 0, false // an item written many times: uncountable
		}
	}
	var lines []int
	var acts []action
	for j := lo; j < hi; j++ {
		line := &tf.lines[j]
		if !line.actionOnly {
			continue
		}
		for _, a := range line.actions {
			if (a.kind == emitInclude || a.kind == emitToYaml || a.kind == emitTpl) && a.indent == level {
				lines, acts = append(lines, j), append(acts, a)
			}
		}
	}
	if len(lines) != 1 || len(l.executed(tf, lines)) != 1 {
		return hit{}, 0, false
	}
	idx, extra := p[k].Index, len(seq.Content)-len(items)
	if lines[0] < items[0] {
		// The action's items come first.
		if idx >= extra {
			return hit{}, items[idx-extra], true
		}
	} else {
		if lines[0] < items[len(items)-1] {
			return hit{}, 0, false
		}
		if idx < len(items) {
			return hit{}, items[idx], true
		}
		idx -= len(items)
	}
	a := acts[0]
	var vals []string
	if a.values != nil {
		vals = joinValues(a.values, append(manifest.Path{{Index: idx}}, p[k+1:]...))
	}
	return hit{tf: tf, span: lineSpan{line: &tf.lines[lines[0]], col: a.col, end: a.end}, depth: len(p), values: vals}, 0, true
}

// fromActions resolves p[k:] through the actions on a key line whose value
// is emitted inline (key: {{ toYaml ... }}, or key: {{ include "x" . |
// nindent 4 }}, whose helper is searched as a block include's is).
func (l *helmLocator) fromActions(tf *tmplFile, line *tline, p manifest.Path, k, rdepth, hops int) (hit, bool) {
	for _, a := range line.actions {
		if a.col < line.keyCol {
			continue
		}
		switch a.kind {
		case emitToYaml, emitTpl, emitValue:
			return hit{tf: tf, span: lineSpan{line: line, col: a.col, end: a.end}, depth: len(p), values: joinValues(a.values, p[k:])}, true
		case emitInclude:
			if h, ok := l.fromHelper(tf, line, a, p, k, rdepth, hops); ok {
				return h, true
			}
		}
	}
	return hit{}, false
}

// fromHelper follows p[k:] into the body of the helper that action a on
// line includes; ok only when the helper writes at least p[k].
func (l *helmLocator) fromHelper(tf *tmplFile, line *tline, a action, p manifest.Path, k, rdepth, hops int) (hit, bool) {
	if a.define == "" || hops >= maxIncludeHops {
		return hit{}, false
	}
	def, ok := l.c.defines[a.define]
	if !ok {
		return hit{}, false
	}
	h := l.search(def.file, def.lo, def.hi, -1, p, k, rdepth, hit{tf: tf, span: lineSpan{line: line, col: a.col, end: a.end}, depth: k}, hops+1)
	return h, h.depth > k
}

// joinValues appends the remaining path to a values path.
func joinValues(v []string, rest manifest.Path) []string {
	if v == nil {
		return nil
	}
	out := append([]string{}, v...)
	for _, e := range rest {
		if e.Index >= 0 {
			out = append(out, strconv.Itoa(e.Index))
		} else {
			out = append(out, e.Key)
		}
	}
	return out
}

// fromEmitters picks, among the actions emitting YAML at level in
// [lo, hi), the one that wrote p[k:]: a toYaml whose values hold the key,
// else a helper whose body writes it, else the only candidate.
func (l *helmLocator) fromEmitters(tf *tmplFile, lo, hi, level int, p manifest.Path, k, rdepth, hops int) (hit, bool) {
	type cand struct {
		line *tline
		a    action
	}
	var cands []cand
	for j := lo; j < hi; j++ {
		line := &tf.lines[j]
		if !line.actionOnly {
			continue
		}
		for _, a := range line.actions {
			if a.kind == emitNone || a.kind == emitOther {
				continue
			}
			at := a.indent
			if at < 0 {
				at = line.indent
			}
			if level >= 0 && at != level {
				continue
			}
			cands = append(cands, cand{line, a})
		}
	}
	if len(cands) == 0 {
		return hit{}, false
	}
	vals := l.c.chartValues(l.ch)
	first := func(c cand) hit {
		return hit{tf: tf, span: lineSpan{line: c.line, col: c.a.col, end: c.a.end}, depth: len(p), values: joinValues(c.a.values, p[k:])}
	}
	for _, c := range cands {
		if c.a.values != nil && c.a.kind != emitInclude {
			if _, ok := lookupValues(vals, joinValues(c.a.values, p[k:k+1])); ok {
				return first(c), true
			}
		}
	}
	for _, c := range cands {
		if c.a.kind != emitInclude {
			continue
		}
		if h, ok := l.fromHelper(tf, c.line, c.a, p, k, rdepth, hops); ok {
			return h, true
		}
	}
	return first(cands[0]), true
}

// lookupValues follows keys through maps and lists.
func lookupValues(v any, keys []string) (any, bool) {
	for _, k := range keys {
		switch t := v.(type) {
		case map[string]any:
			nv, ok := t[k]
			if !ok {
				return nil, false
			}
			v = nv
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

package render

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template/parse"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

// A template's outline cannot tell which branch of an if/else, or which
// helper line, produced a rendered field: both branches write the same
// key. So a chart is rendered a second time with a marker at the end of
// every template text line ("#kss12#"), and the markers found in each
// rendered document are the lines that executed for it. The locator then
// prefers executed lines. The markered output is never linted: markers
// may change values, only their presence is read.

// traceLine is a template line a marker stands for.
type traceLine struct {
	template string // full template name, e.g. "web/templates/x.yaml"
	line     int    // 0-based
}

// execTrace is, for each rendered template and document, the set of
// template lines that executed.
type execTrace struct {
	lines []traceLine
	docs  map[string][]map[traceLine]bool
	// marks holds, for each rendered template, document and line of the
	// document, the first marker on that line (-1: none): the template
	// line that wrote it, for errors found in the rendered text.
	marks map[string][][]int32
}

// source returns the template line that wrote line li (0-based) of
// document doc of template out.
func (t *execTrace) source(out string, doc, li int) (traceLine, bool) {
	if t == nil || doc >= len(t.marks[out]) {
		return traceLine{}, false
	}
	m := t.marks[out][doc]
	if li < 0 || li >= len(m) || m[li] < 0 {
		return traceLine{}, false
	}
	return t.lines[m[li]], true
}

// lineMarks lists the first marker of each line of a markered document,
// from the line that is the real document's first: Helm trims each
// document, and lines holding only markers are blank in the real one.
func lineMarks(d string) []int32 {
	lines := strings.Split(d, "\n")
	for len(lines) > 0 && strings.TrimSpace(markerRe.ReplaceAllString(lines[0], "")) == "" {
		lines = lines[1:]
	}
	out := make([]int32, len(lines))
	next := int32(-1)
	// Backwards: a line without a marker was written by an action
	// (toYaml, include of text without newlines) whose template line's
	// marker follows its output.
	for i := len(lines) - 1; i >= 0; i-- {
		if m := markerRe.FindStringSubmatch(lines[i]); m != nil {
			if id, err := strconv.Atoi(m[1]); err == nil {
				next = int32(id)
			}
		}
		out[i] = next
	}
	return out
}

// ran reports whether line li of template full executed for document doc
// of template out; ok is false when no trace is known.
func (t *execTrace) ran(out string, doc int, full string, li int) (ran, ok bool) {
	if t == nil {
		return false, false
	}
	docs := t.docs[out]
	if doc >= len(docs) {
		return false, false
	}
	return docs[doc][traceLine{full, li}], true
}

var markerRe = regexp.MustCompile(`#kss(\d+)#`)

// traceChart renders ch (already set up like the real render) with line
// markers and returns the trace; real is the real render's output, whose
// document counts the trace must match.
func traceChart(ch *chart.Chart, vals chartutil.Values, real map[string]string) *execTrace {
	t := &execTrace{docs: map[string][]map[traceLine]bool{}, marks: map[string][][]int32{}}
	saved := map[*chart.File][]byte{}
	var visit func(c *chart.Chart)
	visit = func(c *chart.Chart) {
		for _, f := range c.Templates {
			if f.Name == generatorFile {
				continue
			}
			full := c.ChartFullPath() + "/" + f.Name
			if out, ok := markTemplate(full, string(f.Data), &t.lines); ok {
				saved[f] = f.Data
				f.Data = []byte(out)
			}
		}
		for _, d := range c.Dependencies() {
			visit(d)
		}
	}
	visit(ch)
	defer func() {
		for f, d := range saved {
			f.Data = d
		}
	}()
	out, err := engine.Engine{}.Render(ch, vals)
	if err != nil {
		return nil
	}
	for k, text := range out {
		docs := splitHelmDocs(text)
		if len(docs) != len(splitHelmDocs(real[k])) {
			continue
		}
		sets := make([]map[traceLine]bool, len(docs))
		marks := make([][]int32, len(docs))
		for i, d := range docs {
			marks[i] = lineMarks(d)
			sets[i] = map[traceLine]bool{}
			for _, m := range markerRe.FindAllStringSubmatch(d, -1) {
				if id, err := strconv.Atoi(m[1]); err == nil && id < len(t.lines) {
					sets[i][t.lines[id]] = true
				}
			}
		}
		t.docs[k] = sets
		t.marks[k] = marks
	}
	return t
}

// markTemplate inserts a marker before every newline of the template's
// text (and where a "{{-" trimmed a newline away), found with Go's
// template parser so that actions and comments are untouched.
func markTemplate(full, src string, lines *[]traceLine) (string, bool) {
	var at []int
	ok := walkParsed(full, src, func(node parse.Node) {
		n, isText := node.(*parse.TextNode)
		if !isText {
			return
		}
		start := int(n.Pos)
		end := start + len(n.Text)
		if end > len(src) || src[start:end] != string(n.Text) {
			return
		}
		for i, c := range n.Text {
			if c == '\n' {
				at = append(at, start+i)
			}
		}
		// A line whose text goes on in an action ("x: {{ .v }}"), or
		// whose newline a "{{-" trimmed away, is marked where its text
		// ends.
		if strings.TrimSpace(string(n.Text[strings.LastIndexByte(string(n.Text), '\n')+1:])) != "" {
			at = append(at, end)
		}
	})
	if !ok {
		return "", false
	}
	if len(at) == 0 {
		return "", false
	}
	sort.Ints(at)
	var b strings.Builder
	b.Grow(len(src) + 10*len(at))
	last, line := 0, 0
	for _, p := range at {
		if p < last {
			continue
		}
		line += strings.Count(src[last:p], "\n")
		b.WriteString(src[last:p])
		b.WriteString(" #kss")
		b.WriteString(strconv.Itoa(len(*lines)))
		b.WriteByte('#')
		*lines = append(*lines, traceLine{full, line})
		last = p
	}
	b.WriteString(src[last:])
	return b.String(), true
}

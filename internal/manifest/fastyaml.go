package manifest

import (
	"errors"
	"math"
	"strings"
	"unicode/utf8"
	"unsafe"

	"gopkg.in/yaml.v3"
)

// fastParse parses one YAML document into the node tree yaml.Unmarshal
// would build — same kinds, tags, values, styles, lines and columns;
// comments are not kept (nothing reads them) — for the block-style YAML
// that nearly every manifest is written in. yaml.v3 spends most of a lint
// run building tokens and events; this parser reads lines directly and
// allocates the nodes of a document in a few slabs.
//
// It accepts only what it is sure of: printable ASCII without tabs or
// carriage returns; block mappings and sequences; plain, quoted and block
// scalars; and flow collections that close on their own line. Anchors,
// aliases, tags, directives, complex keys, multi-line plain or quoted
// scalars, and anything malformed make it return false, and the caller
// parses the document with yaml.v3 instead — so error messages and every
// corner of YAML stay yaml.v3's. FuzzFastYAML checks the equivalence.
func fastParse(data []byte, doc *yaml.Node) bool {
	_, ok := fastParseInto(data, doc, nil)
	return ok
}

// fastParseInto is fastParse placing the nodes in slab when it is large
// enough (a slab whose tree nothing references any more: see
// nodeSlabs). It returns the slab that holds the first nodes.
func fastParseInto(data []byte, doc *yaml.Node, slab []yaml.Node) ([]yaml.Node, bool) {
	if len(data) > math.MaxInt32 || !plainASCII(data) {
		return nil, false
	}
	// The nodes' strings share data, which must stay unmodified: the
	// loader gives every document a buffer of its own, so a node tree
	// kept for set-level rules pins its own document and nothing more.
	p := fastParser{src: unsafe.String(unsafe.SliceData(data), len(data)), reuse: slab}
	ok := p.run(doc)
	if !ok {
		*doc = yaml.Node{}
		return nil, false
	}
	return p.first, true
}

// plainASCII reports whether data is printable ASCII and newlines only.
func plainASCII(data []byte) bool {
	for _, b := range data {
		if (b < 0x20 && b != '\n') || b >= 0x7f {
			return false
		}
	}
	return true
}

// errUnsure abandons the fast path; it never leaves fastParse.
var errUnsure = errors.New("not for the fast path")

type line struct {
	start, end int32 // byte offsets of the text, without the newline
	indent     int32 // leading spaces
	nl         bool
	content    bool // anything but spaces and a comment
}

type fastParser struct {
	src   string
	lines []line
	slab  []yaml.Node
	reuse []yaml.Node // a recycled slab, or nil
	first []yaml.Node // the slab of the first nodes
	ptrs  []*yaml.Node
	tmp   yaml.Node
}

func (p *fastParser) run(doc *yaml.Node) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != errUnsure { //nolint:errorlint // sentinel identity
				panic(r)
			}
			ok = false
		}
	}()
	p.split()
	first := p.nextContent(0)
	if first < 0 {
		return false
	}
	l := p.lines[first]
	text := p.text(first)
	*doc = yaml.Node{Kind: yaml.DocumentNode, Line: first + 1, Column: int(l.indent) + 1}
	if strings.HasPrefix(text, "---") {
		// An explicit start marker: content must begin on a later line.
		if rest := strings.TrimLeft(text[3:], " "); rest != "" && rest[0] != '#' {
			panic(errUnsure)
		}
		if len(text) > 3 && text[3] != ' ' {
			panic(errUnsure)
		}
		doc.Column = 1
		first = p.nextContent(first + 1)
		if first < 0 {
			panic(errUnsure)
		}
	}
	root, next := p.blockNode(first, p.ind(first), -1)
	if next >= 0 {
		panic(errUnsure)
	}
	doc.Content = p.content(root)
	return true
}

// split records the lines and refuses what the fast path does not handle
// at the line level: directives and document markers after the first line.
func (p *fastParser) split() {
	s := p.src
	n := strings.Count(s, "\n") + 1
	p.lines = make([]line, 0, n)
	seen := false
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '\n')
		end := len(s)
		if j >= 0 {
			end = i + j
		}
		t := s[i:end]
		indent := 0
		for indent < len(t) && t[indent] == ' ' {
			indent++
		}
		l := line{start: int32(i), end: int32(end), indent: int32(indent), nl: j >= 0}
		l.content = indent < len(t) && t[indent] != '#'
		if indent == 0 && len(t) > 0 {
			switch {
			case t[0] == '%', strings.HasPrefix(t, "..."):
				panic(errUnsure)
			case strings.HasPrefix(t, "---") && seen:
				panic(errUnsure)
			}
		}
		seen = seen || l.content
		p.lines = append(p.lines, l)
		if j < 0 {
			break
		}
		i += j + 1
	}
	// Manifests average a little over two nodes per content line (a key
	// and its value): one slab of that size serves most documents whole.
	content := 0
	for _, l := range p.lines {
		if l.content {
			content++
		}
	}
	size := 2*content + content/8 + 4
	if cap(p.reuse) >= size {
		// Cleared whole: stale pointers past the nodes used would keep
		// the previous document's garbage alive.
		clear(p.reuse[:cap(p.reuse)])
		p.slab = p.reuse[:0]
	} else {
		p.slab = make([]yaml.Node, 0, size)
	}
	p.first = p.slab
}

func (p *fastParser) text(i int) string { return p.src[p.lines[i].start:p.lines[i].end] }

func (p *fastParser) ind(i int) int { return int(p.lines[i].indent) }

func (p *fastParser) start(i int) int { return int(p.lines[i].start) }

// nextContent is the index of the first line at or after i holding
// content, or -1.
func (p *fastParser) nextContent(i int) int {
	for ; i < len(p.lines); i++ {
		if p.lines[i].content {
			return i
		}
	}
	return -1
}

func (p *fastParser) node(kind yaml.Kind, li, col int) *yaml.Node {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]yaml.Node, 0, 64)
	}
	p.slab = append(p.slab, yaml.Node{Kind: kind, Line: li + 1, Column: col + 1})
	return &p.slab[len(p.slab)-1]
}

func (p *fastParser) content(ns ...*yaml.Node) []*yaml.Node {
	out := make([]*yaml.Node, len(ns))
	copy(out, ns)
	return out
}

// collect turns the pointers pushed since mark into a node's Content.
func (p *fastParser) collect(mark int) []*yaml.Node {
	out := make([]*yaml.Node, len(p.ptrs)-mark)
	copy(out, p.ptrs[mark:])
	clear(p.ptrs[mark:])
	p.ptrs = p.ptrs[:mark]
	return out
}

// blockNode parses the node that starts at column col of line li, inside
// a block collection indented at parent (-1 at the root). It returns the
// node and the next content line after it (-1 at the end), which the
// caller checks against its own indentation.
func (p *fastParser) blockNode(li, col, parent int) (*yaml.Node, int) {
	t := p.text(li)
	if isEntry(t, col) {
		return p.sequence(li, col)
	}
	if _, colon := p.key(t, col); colon >= 0 {
		return p.mapping(li, col)
	}
	n, next := p.inline(li, col, parent)
	if next >= 0 && p.ind(next) > parent {
		// More-indented text after a scalar continues it (a multi-line
		// plain scalar) or is an error.
		panic(errUnsure)
	}
	return n, next
}

// key scans a mapping key at t[col:]. It returns the key's node (not yet
// positioned) and the offset of its ':' indicator, or -1 when t[col:] is
// not a key.
func (p *fastParser) key(t string, col int) (yaml.Node, int) {
	var k yaml.Node
	end := 0
	switch c := t[col]; {
	case c == '"' || c == '\'':
		v, e, ok := quoted(t, col)
		if !ok {
			return k, -1 // multi-line (never a key) or malformed
		}
		k = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Style: yaml.DoubleQuotedStyle}
		if c == '\'' {
			k.Style = yaml.SingleQuotedStyle
		}
		end = e
		for end < len(t) && t[end] == ' ' {
			end++
		}
		if end < len(t) && t[end] == ':' && (end+1 == len(t) || t[end+1] == ' ') {
			break
		}
		return k, -1
	case plainStart(t, col, false):
		e, stop, colon := plainBlock(t, col)
		if !colon {
			return k, -1
		}
		v := t[col:e]
		if v == "<<" {
			panic(errUnsure) // merge keys need aliases
		}
		k = yaml.Node{Kind: yaml.ScalarNode, Tag: p.resolve(v), Value: v}
		end = stop
	default:
		return k, -1
	}
	if end-col > 1000 {
		panic(errUnsure) // YAML limits simple keys to 1024 characters
	}
	return k, end
}

func (p *fastParser) mapping(li, col int) (*yaml.Node, int) {
	m := p.node(yaml.MappingNode, li, col)
	m.Tag = "!!map"
	mark := len(p.ptrs)
	for {
		t := p.text(li)
		k, colon := p.key(t, col)
		if colon < 0 {
			panic(errUnsure)
		}
		kn := p.node(yaml.ScalarNode, li, col)
		kn.Tag, kn.Value, kn.Style = k.Tag, k.Value, k.Style
		var v *yaml.Node
		next := -1
		at := colon + 1
		for at < len(t) && t[at] == ' ' {
			at++
		}
		if at == len(t) || t[at] == '#' {
			if at < len(t) && at == colon+1 {
				panic(errUnsure) // "key:#" is not a key
			}
			next = p.nextContent(li + 1)
			switch {
			case next >= 0 && p.ind(next) > col:
				v, next = p.blockNode(next, p.ind(next), col)
			case next >= 0 && p.ind(next) == col && isEntry(p.text(next), col):
				v, next = p.sequence(next, col) // an indentless sequence
			default:
				v = p.empty(li, colon+1)
			}
		} else {
			v, next = p.inline(li, at, col)
			if next >= 0 && p.ind(next) > col {
				panic(errUnsure)
			}
		}
		p.ptrs = append(p.ptrs, kn, v)
		if next < 0 || p.ind(next) < col {
			m.Content = p.collect(mark)
			return m, next
		}
		if p.ind(next) > col {
			panic(errUnsure)
		}
		li = next
	}
}

func isEntry(t string, col int) bool {
	return col < len(t) && t[col] == '-' && (col+1 == len(t) || t[col+1] == ' ')
}

func (p *fastParser) sequence(li, col int) (*yaml.Node, int) {
	s := p.node(yaml.SequenceNode, li, col)
	s.Tag = "!!seq"
	mark := len(p.ptrs)
	for {
		t := p.text(li)
		if !isEntry(t, col) {
			panic(errUnsure)
		}
		at := col + 1
		for at < len(t) && t[at] == ' ' {
			at++
		}
		var v *yaml.Node
		var next int
		if at == len(t) || t[at] == '#' {
			next = p.nextContent(li + 1)
			if next >= 0 && p.ind(next) > col {
				v, next = p.blockNode(next, p.ind(next), col)
			} else {
				v = p.empty(li, col+1)
			}
		} else {
			v, next = p.blockNode(li, at, col)
		}
		p.ptrs = append(p.ptrs, v)
		if next < 0 || p.ind(next) < col || !isEntry(p.text(next), col) {
			if next >= 0 && p.ind(next) > col {
				panic(errUnsure)
			}
			s.Content = p.collect(mark)
			return s, next
		}
		li = next
	}
}

// empty is the null scalar YAML implies for a missing value, placed where
// yaml.v3 places it: just after the indicator.
func (p *fastParser) empty(li, col int) *yaml.Node {
	n := p.node(yaml.ScalarNode, li, col)
	n.Tag = "!!null"
	return n
}

// inline parses a scalar or flow collection starting at t[col] of line li
// and returns the next content line after it.
func (p *fastParser) inline(li, col, parent int) (*yaml.Node, int) {
	t := p.text(li)
	var n *yaml.Node
	end := 0
	switch c := t[col]; {
	case c == '|' || c == '>':
		return p.blockScalar(li, col, parent)
	case c == '"' || c == '\'':
		n = p.node(yaml.ScalarNode, li, col)
		v, e, ok := quoted(t, col)
		if !ok {
			var abs int
			if v, abs, ok = p.quotedLines(p.start(li) + col); !ok {
				panic(errUnsure)
			}
			li, e = p.lineOf(abs, li)
			t = p.text(li)
		}
		n.Tag, n.Value, n.Style = "!!str", v, yaml.DoubleQuotedStyle
		if c == '\'' {
			n.Style = yaml.SingleQuotedStyle
		}
		end = e
	case c == '[' || c == '{':
		n, end = p.flow(li, t, col)
	case plainStart(t, col, false):
		e, stop, colon := plainBlock(t, col)
		if colon {
			panic(errUnsure) // "a: b: c"
		}
		v := t[col:e]
		if v == "<<" {
			panic(errUnsure)
		}
		n = p.node(yaml.ScalarNode, li, col)
		if stop == len(t) {
			var last int
			if v, last, e = p.plainLines(li, parent, v, e); last != li {
				li, t = last, p.text(last)
			}
		}
		n.Tag, n.Value = p.resolve(v), v
		end = e
	default:
		panic(errUnsure)
	}
	p.lineEnd(t, end)
	return n, p.nextContent(li + 1)
}

// plainLines continues a plain scalar over the following lines indented
// deeper than parent, folding them as yaml.v3 does: one line break is a
// space, n blank lines are n newlines. It returns the value, the last line
// used and the end of the text on it.
func (p *fastParser) plainLines(li, parent int, first string, end int) (string, int, int) {
	var b []byte
	last := li
	breaks := 0
	for k := li + 1; k < len(p.lines); k++ {
		t := p.text(k)
		indent := p.ind(k)
		if indent == len(t) {
			breaks++ // a blank line
			continue
		}
		if indent <= parent || t[indent] == '#' {
			break
		}
		e, stop, colon := plainBlock(t, indent)
		if colon {
			panic(errUnsure) // a key under a scalar
		}
		if b == nil {
			b = append(make([]byte, 0, 2*len(first)), first...)
		}
		if breaks == 0 {
			b = append(b, ' ')
		}
		for ; breaks > 0; breaks-- {
			b = append(b, '\n')
		}
		b = append(b, t[indent:e]...)
		last, end = k, e
		if stop < len(t) {
			break // a comment ends it
		}
	}
	if b == nil {
		return first, li, end
	}
	return string(b), last, end
}

// quotedLines scans a quoted scalar that spans lines, from the quote at
// offset a of the source, as yaml_parser_scan_flow_scalar does. It
// returns the value and the offset after the closing quote.
func (p *fastParser) quotedLines(a int) (string, int, bool) {
	src := p.src
	q := src[a]
	single := q == '\''
	j := a + 1
	var s []byte
	for {
		if j >= len(src) {
			return "", 0, false
		}
		leadingBlanks := false
	word:
		for j < len(src) && src[j] != ' ' && src[j] != '\n' {
			c := src[j]
			switch {
			case single && c == '\'' && j+1 < len(src) && src[j+1] == '\'':
				s = append(s, '\'')
				j += 2
			case c == q:
				break word
			case !single && c == '\\' && j+1 < len(src) && src[j+1] == '\n':
				j += 2
				leadingBlanks = true
				break word
			case !single && c == '\\':
				var ok bool
				if s, j, ok = unescape(s, src, j); !ok {
					return "", 0, false
				}
			default:
				s = append(s, c)
				j++
			}
		}
		if j < len(src) && src[j] == q {
			break
		}
		spaces, leadingBreak, trailing := 0, false, 0
		for j < len(src) && (src[j] == ' ' || src[j] == '\n') {
			if src[j] == ' ' {
				if !leadingBlanks {
					spaces++
				}
			} else if !leadingBlanks {
				spaces, leadingBreak, leadingBlanks = 0, true, true
			} else {
				trailing++
			}
			j++
		}
		switch {
		case !leadingBlanks:
			for ; spaces > 0; spaces-- {
				s = append(s, ' ')
			}
		case leadingBreak && trailing == 0:
			s = append(s, ' ')
		default:
			for ; trailing > 0; trailing-- {
				s = append(s, '\n')
			}
		}
	}
	return string(s), j + 1, true
}

// lineOf converts a source offset at or after line li's start into a line
// index and an offset within that line.
func (p *fastParser) lineOf(abs, li int) (int, int) {
	for li+1 < len(p.lines) && p.start(li+1) <= abs {
		li++
	}
	return li, abs - p.start(li)
}

// lineEnd checks that only blanks or a comment follow offset end.
func (p *fastParser) lineEnd(t string, end int) {
	i := end
	for i < len(t) && t[i] == ' ' {
		i++
	}
	if i < len(t) && (t[i] != '#' || i == end) {
		panic(errUnsure)
	}
}

// plainStart reports whether a plain scalar may start at t[i].
func plainStart(t string, i int, flow bool) bool {
	switch t[i] {
	case '-':
		return i+1 < len(t) && t[i+1] != ' '
	case '?', ':':
		return !flow && i+1 < len(t) && t[i+1] != ' '
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ':
		return false
	}
	return true
}

// plainBlock scans a single-line plain scalar in block context from
// t[i]. It returns the end of its text, where it stopped, and whether it
// stopped at a ':' value indicator.
func plainBlock(t string, i int) (end, stop int, colon bool) {
	end = i
	start := i
	for i < len(t) {
		if t[i] == '#' && i > start {
			return end, i, false
		}
		word := i
		for i < len(t) && t[i] != ' ' {
			if t[i] == ':' && (i+1 == len(t) || t[i+1] == ' ') {
				if i > word {
					end = i
				}
				return end, i, true
			}
			i++
		}
		end = i
		for i < len(t) && t[i] == ' ' {
			i++
		}
	}
	return end, i, false
}

// plainFlow scans a plain scalar inside a flow collection.
func plainFlow(t string, i int) (end, stop int) {
	end = i
	start := i
	for i < len(t) {
		if t[i] == '#' && i > start {
			panic(errUnsure)
		}
		word := i
		for i < len(t) && t[i] != ' ' {
			stop := false
			switch t[i] {
			case ',', '?', '[', ']', '{', '}':
				stop = true
			case ':':
				stop = i+1 == len(t) || t[i+1] == ' '
			}
			if stop {
				if i > word {
					end = i
				}
				return end, i
			}
			i++
		}
		end = i
		for i < len(t) && t[i] == ' ' {
			i++
		}
	}
	return end, i
}

// quoted scans a quoted scalar that closes on its own line, returning its
// value and the offset after the closing quote.
func quoted(t string, i int) (string, int, bool) {
	q := t[i]
	j := i + 1
	var b []byte // nil until an escape forces a copy
	for j < len(t) {
		c := t[j]
		switch {
		case c == q && q == '\'' && j+1 < len(t) && t[j+1] == '\'':
			if b == nil {
				b = append([]byte(nil), t[i+1:j]...)
			}
			b = append(b, '\'')
			j += 2
			continue
		case c == q:
			if b == nil {
				return t[i+1 : j], j + 1, true
			}
			return string(b), j + 1, true
		case c == '\\' && q == '"':
			if b == nil {
				b = append([]byte(nil), t[i+1:j]...)
			}
			var ok bool
			if b, j, ok = unescape(b, t, j); !ok {
				return "", 0, false
			}
			continue
		}
		if b != nil {
			b = append(b, c)
		}
		j++
	}
	return "", 0, false
}

// yamlEscapes are yaml.v3's single-character escapes (\x, \u and \U take
// hex digits).
var yamlEscapes = map[byte]string{
	'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", 'n': "\n", 'v': "\v", 'f': "\f", 'r': "\r",
	'e': "\x1b", ' ': " ", '"': "\"", '\'': "'", '\\': "\\",
	'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029",
}

// unescape decodes the escape at t[j] ('\\') as yaml.v3 does.
func unescape(b []byte, t string, j int) ([]byte, int, bool) {
	if j+1 >= len(t) {
		return nil, 0, false // a line continuation
	}
	n := 0
	switch c := t[j+1]; c {
	case 'x':
		n = 2
	case 'u':
		n = 4
	case 'U':
		n = 8
	default:
		e, ok := yamlEscapes[c]
		if !ok {
			return nil, 0, false
		}
		return append(b, e...), j + 2, true
	}
	j += 2
	if j+n > len(t) {
		return nil, 0, false
	}
	v := 0
	for k := 0; k < n; k++ {
		c := t[j+k]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 + int(c-'A'+10)
		default:
			return nil, 0, false
		}
	}
	if (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff {
		return nil, 0, false
	}
	// yaml.v3 writes the code point's UTF-8 bytes even where Go would
	// not (it never produces invalid ones: surrogates are refused above).
	return utf8.AppendRune(b, rune(v)), j + n, true
}

// flow parses a flow sequence or mapping that closes on line li.
func (p *fastParser) flow(li int, t string, col int) (*yaml.Node, int) {
	open := t[col]
	n := p.node(yaml.SequenceNode, li, col)
	n.Tag, n.Style = "!!seq", yaml.FlowStyle
	closer := byte(']')
	if open == '{' {
		n.Kind, n.Tag, closer = yaml.MappingNode, "!!map", '}'
	}
	mark := len(p.ptrs)
	i := skipSpaces(t, col+1)
	if i < len(t) && t[i] == closer {
		n.Content = p.collect(mark)
		return n, i + 1
	}
	for {
		var item *yaml.Node
		item, i = p.flowItem(li, t, i)
		i = skipSpaces(t, i)
		if open == '{' {
			if item.Kind != yaml.ScalarNode || i+1 >= len(t) || t[i] != ':' || t[i+1] != ' ' {
				panic(errUnsure)
			}
			p.ptrs = append(p.ptrs, item)
			item, i = p.flowItem(li, t, skipSpaces(t, i+1))
			i = skipSpaces(t, i)
		}
		p.ptrs = append(p.ptrs, item)
		if i >= len(t) {
			panic(errUnsure) // continues on the next line
		}
		switch t[i] {
		case ',':
			i = skipSpaces(t, i+1)
			if i >= len(t) || t[i] == closer || t[i] == ',' {
				panic(errUnsure)
			}
		case closer:
			n.Content = p.collect(mark)
			return n, i + 1
		default:
			panic(errUnsure)
		}
	}
}

func skipSpaces(t string, i int) int {
	for i < len(t) && t[i] == ' ' {
		i++
	}
	return i
}

func (p *fastParser) flowItem(li int, t string, i int) (*yaml.Node, int) {
	if i >= len(t) {
		panic(errUnsure)
	}
	switch c := t[i]; {
	case c == '[' || c == '{':
		return p.flow(li, t, i)
	case c == '"' || c == '\'':
		v, e, ok := quoted(t, i)
		if !ok {
			panic(errUnsure)
		}
		n := p.node(yaml.ScalarNode, li, i)
		n.Tag, n.Value, n.Style = "!!str", v, yaml.DoubleQuotedStyle
		if c == '\'' {
			n.Style = yaml.SingleQuotedStyle
		}
		return n, e
	case plainStart(t, i, true):
		e, _ := plainFlow(t, i)
		v := t[i:e]
		if v == "<<" {
			panic(errUnsure)
		}
		n := p.node(yaml.ScalarNode, li, i)
		n.Tag, n.Value = p.resolve(v), v
		return n, e
	}
	panic(errUnsure)
}

// blockScalar ports yaml.v3's literal and folded scalar scanner, so that
// indentation detection, folding and chomping match it byte for byte.
func (p *fastParser) blockScalar(li, col, parent int) (*yaml.Node, int) {
	t := p.text(li)
	literal := t[col] == '|'
	i := col + 1
	chomp, inc := 0, 0
	for k := 0; k < 2 && i < len(t); k++ {
		switch c := t[i]; {
		case (c == '+' || c == '-') && chomp == 0:
			chomp = 1
			if c == '-' {
				chomp = -1
			}
			i++
		case c >= '1' && c <= '9' && inc == 0:
			inc = int(c - '0')
			i++
		}
	}
	p.lineEnd(t, i)
	indent := 0
	if inc > 0 {
		indent = inc
		if parent >= 0 {
			indent = parent + inc
		}
	}
	var s, leading, trailing []byte
	cur, at := p.scalarBreaks(li+1, &indent, parent, &trailing)
	leadingBlank := false
	for cur < len(p.lines) && at == indent && !p.atZ(cur, at) {
		lt := p.text(cur)
		trailingBlank := lt[at] == ' '
		if !literal && !leadingBlank && !trailingBlank && len(leading) > 0 && leading[0] == '\n' {
			if len(trailing) == 0 {
				s = append(s, ' ')
			}
		} else {
			s = append(s, leading...)
		}
		leading = leading[:0]
		s = append(s, trailing...)
		trailing = trailing[:0]
		leadingBlank = lt[at] == ' '
		s = append(s, lt[at:]...)
		if p.lines[cur].nl {
			leading = append(leading, '\n')
		}
		cur, at = p.scalarBreaks(cur+1, &indent, parent, &trailing)
	}
	if chomp != -1 {
		s = append(s, leading...)
	}
	if chomp == 1 {
		s = append(s, trailing...)
	}
	n := p.node(yaml.ScalarNode, li, col)
	n.Tag, n.Value, n.Style = "!!str", string(s), yaml.LiteralStyle
	if !literal {
		n.Style = yaml.FoldedStyle
	}
	if cur >= len(p.lines) {
		return n, -1
	}
	// The scalar ends at a line indented less than its own: its content
	// is the caller's to place.
	return n, p.nextContent(cur)
}

// atZ reports whether offset at of line cur is the end of the input.
func (p *fastParser) atZ(cur, at int) bool {
	l := p.lines[cur]
	return int(l.start)+at >= int(l.end) && !l.nl
}

// scalarBreaks eats indentation and blank lines from line cur on, as
// yaml_parser_scan_block_scalar_breaks does, and returns the line and
// column it stopped at.
func (p *fastParser) scalarBreaks(cur int, indent *int, parent int, breaks *[]byte) (int, int) {
	maxIndent, at := 0, 0
	for cur < len(p.lines) {
		l := p.lines[cur]
		t := p.text(cur)
		at = 0
		for (*indent == 0 || at < *indent) && at < len(t) && t[at] == ' ' {
			at++
		}
		maxIndent = max(maxIndent, at)
		if at < len(t) || !l.nl {
			break // a non-empty line, or the end of the input
		}
		*breaks = append(*breaks, '\n')
		cur++
	}
	if cur >= len(p.lines) {
		at = 0
	}
	if *indent == 0 {
		*indent = max(maxIndent, parent+1, 1)
	}
	return cur, at
}

// resolve is the tag yaml.v3 gives a plain scalar.
func (p *fastParser) resolve(v string) string {
	if v != "" {
		switch c := v[0]; {
		case c >= '0' && c <= '9', c == '+', c == '-', c == '.':
		case strings.IndexByte("yYnNtTfFoO~", c) >= 0:
			// yaml.v3 resolves words starting so only by this table.
			switch v {
			case "true", "True", "TRUE", "false", "False", "FALSE":
				return "!!bool"
			case "null", "Null", "NULL", "~":
				return "!!null"
			}
			return "!!str"
		default:
			return "!!str"
		}
	}
	p.tmp = yaml.Node{Kind: yaml.ScalarNode, Value: v}
	return p.tmp.ShortTag()
}

package fix

import (
	"strings"
)

// entry is a "key: value" pair parsed from one line.
type entry struct {
	key                  string
	valStart, valEnd     int  // byte offsets of the value token (with its quotes)
	quote                byte // '"', '\'' or 0
	value                string
	flow                 bool // inside a flow mapping ({a: b, …})
	commentAt, restSpace int  // where a trailing comment starts (-1: none) and the spaces before it
}

// parseEntry parses the mapping entry whose key starts at byte offset at of
// line. It refuses values that do not sit whole on the line: block
// scalars, values on the next line, unterminated quotes, anchors, aliases,
// tags and nested collections. A key other than want (when want is set)
// means the field the finding names is absent.
func parseEntry(line string, at int, want string) (entry, error) {
	var e entry
	if strings.Contains(line, "{{") {
		return e, refuse("the line holds a template expression")
	}
	if at < 0 || at >= len(line) {
		return e, refuse("the position is past the end of the line")
	}
	e.flow = inFlow(line[:at])
	i := at
	quotedKey := false
	switch line[i] {
	case '"', '\'':
		k, end, ok := scanQuoted(line, i)
		if !ok {
			return e, refuse("unterminated quoted key")
		}
		e.key, i, quotedKey = k, end, true
		// "key": value, is JSON (a .json manifest): its values end at a comma.
		e.flow = e.flow || line[at] == '"'
	default:
		// A plain key cannot start with an indicator (tags, anchors, …).
		if strings.IndexByte("!&*|>%@`#,[]{}", line[i]) >= 0 || strings.IndexByte("-?:", line[i]) >= 0 && (i+1 == len(line) || isSpace(line[i+1])) {
			return e, refuse("no plain key at the position")
		}
		j := i
		for j < len(line) && !(line[j] == ':' && (j+1 == len(line) || isSpace(line[j+1]) || e.flow && strings.IndexByte(",}]", line[j+1]) >= 0)) {
			if e.flow && strings.IndexByte(",{}[]", line[j]) >= 0 || line[j] == '#' && j > i && isSpace(line[j-1]) {
				return e, refuse("no key at the position")
			}
			j++
		}
		e.key, i = strings.TrimRight(line[at:j], " \t"), j
	}
	for i < len(line) && isSpace(line[i]) {
		i++
	}
	if i >= len(line) || line[i] != ':' {
		return e, refuse("no key at the position")
	}
	i++
	if i < len(line) && !isSpace(line[i]) && !quotedKey && !e.flow {
		return e, refuse("no key at the position")
	}
	if want != "" && e.key != want {
		return e, refuse("the line sets %q, not %s (the field is absent)", e.key, want)
	}
	for i < len(line) && isSpace(line[i]) {
		i++
	}
	if i >= len(line) || line[i] == '#' {
		return e, refuse("the value of %s is not on its line", e.key)
	}
	e.valStart = i
	switch c := line[i]; c {
	case '"', '\'':
		v, end, ok := scanQuoted(line, i)
		if !ok {
			return e, refuse("the quoted value of %s continues on the next line", e.key)
		}
		e.value, e.quote, e.valEnd = v, c, end
	case '|', '>', '&', '*', '!', '{', '[', '%', '@', '`':
		return e, refuse("the value of %s is not a plain scalar", e.key)
	default:
		j := i
		for j < len(line) {
			if line[j] == '#' && isSpace(line[j-1]) || e.flow && strings.IndexByte(",}]", line[j]) >= 0 {
				break
			}
			j++
		}
		for j > i && isSpace(line[j-1]) {
			j--
		}
		e.value, e.valEnd = line[i:j], j
	}
	rest := line[e.valEnd:]
	e.commentAt = -1
	t := strings.TrimLeft(rest, " \t")
	e.restSpace = len(rest) - len(t)
	switch {
	case t == "":
	case t[0] == '#' && e.restSpace > 0:
		e.commentAt = e.valEnd + e.restSpace
	case e.flow && strings.IndexByte(",}]", t[0]) >= 0:
	default:
		return e, refuse("unexpected text after the value of %s", e.key)
	}
	return e, nil
}

// lineKey returns the key of the entry at offset at, or "".
func lineKey(line string, at int) string {
	e, err := parseEntry(line, at, "")
	if err != nil {
		return ""
	}
	return e.key
}

// rewrite replaces the value of the entry key at offset at of line with
// to, keeping everything else. Booleans are written plain (a quoted "true"
// in a values file is a string, and a string "false" is true to a Helm
// `if`), in the case the line used; enums keep their quotes.
func rewrite(line string, at int, key string, k kind, to string) (string, error) {
	e, err := parseEntry(line, at, key)
	if err != nil {
		return "", err
	}
	var tok string
	switch k {
	case boolKind:
		cur, ok := yamlBool(e.value)
		if !ok {
			return "", refuse("%s is %q, not a boolean", key, e.value)
		}
		if cur == (to == "true") {
			return "", refuse("%s is already %s", key, to)
		}
		tok = boolStyle(e.value, to == "true")
	case enumKind:
		if e.value == to {
			return "", refuse("%s is already %s", key, to)
		}
		if !isWord(e.value) {
			return "", refuse("%s is %q, not an enum value", key, e.value)
		}
		tok = to
		if e.quote != 0 {
			tok = string(e.quote) + to + string(e.quote)
		}
	}
	rest := line[e.valEnd:]
	if e.commentAt >= 0 {
		// Keep a trailing comment in its column when the spaces allow.
		d := len(tok) - (e.valEnd - e.valStart)
		sp := e.restSpace - d
		if sp < 1 {
			sp = 1
		}
		rest = strings.Repeat(" ", sp) + line[e.commentAt:]
		if strings.ContainsRune(line[e.valEnd:e.commentAt], '\t') {
			rest = line[e.valEnd:]
		}
	}
	return line[:e.valStart] + tok + rest, nil
}

// yamlBool parses the boolean forms Kubernetes' YAML accepts (YAML 1.1's
// as well as 1.2's), quoted or not: quoted ones appear in values files.
func yamlBool(s string) (v, ok bool) {
	switch s {
	case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y":
		return true, true
	case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N":
		return false, true
	}
	return false, false
}

// boolStyle writes v in the case of old when old is a true/false form,
// else as plain true or false (the only form every YAML reader agrees on).
func boolStyle(old string, v bool) string {
	s := "false"
	if v {
		s = "true"
	}
	switch old {
	case "True", "False":
		return strings.ToUpper(s[:1]) + s[1:]
	case "TRUE", "FALSE":
		return strings.ToUpper(s)
	}
	return s
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// scanQuoted reads the quoted scalar starting at line[i] and returns its
// value and the offset past the closing quote; ok is false when it does not
// end on the line.
func scanQuoted(line string, i int) (v string, end int, ok bool) {
	q := line[i]
	var b strings.Builder
	for j := i + 1; j < len(line); j++ {
		c := line[j]
		switch {
		case q == '\'' && c == '\'':
			if j+1 < len(line) && line[j+1] == '\'' {
				b.WriteByte('\'')
				j++
				continue
			}
			return b.String(), j + 1, true
		case q == '"' && c == '\\':
			if j+1 < len(line) {
				b.WriteByte(line[j+1])
				j++
			}
			continue
		case q == '"' && c == '"':
			return b.String(), j + 1, true
		}
		b.WriteByte(c)
	}
	return "", 0, false
}

// inFlow reports whether prefix leaves a flow collection open.
func inFlow(prefix string) bool {
	depth := 0
	for i := 0; i < len(prefix); i++ {
		switch c := prefix[i]; c {
		case '"', '\'':
			if _, end, ok := scanQuoted(prefix, i); ok {
				i = end - 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '#':
			if i == 0 || isSpace(prefix[i-1]) {
				return false
			}
		}
	}
	return depth > 0
}

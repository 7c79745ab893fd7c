package manifest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// Objects read from an API server (scan) rather than from files. The
// server speaks JSON; the engine reads yaml.Node trees, so the JSON is
// parsed straight into one, with every position zero: findings on these
// objects have no file and are placed at the object and field path.
// metadata.managedFields — often most of an object's bytes — is skipped
// by the parser without being decoded.

// RemoteOptions tune how server objects become Objects.
type RemoteOptions struct {
	// APIVersion and Kind fill in what list items omit (an API server
	// leaves them out of the items of a typed list).
	APIVersion, Kind string
	// Drop names top-level fields not to build (e.g. "status" when only
	// the spec is checked); they are skipped like managedFields.
	Drop []string
}

// RemoteList is one page of a list as an API server returns it.
type RemoteList struct {
	Items []*Object
	// Continue is the token for the next page ("" on the last page).
	Continue        string
	ResourceVersion string
}

// FromJSON builds an Object from one object as an API server returns it.
func FromJSON(data []byte, opt RemoteOptions) (*Object, error) {
	p := newJSONParser(data, opt)
	p.ws()
	n, err := p.object(0, roleRoot)
	if err != nil {
		return nil, err
	}
	return p.toObject(n)
}

// FromJSONList builds the items of a list (a page) as an API server
// returns it; items never exist as decoded Go values, only as trees.
func FromJSONList(data []byte, opt RemoteOptions) (*RemoteList, error) {
	p := newJSONParser(data, opt)
	out := &RemoteList{}
	p.ws()
	if !p.eat('{') {
		return nil, p.errorf("list: want an object")
	}
	for first := true; ; first = false {
		p.ws()
		if p.eat('}') {
			return out, nil
		}
		if !first && !p.eat(',') {
			return nil, p.errorf("list: want , or }")
		}
		p.ws()
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if !p.eat(':') {
			return nil, p.errorf("list: want :")
		}
		p.ws()
		switch key {
		case "metadata":
			var lm struct {
				Continue        string `json:"continue"`
				ResourceVersion string `json:"resourceVersion"`
			}
			start := p.i
			if err := p.skip(0); err != nil {
				return nil, err
			}
			if err := json.Unmarshal(p.data[start:p.i], &lm); err != nil {
				return nil, fmt.Errorf("list metadata: %w", err)
			}
			out.Continue, out.ResourceVersion = lm.Continue, lm.ResourceVersion
		case "items":
			if p.peek() == 'n' {
				if err := p.skip(0); err != nil {
					return nil, err
				}
				continue
			}
			if !p.eat('[') {
				return nil, p.errorf("items: want an array")
			}
			for i := 0; ; i++ {
				p.ws()
				if p.eat(']') {
					break
				}
				if i > 0 && !p.eat(',') {
					return nil, p.errorf("items: want , or ]")
				}
				p.ws()
				n, err := p.object(1, roleRoot)
				if err != nil {
					return nil, err
				}
				o, err := p.toObject(n)
				if err != nil {
					return nil, fmt.Errorf("item %d: %w", i, err)
				}
				out.Items = append(out.Items, o)
			}
		default:
			if err := p.skip(0); err != nil {
				return nil, err
			}
		}
	}
}

type jsonParser struct {
	data []byte
	i    int
	opt  RemoteOptions
	// keys interns mapping keys: the same few hundred names repeat in
	// every object of a list.
	keys map[string]string
}

func newJSONParser(data []byte, opt RemoteOptions) *jsonParser {
	return &jsonParser{data: data, opt: opt, keys: map[string]string{}}
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsonParser) ws() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.data) {
		return p.data[p.i]
	}
	return 0
}

func (p *jsonParser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

// toObject fills in apiVersion and kind where the server left them out
// and wraps the tree.
func (p *jsonParser) toObject(n *yaml.Node) (*Object, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a JSON object")
	}
	var head []*yaml.Node
	for _, kv := range [][2]string{{"apiVersion", p.opt.APIVersion}, {"kind", p.opt.Kind}} {
		if kv[1] != "" && ScalarString(n, kv[0]) == "" {
			head = append(head, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[0]},
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[1]})
		}
	}
	if head != nil {
		n.Content = append(head, n.Content...)
	}
	o, reason := newObject(n, "", 0, -1)
	if o == nil {
		return nil, fmt.Errorf("%s", reason)
	}
	o.Locator = remoteLocator{}
	return o, nil
}

// remoteLocator places every field of a server object nowhere: there is
// no file; reports show the object and the field path instead.
type remoteLocator struct{}

func (remoteLocator) Locate(Path) finding.Location { return finding.Location{} }

const maxJSONDepth = DefaultMaxDepth

// value parses any JSON value at depth.
func (p *jsonParser) value(depth int) (*yaml.Node, error) {
	if depth > maxJSONDepth {
		return nil, p.errorf("nested deeper than %d", maxJSONDepth)
	}
	switch c := p.peek(); {
	case c == '{':
		return p.object(depth, roleOther)
	case c == '[':
		p.i++
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := 0; ; i++ {
			p.ws()
			if p.eat(']') {
				return n, nil
			}
			if i > 0 && !p.eat(',') {
				return nil, p.errorf("want , or ]")
			}
			p.ws()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: s}, nil
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range [...]struct{ word, tag string }{{"true", "!!bool"}, {"false", "!!bool"}, {"null", "!!null"}} {
			if len(p.data)-p.i >= len(lit.word) && string(p.data[p.i:p.i+len(lit.word)]) == lit.word {
				p.i += len(lit.word)
				return &yaml.Node{Kind: yaml.ScalarNode, Tag: lit.tag, Value: lit.word}, nil
			}
		}
		return nil, p.errorf("unknown literal")
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		float := false
		for p.i < len(p.data) {
			c := p.data[p.i]
			if c == '.' || c == 'e' || c == 'E' {
				float = true
			} else if !(c == '-' || c == '+' || (c >= '0' && c <= '9')) {
				break
			}
			p.i++
		}
		tag := "!!int"
		if float {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(p.data[start:p.i])}, nil
	default:
		return nil, p.errorf("unexpected %q", c)
	}
}

// Roles of a mapping, for what is skipped inside it.
const (
	roleOther = iota
	roleRoot  // the object itself: Drop applies
	roleMeta  // its metadata: managedFields is skipped
)

// object parses a JSON object into a mapping node, skipping
// metadata.managedFields (and the dropped top-level fields) unread.
func (p *jsonParser) object(depth, role int) (*yaml.Node, error) {
	if !p.eat('{') {
		return nil, p.errorf("want an object")
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for first := true; ; first = false {
		p.ws()
		if p.eat('}') {
			return n, nil
		}
		if !first && !p.eat(',') {
			return nil, p.errorf("want , or }")
		}
		p.ws()
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		p.ws()
		if !p.eat(':') {
			return nil, p.errorf("want :")
		}
		p.ws()
		if p.skipped(role, key) {
			if err := p.skip(depth + 1); err != nil {
				return nil, err
			}
			continue
		}
		var v *yaml.Node
		if role == roleRoot && key == "metadata" && p.peek() == '{' {
			v, err = p.object(depth+1, roleMeta)
		} else {
			v, err = p.value(depth + 1)
		}
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	}
}

// skipped reports whether the value of key in a mapping of the given
// role is left unbuilt.
func (p *jsonParser) skipped(role int, key string) bool {
	switch role {
	case roleRoot:
		for _, d := range p.opt.Drop {
			if d == key {
				return true
			}
		}
	case roleMeta:
		return key == "managedFields"
	}
	return false
}

// key parses a mapping key, interned.
func (p *jsonParser) key() (string, error) {
	start := p.i
	if !p.eat('"') {
		return "", p.errorf("want a string key")
	}
	for p.i < len(p.data) {
		c := p.data[p.i]
		if c == '\\' {
			p.i = start
			return p.str()
		}
		if c == '"' {
			raw := p.data[start+1 : p.i]
			p.i++
			if s, ok := p.keys[string(raw)]; ok {
				return s, nil
			}
			if !utf8.Valid(raw) {
				p.i = start
				return p.str()
			}
			s := string(raw)
			p.keys[s] = s
			return s, nil
		}
		p.i++
	}
	return "", p.errorf("unterminated string")
}

// str parses a JSON string; strings with escapes go through encoding/json.
func (p *jsonParser) str() (string, error) {
	start := p.i
	if !p.eat('"') {
		return "", p.errorf("want a string")
	}
	escaped := false
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '\\':
			escaped = true
			p.i += 2
			continue
		case c == '"':
			p.i++
			raw := p.data[start:p.i]
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", fmt.Errorf("invalid JSON string at byte %d: %w", start, err)
			}
			return s, nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		}
		p.i++
	}
	return "", p.errorf("unterminated string")
}

// skip moves past one value without building it.
func (p *jsonParser) skip(depth int) error {
	if depth > maxJSONDepth+1 {
		return p.errorf("nested deeper than %d", maxJSONDepth)
	}
	switch c := p.peek(); c {
	case '"':
		_, err := p.skipStr()
		return err
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		for first := true; ; first = false {
			p.ws()
			if p.eat(end) {
				return nil
			}
			if !first && !p.eat(',') {
				return p.errorf("want , or %c", end)
			}
			p.ws()
			if c == '{' {
				if _, err := p.skipStr(); err != nil {
					return err
				}
				p.ws()
				if !p.eat(':') {
					return p.errorf("want :")
				}
				p.ws()
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
		}
	default:
		start := p.i
		for p.i < len(p.data) {
			switch p.data[p.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if p.i == start {
					return p.errorf("unexpected %q", p.data[p.i])
				}
				if _, err := strconv.ParseFloat(string(p.data[start:p.i]), 64); err != nil {
					if w := string(p.data[start:p.i]); w != "true" && w != "false" && w != "null" {
						return p.errorf("invalid literal %q", w)
					}
				}
				return nil
			}
			p.i++
		}
		return p.errorf("unexpected end")
	}
}

func (p *jsonParser) skipStr() (int, error) {
	if !p.eat('"') {
		return 0, p.errorf("want a string")
	}
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case '\\':
			p.i += 2
			continue
		case '"':
			p.i++
			return p.i, nil
		}
		p.i++
	}
	return 0, p.errorf("unterminated string")
}

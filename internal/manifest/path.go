package manifest

import (
	"strconv"
	"strings"
)

// PathElem is one step of a field path: a mapping key, or a sequence index.
// Name, when set on an index step, is the item's identity (a container's
// name); fingerprints use it so that reordering containers changes nothing.
type PathElem struct {
	Key   string
	Index int // -1 for a key step
	Name  string
}

// Path addresses a field inside an object, relative to the object's root.
type Path []PathElem

// ParsePath parses the dotted form "spec.containers[0].image". It is meant
// for tests and static paths; it does not accept keys containing dots.
func ParsePath(s string) Path {
	var p Path
	if s == "" {
		return p
	}
	for _, part := range strings.Split(s, ".") {
		key := part
		var idx []int
		if i := strings.IndexByte(part, '['); i >= 0 {
			key = part[:i]
			rest := part[i:]
			for strings.HasPrefix(rest, "[") {
				j := strings.IndexByte(rest, ']')
				if j < 0 {
					break
				}
				n, err := strconv.Atoi(rest[1:j])
				if err == nil {
					idx = append(idx, n)
				}
				rest = rest[j+1:]
			}
		}
		if key != "" {
			p = append(p, PathElem{Key: key, Index: -1})
		}
		for _, n := range idx {
			p = append(p, PathElem{Index: n})
		}
	}
	return p
}

// Key returns a new path with a mapping key appended.
func (p Path) Key(keys ...string) Path {
	out := make(Path, len(p), len(p)+len(keys))
	copy(out, p)
	for _, k := range keys {
		out = append(out, PathElem{Key: k, Index: -1})
	}
	return out
}

// Item returns a new path with a sequence index appended; name is the
// item's identity for fingerprints (may be empty).
func (p Path) Item(i int, name string) Path {
	out := make(Path, len(p), len(p)+1)
	copy(out, p)
	return append(out, PathElem{Index: i, Name: name})
}

// String renders the path as "spec.containers[0].image".
func (p Path) String() string { return p.render(false) }

// Identity renders the path with item names instead of indices where known:
// "spec.containers[app].image". Fingerprints hash this form.
func (p Path) Identity() string { return p.render(true) }

func (p Path) render(identity bool) string {
	var b strings.Builder
	for i, e := range p {
		if e.Index >= 0 {
			b.WriteByte('[')
			if identity && e.Name != "" {
				b.WriteString(e.Name)
			} else {
				b.WriteString(strconv.Itoa(e.Index))
			}
			b.WriteByte(']')
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.Key)
	}
	return b.String()
}

// HasPrefix reports whether q is a prefix of p.
func (p Path) HasPrefix(q Path) bool {
	if len(q) > len(p) {
		return false
	}
	for i := range q {
		if p[i].Key != q[i].Key || p[i].Index != q[i].Index {
			return false
		}
	}
	return true
}

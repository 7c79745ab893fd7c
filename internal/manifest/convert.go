package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	gojson "github.com/goccy/go-json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ErrAliasBudget is returned when expanding aliases would produce more
// nodes than allowed.
var ErrAliasBudget = errors.New("YAML aliases expand to too many nodes (alias bomb?)")

// ToJSON renders the node as JSON, resolving YAML scalar types the way
// Kubernetes' YAML decoding does. budget bounds the number of nodes
// emitted, so alias expansion cannot blow up.
func ToJSON(n *yaml.Node, budget int) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(1024)
	if err := encodeJSON(&b, n, budget); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeJSON appends n as JSON to b within budget nodes (0: the default).
func encodeJSON(b *bytes.Buffer, n *yaml.Node, budget int) error {
	if budget <= 0 {
		budget = DefaultMaxAliasExpansion
	}
	return writeJSON(b, n, &budget, 0)
}

// DecodeInto decodes the node into a Go value (typically a Kubernetes API
// struct) through JSON, so json tags apply.
func DecodeInto(n *yaml.Node, v any) error {
	return withJSON(n, func(data []byte) error {
		// goccy/go-json decodes Kubernetes types about three times faster
		// than encoding/json; decoding is most of the per-object cost. Its
		// errors are vaguer, so a failure is decoded again for a precise
		// message.
		if err := gojson.Unmarshal(data, v); err != nil {
			if stdErr := json.Unmarshal(data, v); stdErr != nil {
				return fieldError(n, stdErr)
			}
			return err
		}
		return nil
	})
}

// withJSON encodes n as JSON into a pooled buffer and hands it to use;
// an encoding error (an alias bomb) is returned as it is. use must not
// keep data: the buffer is reused (both JSON decoders copy what they
// keep).
func withJSON(n *yaml.Node, use func(data []byte) error) error {
	b := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if b.Cap() <= 1<<20 {
			b.Reset()
			jsonBuffers.Put(b)
		}
	}()
	if err := encodeJSON(b, n, 0); err != nil {
		return err
	}
	return use(b.Bytes())
}

// isQuantityError reports whether err is resource.Quantity's own parse
// error, which names no field.
func isQuantityError(err error) bool {
	return errors.Is(err, resource.ErrFormatWrong) || errors.Is(err, resource.ErrSuffix) || errors.Is(err, resource.ErrNumeric)
}

// FieldError is a field of the wrong type found by DecodeInto: Path (with
// sequence indices, relative to the decoded node) and Line say where it
// is written.
type FieldError struct {
	Path Path
	Line int
	err  *json.UnmarshalTypeError
	// other is a value its type's own decoding rejected (a quantity
	// "2 GB"), when err is nil.
	other error
}

func (e *FieldError) Error() string { return e.message(e.Path) }

func (e *FieldError) message(p Path) string {
	if e.err == nil {
		return fmt.Sprintf("field %s: %v", p, e.other)
	}
	return fmt.Sprintf("field %s: cannot use %s where %s is expected", p, aJSON(e.err.Value), jsonType(e.err.Type))
}

func (e *FieldError) Unwrap() error {
	if e.err == nil {
		return e.other
	}
	return e.err
}

// Under returns the error for a node decoded at prefix of its object:
// the field's full path (for Object.Locate, which also finds rendered
// fields in their source) and the message naming it, e.g.
// "field spec.volumes[1].fc.lun: cannot use a string where an integer is
// expected".
func (e *FieldError) Under(prefix Path) (Path, string) {
	full := append(append(Path{}, prefix...), e.Path...)
	return full, e.message(full)
}

// fieldError turns a JSON type error into a FieldError when the field can
// be found in n. The JSON error's path has no sequence indices and names
// embedded Go structs (volumes.VolumeSource.fc.lun): every item is tried,
// and a step that is not a key of the YAML mapping but a Go type name is
// skipped; the first value whose YAML type cannot be what was expected
// wins.
func fieldError(root *yaml.Node, err error) error {
	var te *json.UnmarshalTypeError
	if isQuantityError(err) {
		// A quantity's own error names no field: find the value.
		if p, line := badQuantity(root, nil); line > 0 {
			return &FieldError{Path: p, Line: line, other: notQuantity{err}}
		}
		return err
	}
	if !errors.As(err, &te) || te.Field == "" {
		return err
	}
	keys := strings.Split(te.Field, ".")
	var found Path
	line := 0
	var visit func(n *yaml.Node, i int, p Path) bool
	visit = func(n *yaml.Node, i int, p Path) bool {
		n = Resolve(n)
		if n == nil {
			return false
		}
		if n.Kind == yaml.SequenceNode && i == len(keys) && te.Value == "array" && te.Type.Kind() != reflect.Slice && te.Type.Kind() != reflect.Array {
			// The list itself is the bad value (securityContext: [1]),
			// not one of its items.
			if line == 0 {
				found, line = p, n.Line
			}
			return true
		}
		if n.Kind == yaml.SequenceNode {
			for j, c := range n.Content {
				if visit(c, i, p.Item(j, ScalarString(Resolve(c), "name"))) {
					return true
				}
			}
			return false
		}
		if i == len(keys) {
			if line == 0 {
				found, line = p, n.Line
			}
			if n.Kind == yaml.MappingNode && te.Type.Kind() != reflect.Map && te.Type.Kind() != reflect.Struct {
				// A map's value of the wrong type (labels: {a: [1]}): the
				// JSON path stops at the map.
				for j := 0; j+1 < len(n.Content); j += 2 {
					if jsonKind(Resolve(n.Content[j+1])) == te.Value {
						found, line = p.Key(n.Content[j].Value), n.Content[j].Line
						return true
					}
				}
			}
			if te.Value == "string" {
				return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str"
			}
			return n.ShortTag() != "!!str"
		}
		k, v := MapGet(n, keys[i])
		if v == nil {
			if goTypeName(keys[i]) {
				return visit(n, i+1, p)
			}
			return false
		}
		if visit(v, i+1, p.Key(keys[i])) {
			if len(found) == len(p)+1 && k != nil && (Resolve(v).Kind != yaml.SequenceNode || te.Value == "array") {
				line = k.Line // the key of the bad value
			}
			return true
		}
		return false
	}
	if visit(root, 0, nil) || line > 0 {
		return &FieldError{Path: found, Line: line, err: te}
	}
	return err
}

// quantityParents are the mappings whose values are quantities
// (resources.limits, ResourceQuota hard, …).
var quantityParents = map[string]bool{"limits": true, "requests": true, "hard": true, "overhead": true, "capacity": true, "allocatable": true}

// notQuantity is the error of a value that is not a quantity, said in
// the user's terms (resource's own names a regular expression).
type notQuantity struct{ err error }

func (e notQuantity) Error() string { return "not a quantity (e.g. 500m, 1.5, 64Mi, 2Gi)" }
func (e notQuantity) Unwrap() error { return e.err }

// badQuantity finds the first scalar written where a quantity belongs
// that does not parse as one.
func badQuantity(n *yaml.Node, p Path) (Path, int) {
	n = Resolve(n)
	if n == nil {
		return nil, 0
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for j, c := range n.Content {
			if q, line := badQuantity(c, p.Item(j, ScalarString(Resolve(c), "name"))); line > 0 {
				return q, line
			}
		}
	case yaml.MappingNode:
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, v := n.Content[j], Resolve(n.Content[j+1])
			if v == nil {
				continue
			}
			under := len(p) > 0 && quantityParents[p[len(p)-1].Key] || k.Value == "sizeLimit"
			if under && v.Kind == yaml.ScalarNode {
				if _, err := resource.ParseQuantity(v.Value); err != nil {
					return p.Key(k.Value), k.Line
				}
				continue
			}
			if q, line := badQuantity(v, p.Key(k.Value)); line > 0 {
				return q, line
			}
		}
	}
	return nil, 0
}

// jsonKind is the JSON kind of a node as encoding/json names it in type
// errors.
func jsonKind(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	switch n.Kind {
	case yaml.SequenceNode:
		return "array"
	case yaml.MappingNode:
		return "object"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "number"
	case "!!bool":
		return "bool"
	case "!!null":
		return "null"
	}
	return "string"
}

// aJSON names a JSON kind with its article for messages.
func aJSON(kind string) string {
	switch kind {
	case "array":
		return "an array"
	case "object":
		return "a mapping"
	case "bool":
		return "a boolean"
	}
	return "a " + kind
}

// goTypeName reports whether a step of a JSON error path is an embedded
// Go struct's name rather than a JSON key (JSON keys of Kubernetes types
// start in lower case).
func goTypeName(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

// jsonBuffers recycles DecodeInto's intermediate JSON, which would
// otherwise be most of a run's garbage after the node trees.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func writeJSON(b *bytes.Buffer, n *yaml.Node, budget *int, depth int) error {
	*budget--
	if *budget < 0 {
		return ErrAliasBudget
	}
	if depth > 10000 {
		return errors.New("YAML nested too deeply")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return writeJSON(b, n.Content[0], budget, depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			b.WriteString("null")
			return nil
		}
		return writeJSON(b, n.Alias, budget, depth+1)
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c, budget, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case yaml.MappingNode:
		b.WriteByte('{')
		first := true
		var err error
		forEachPair(n, func(k, v *yaml.Node) bool {
			if !first {
				b.WriteByte(',')
			}
			first = false
			writeString(b, k.Value)
			b.WriteByte(':')
			err = writeJSON(b, v, budget, depth+1)
			return err == nil
		}, 0)
		if err != nil {
			return err
		}
		b.WriteByte('}')
		return nil
	case yaml.ScalarNode:
		writeScalar(b, n)
		return nil
	}
	b.WriteString("null")
	return nil
}

// forEachPair iterates a mapping's pairs with merge keys ("<<") expanded;
// explicit keys win over merged ones. Duplicate keys are all emitted: JSON
// decoding keeps the last, and the loader has already reported them.
func forEachPair(n *yaml.Node, fn func(k, v *yaml.Node) bool, depth int) bool {
	hasMerge := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value == "<<" && k.Tag == "!!merge" {
			hasMerge = true
			break
		}
	}
	if !hasMerge {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !fn(n.Content[i], n.Content[i+1]) {
				return false
			}
		}
		return true
	}
	var merges []*yaml.Node
	explicit := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Value == "<<" && k.Tag == "!!merge" {
			merges = append(merges, n.Content[i+1])
			continue
		}
		explicit[k.Value] = true
		if !fn(k, n.Content[i+1]) {
			return false
		}
	}
	if depth > 16 {
		return true
	}
	for _, m := range merges {
		m = Resolve(m)
		srcs := []*yaml.Node{m}
		if m != nil && m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, s := range srcs {
			s = Resolve(s)
			if s == nil || s.Kind != yaml.MappingNode {
				continue
			}
			ok := forEachPair(s, func(k, v *yaml.Node) bool {
				if explicit[k.Value] {
					return true
				}
				explicit[k.Value] = true
				return fn(k, v)
			}, depth+1)
			if !ok {
				return false
			}
		}
	}
	return true
}

// writeString writes s as a JSON string; the common case (nothing to
// escape) is copied as is.
func writeString(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			enc, _ := json.Marshal(s)
			b.Write(enc)
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}

func writeScalar(b *bytes.Buffer, n *yaml.Node) {
	v := n.Value
	// Kubernetes reads YAML with YAML 1.1 rules (sigs.k8s.io/yaml): plain
	// yes/no/on/off are booleans there, so `hostNetwork: yes` deploys with
	// the host network. yaml.v3 (YAML 1.2) would call them strings.
	if n.Style == 0 {
		if bv, ok := yaml11Bools[v]; ok {
			if bv {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
			return
		}
	}
	switch n.ShortTag() {
	case "!!null":
		b.WriteString("null")
		return
	case "!!bool":
		switch strings.ToLower(v) {
		case "true", "yes", "on", "y":
			b.WriteString("true")
		default:
			b.WriteString("false")
		}
		return
	case "!!int":
		s := strings.ReplaceAll(v, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			b.WriteString(strconv.FormatInt(i, 10))
			return
		}
		if u, err := strconv.ParseUint(s, 0, 64); err == nil {
			b.WriteString(strconv.FormatUint(u, 10))
			return
		}
		if strings.HasPrefix(s, "0o") || strings.HasPrefix(s, "0O") {
			if i, err := strconv.ParseInt(s[2:], 8, 64); err == nil {
				b.WriteString(strconv.FormatInt(i, 10))
				return
			}
		}
	case "!!float":
		if f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
			return
		}
	}
	writeString(b, v)
}

// yaml11Bools are the plain scalars YAML 1.1 resolves to booleans beyond
// YAML 1.2's true/false.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

// DecodeError makes a json decoding error readable: it names the field.
func DecodeError(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Error()
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s: cannot use %s where %s is expected", te.Field, aJSON(te.Value), jsonType(te.Type))
	}
	return err.Error()
}

func jsonType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := t.String()
	switch {
	case strings.HasSuffix(name, "IntOrString"):
		return "an integer or a string"
	case strings.HasSuffix(name, "Quantity"):
		return "a quantity (a string or a number)"
	case strings.HasSuffix(name, ".Time") || strings.HasSuffix(name, ".MicroTime"):
		return "a timestamp"
	}
	// By kind, not name: v1.Protocol is a string, v1.Container a mapping.
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	}
	return name
}

// FieldLine returns the line of the field a DecodeInto error names (0
// when unknown).
func FieldLine(root *yaml.Node, err error) int {
	var fe *FieldError
	if !errors.As(err, &fe) {
		if errors.As(fieldError(root, err), &fe) {
			return fe.Line
		}
		return 0
	}
	return fe.Line
}

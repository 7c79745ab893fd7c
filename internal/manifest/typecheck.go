package manifest

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// CheckTypes reports the first field of n that decoding n into a value of
// type t (DecodeInto) would reject for its type, as a *FieldError; nil
// when there is none. It walks the node tree beside the Go type and
// decodes nothing but the values of types with their own JSON decoding
// (quantities, int-or-strings, times, base64 bytes) and the bad value
// itself, for the decoder's exact verdict and message: checking an object
// costs far less than decoding it. Unknown fields are skipped, and so are
// the fields at skip (paths of mapping keys, at most 64).
func CheckTypes(n *yaml.Node, t reflect.Type, skip ...Path) error {
	if len(skip) > 64 {
		skip = skip[:64]
	}
	if fe := checkNode(n, t, 0, skip, 1<<len(skip)-1); fe != nil {
		// The path was built leaf first.
		for i, j := 0, len(fe.Path)-1; i < j; i, j = i+1, j-1 {
			fe.Path[i], fe.Path[j] = fe.Path[j], fe.Path[i]
		}
		return fe
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType        = reflect.TypeFor[metav1.Time]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
)

// isInt reports whether n is written as an integer that fits in bits.
func isInt(n *yaml.Node, bits int) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || nodeJSONKind(n) != "number" {
		return false
	}
	_, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, bits)
	return err == nil
}

// checkNode checks n, at depth in the struct fields of the root, against
// t; the error's path is reversed. Bit i of mask says that skip[i] leads
// through n.
func checkNode(n *yaml.Node, t reflect.Type, depth int, skip []Path, mask uint64) *FieldError {
	n = Resolve(n)
	if n == nil || depth > 200 {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	info := typeInfoOf(t)
	kind := nodeJSONKind(n)
	if info.custom {
		// The commonest self-decoding values, settled without decoding:
		// creationTimestamp: null, maxSurge: 25%.
		switch {
		case t == timeType && kind == "null":
			return nil
		case t == intOrStringType && (kind == "null" || kind == "string" || isInt(n, 32)):
			return nil
		}
		return decodeValue(n, t)
	}
	if kind == "null" {
		return nil
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil
	case reflect.String:
		if kind == "string" {
			return nil
		}
	case reflect.Bool:
		if kind == "bool" {
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if isInt(n, t.Bits()) {
			return nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if kind == "number" && n.ShortTag() == "!!int" {
			if _, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, t.Bits()); err == nil {
				return nil
			}
		}
	case reflect.Float32, reflect.Float64:
		if kind == "number" {
			return nil
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			break // base64: the decoder checks it
		}
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				if fe := checkNode(c, t.Elem(), depth+1, nil, 0); fe != nil {
					fe.Path = append(fe.Path, PathElem{Index: i, Name: ScalarString(Resolve(c), "name")})
					return fe
				}
			}
			return nil
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode && t.Key().Kind() == reflect.String {
			return checkPairs(n, t, depth, nil, 0)
		}
	case reflect.Struct:
		if n.Kind == yaml.MappingNode {
			return checkPairs(n, t, depth, skip, mask)
		}
	}
	// A mismatch, or a case the shortcuts above do not settle: the
	// decoder decides and words the error.
	return decodeValue(n, t)
}

// checkPairs checks the values of mapping n against map or struct type t.
func checkPairs(n *yaml.Node, t reflect.Type, depth int, skip []Path, mask uint64) *FieldError {
	if !hasMergeKey(n) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if bad := checkPair(n.Content[i], n.Content[i+1], t, depth, skip, mask); bad != nil {
				return bad
			}
		}
		return nil
	}
	var bad *FieldError
	forEachPair(n, func(k, v *yaml.Node) bool {
		bad = checkPair(k, v, t, depth, skip, mask)
		return bad == nil
	}, 0)
	return bad
}

// checkPair checks the value v of key k in a mapping of map or struct
// type t.
func checkPair(k, v *yaml.Node, t reflect.Type, depth int, skip []Path, mask uint64) *FieldError {
	vt := t
	if t.Kind() == reflect.Map {
		vt = t.Elem()
	} else {
		ft, ok := typeInfoOf(t).fields[k.Value]
		if !ok {
			return nil // unknown fields are not errors
		}
		vt = ft
		var child uint64
		for i := range skip {
			if mask&(1<<i) != 0 && depth < len(skip[i]) && skip[i][depth].Key == k.Value {
				if depth+1 == len(skip[i]) {
					return nil
				}
				child |= 1 << i
			}
		}
		mask = child
	}
	if mask == 0 {
		skip = nil
	}
	bad := checkNode(v, vt, depth+1, skip, mask)
	if bad != nil {
		bad.Path = append(bad.Path, PathElem{Key: k.Value, Index: -1})
		if len(bad.Path) == 1 {
			if rv := Resolve(v); rv != nil && rv.Kind != yaml.SequenceNode {
				bad.Line = k.Line // the key of the bad value
			}
		}
	}
	return bad
}

// hasMergeKey reports whether mapping n has a "<<" merge key.
func hasMergeKey(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value == "<<" && k.Tag == "!!merge" {
			return true
		}
	}
	return false
}

// decodeValue decodes n into a new t with encoding/json and returns its
// error as a *FieldError (path reversed, relative to n).
func decodeValue(n *yaml.Node, t reflect.Type) *FieldError {
	var fe *FieldError
	encErr := withJSON(n, func(data []byte) error {
		fe = valueError(n, json.Unmarshal(data, reflect.New(t).Interface()))
		return nil
	})
	if encErr != nil {
		return &FieldError{Line: n.Line, other: encErr}
	}
	return fe
}

// valueError is decodeValue's verdict on encoding/json's error for n.
func valueError(n *yaml.Node, err error) *FieldError {
	if err == nil {
		return nil
	}
	if fe, ok := fieldError(n, err).(*FieldError); ok {
		p := fe.Path
		for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
			p[i], p[j] = p[j], p[i]
		}
		return fe
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field == "" {
		return &FieldError{Line: n.Line, err: te}
	}
	if isQuantityError(err) {
		err = notQuantity{err}
	}
	return &FieldError{Line: n.Line, other: err}
}

// nodeJSONKind is the JSON kind n is written as by ToJSON (yes/no are
// booleans, an !!int that does not parse is a string).
func nodeJSONKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "array"
	case yaml.MappingNode:
		return "object"
	case yaml.ScalarNode:
	default:
		return "null"
	}
	if n.Style == 0 {
		if _, ok := yaml11Bools[n.Value]; ok {
			return "bool"
		}
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "bool"
	case "!!int", "!!float":
		// ToJSON writes numbers it cannot parse as strings; the
		// decoder settles those rare cases.
		return "number"
	}
	return "string"
}

// typeInfo is what checking needs to know of a Go type.
type typeInfo struct {
	// custom: values decode themselves (UnmarshalJSON or UnmarshalText).
	custom bool
	// fields maps a struct's JSON names, embedded structs' included, to
	// their types.
	fields map[string]reflect.Type
}

var typeInfos sync.Map // reflect.Type → *typeInfo

func typeInfoOf(t reflect.Type) *typeInfo {
	if ti, ok := typeInfos.Load(t); ok {
		return ti.(*typeInfo)
	}
	pt := reflect.PointerTo(t)
	ti := &typeInfo{custom: t.Implements(jsonUnmarshaler) || pt.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) || pt.Implements(textUnmarshaler)}
	if t.Kind() == reflect.Struct {
		ti.fields = map[string]reflect.Type{}
		addFields(ti.fields, t, 0)
	}
	v, _ := typeInfos.LoadOrStore(t, ti)
	return v.(*typeInfo)
}

func addFields(fields map[string]reflect.Type, t reflect.Type, depth int) {
	var inline []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				inline = append(inline, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := fields[name]; !ok {
			fields[name] = f.Type
		}
	}
	// Outer fields win over embedded ones, as in encoding/json.
	if depth < 10 {
		for _, it := range inline {
			addFields(fields, it, depth+1)
		}
	}
}

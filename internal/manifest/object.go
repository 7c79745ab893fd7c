package manifest

import (
	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// Object is one Kubernetes object with the YAML node tree it was decoded
// from, so that any field path resolves to a line and column.
type Object struct {
	// File is the path shown to users (relative to the working directory
	// when possible, "<stdin>" for standard input).
	File string
	// Doc is the 0-based index of the YAML document in File; Item is the
	// index inside a List object, or -1.
	Doc  int
	Item int
	// Node is the mapping node of the object. Its line numbers are
	// absolute within File.
	Node *yaml.Node

	APIVersion  string
	Kind        string
	Name        string
	Namespace   string
	Labels      map[string]string
	Annotations map[string]string

	// Locator maps field paths to positions. Nil means Node is the source
	// (plain YAML); renderers set it to point into the user's own files.
	Locator Locator
	// Origin says how the object was produced when it was rendered, e.g.
	// "kustomize build overlays/prod"; empty for plain YAML.
	Origin string
}

// Ref returns the object's identity.
func (o *Object) Ref() finding.ObjectRef {
	return finding.ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// Locate returns where the field at p (or its nearest existing ancestor) is
// written in the user's source.
func (o *Object) Locate(p Path) finding.Location {
	if o.Locator != nil {
		return o.Locator.Locate(p)
	}
	return NodeLocator{File: o.File, Root: o.Node}.Locate(p)
}

// Group returns the API group of the object ("" for the core group).
func (o *Object) Group() string {
	for i := 0; i < len(o.APIVersion); i++ {
		if o.APIVersion[i] == '/' {
			return o.APIVersion[:i]
		}
	}
	return ""
}

// Get returns the node at p, following aliases, or nil.
func (o *Object) Get(p Path) *yaml.Node {
	n, depth := Walk(o.Node, p)
	if depth != len(p) {
		return nil
	}
	return n
}

// Locator maps a field path inside an object to a source position.
type Locator interface {
	Locate(p Path) finding.Location
}

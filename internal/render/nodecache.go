package render

import (
	"encoding/binary"
	"hash/maphash"
	"sync"

	"gopkg.in/yaml.v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// A build renders identical subtrees again and again (a CRD's versions,
// each with the same schema; the same volumes in several workloads).
// nodeCache converts kustomize's resource trees straight into the node
// trees rules read — no YAML text in between — and shares identical
// subtrees within one kustomization build. Nothing mutates a node tree
// after loading (the engine freezes locations into a separate record), so
// sharing is safe. It lives as long as the build: its objects are checked
// and frozen one by one, and sharing beyond the build would only keep
// every tree of a run alive.
type nodeCache struct {
	mu    sync.Mutex
	seeds [2]maphash.Seed
	nodes map[nodeKey]*yaml.Node
}

type nodeKey [2]uint64

func newNodeCache() *nodeCache {
	return &nodeCache{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, nodes: map[nodeKey]*yaml.Node{}}
}

// convert returns the shared tree for a rendered resource, without
// kustomize's build annotations (origin, transformations), and the number
// of nodes it has.
func (c *nodeCache) convert(n *kyaml.Node) (*yaml.Node, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var hs [2]maphash.Hash
	hs[0].SetSeed(c.seeds[0])
	hs[1].SetSeed(c.seeds[1])
	count := 0
	out, _ := c.node(n, &hs, 0, &count)
	return out, count
}

const maxConvertDepth = 10_000

func (c *nodeCache) node(n *kyaml.Node, hs *[2]maphash.Hash, depth int, count *int) (*yaml.Node, nodeKey) {
	if n == nil || depth > maxConvertDepth {
		return nil, nodeKey{}
	}
	*count++
	var content []*yaml.Node
	var keys []nodeKey
	if len(n.Content) > 0 {
		content = make([]*yaml.Node, 0, len(n.Content))
		keys = make([]nodeKey, 0, len(n.Content))
		for i := 0; i < len(n.Content); i++ {
			ch := n.Content[i]
			if n.Kind == kyaml.MappingNode && i%2 == 0 && i+1 < len(n.Content) && ch.Kind == kyaml.ScalarNode {
				if isBuildAnnotation(ch.Value) {
					i++ // skip the pair
					continue
				}
				if v := n.Content[i+1]; ch.Value == "annotations" && v.Kind == kyaml.MappingNode && onlyBuildAnnotations(v) {
					i++ // annotations that held nothing else
					continue
				}
			}
			cn, ck := c.node(ch, hs, depth+1, count)
			if cn == nil {
				continue
			}
			content = append(content, cn)
			keys = append(keys, ck)
		}
	}
	var k nodeKey
	for j := range hs {
		h := &hs[j]
		h.Reset()
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(n.Kind)<<32|uint64(n.Style))
		h.Write(b[:])
		h.WriteString(n.Tag)
		h.WriteByte(0)
		h.WriteString(n.Value)
		h.WriteByte(0)
		for _, ck := range keys {
			binary.LittleEndian.PutUint64(b[:], ck[j])
			h.Write(b[:])
		}
		k[j] = h.Sum64()
	}
	if shared, ok := c.nodes[k]; ok {
		return shared, k
	}
	out := &yaml.Node{
		Kind:        yaml.Kind(n.Kind),
		Style:       yaml.Style(n.Style),
		Tag:         n.Tag,
		Value:       n.Value,
		Anchor:      n.Anchor,
		Content:     content,
		HeadComment: n.HeadComment,
		LineComment: n.LineComment,
		FootComment: n.FootComment,
		Line:        n.Line,
		Column:      n.Column,
	}
	c.nodes[k] = out
	return out, k
}

func isBuildAnnotation(k string) bool {
	return k == originAnnotation || k == transformationAnnotation
}

func onlyBuildAnnotations(m *kyaml.Node) bool {
	if len(m.Content) == 0 {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !isBuildAnnotation(m.Content[i].Value) {
			return false
		}
	}
	return true
}

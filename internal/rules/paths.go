package rules

import (
	"strconv"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// subPath is p.Key(keys...) with room for spare more elements, in one
// allocation: rules extend a container's or the pod spec's path by a few
// keys (and sometimes an item) for every finding.
func subPath(p manifest.Path, spare int, keys ...string) manifest.Path {
	out := make(manifest.Path, len(p), len(p)+len(keys)+spare)
	copy(out, p)
	for _, k := range keys {
		out = append(out, manifest.PathElem{Key: k, Index: -1})
	}
	return out
}

// subPath2 is p.Key(first).Key(keys...) in one allocation.
func subPath2(p manifest.Path, spare int, first string, keys ...string) manifest.Path {
	out := make(manifest.Path, len(p), len(p)+1+len(keys)+spare)
	copy(out, p)
	out = append(out, manifest.PathElem{Key: first, Index: -1})
	for _, k := range keys {
		out = append(out, manifest.PathElem{Key: k, Index: -1})
	}
	return out
}

// describe is ct.Describe() (`container "app"`) without fmt.
func describe(ct *engine.ContainerRef) string {
	switch ct.Kind {
	case "initContainer":
		return "init container " + strconv.Quote(ct.Container.Name)
	case "ephemeralContainer":
		return "ephemeral container " + strconv.Quote(ct.Container.Name)
	}
	return "container " + strconv.Quote(ct.Container.Name)
}

// volPath is w.VolumePath(i).Key(keys...) in one allocation.
func volPath(w *engine.Workload, i int, keys ...string) manifest.Path {
	p := subPath(w.SpecPath, 1+len(keys), "volumes")
	p = append(p, manifest.PathElem{Index: i, Name: w.Spec.Volumes[i].Name})
	for _, k := range keys {
		p = append(p, manifest.PathElem{Key: k, Index: -1})
	}
	return p
}

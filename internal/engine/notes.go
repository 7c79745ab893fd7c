package engine

import "github.com/kubectl-secure/kubectl-secure/internal/manifest"

// Note keeps v for the set-level rule whose Prepare step is running, to be
// read back with SetContext.Note. Keep it small: it lives until the run
// ends, for every object.
func (c *Context) Note(v any) {
	if c.cache.notes == nil {
		c.cache.notes = map[*Rule]any{}
	}
	c.cache.notes[c.rule] = v
}

// Note returns what the rule's Prepare step kept for o, or nil.
func (c *SetContext) Note(o *manifest.Object) any {
	if oc := c.caches[o]; oc != nil {
		return oc.notes[c.rule]
	}
	return nil
}

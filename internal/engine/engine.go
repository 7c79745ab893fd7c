package engine

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Engine runs a registry's rules.
type Engine struct {
	Registry *Registry
	Settings Settings
	// Disabled rules are not run at all.
	Disabled map[string]bool
	// Workers bounds parallelism; 0 means GOMAXPROCS.
	Workers int
}

// Run lints objs. Findings come back in a deterministic order (object
// order, then rule order) before processors sort them; errors are objects
// whose fields could not be decoded.
func (e *Engine) Run(objs []*manifest.Object) ([]Raw, []finding.InputError) {
	return e.NewCollector().Finish(objs)
}

// rawScratch holds the buffers per-object checks report into: an object's
// findings are copied out at their final size, so a run allocates no
// append growth per object.
var rawScratch = sync.Pool{New: func() any { s := make([]Raw, 0, 64); return &s }}

type objResult struct {
	raws []Raw
	// errs are the object's input errors (fields of the wrong type in its
	// pod template and elsewhere), located while its node tree is whole.
	errs  []finding.InputError
	cache *objectCache
}

// Collector checks objects as they stream in (from any goroutine) and
// then runs the set-level rules over all of them. It lets the loader hand
// each object over while its node tree is hot and drop the tree right
// after, which keeps memory flat on large inputs.
type Collector struct {
	e       *Engine
	perObj  []*Rule
	prepare []*Rule // set-level rules with a Prepare step
	keepW   bool
	// readers are the enabled set-level rules' Reads; keepAll is set when
	// one of them reads every object (see Rule.Reads).
	readers []func(*manifest.Object) bool
	keepAll bool
	// whole keeps every object as loaded (no slimming, detaching or
	// freezing): the reference tests hold freezing to (export_test.go).
	whole    bool
	mu       sync.Mutex
	results  map[*manifest.Object]*objResult
	settings Settings
}

// NewCollector starts a run.
func (e *Engine) NewCollector() *Collector {
	c := &Collector{e: e, results: map[*manifest.Object]*objResult{}, settings: e.Settings}
	for _, r := range e.Registry.Rules() {
		if e.Disabled[r.ID] {
			continue
		}
		if r.Check != nil {
			c.perObj = append(c.perObj, r)
		} else {
			c.keepW = c.keepW || r.NeedsWorkloads
			if r.Reads == nil {
				c.keepAll = true
			} else {
				c.readers = append(c.readers, r.Reads)
			}
			if r.Prepare != nil {
				c.prepare = append(c.prepare, r)
			}
		}
	}
	return c
}

// Visit runs the per-object rules on o. It is safe for concurrent use,
// but every call must have returned before Finish is called.
func (c *Collector) Visit(o *manifest.Object) {
	r := c.check(o)
	c.mu.Lock()
	c.results[o] = r
	c.mu.Unlock()
}

// check runs the per-object rules, then slims or freezes the object.
// Workloads — the bulk of any large input — keep their pod-level fields,
// decoded and located, unless a set-level rule needs them whole
// (NeedsWorkloads). Other objects are frozen unless a set-level rule reads
// them (Rule.Reads): their node tree and locator go, and only their
// identity and the positions set-level rules report at stay. Objects they
// read keep their tree, with every position recorded (manifest.Detach).
func (c *Collector) check(o *manifest.Object) (r *objResult) {
	r = c.checkRules(o)
	if c.whole {
		return r
	}
	// Recording asks the object's locator for positions no rule asked
	// for; a locator's bug there costs this object, not the render whose
	// goroutine visits it. The object is left whole (nothing is dropped
	// before the record is made).
	defer func() {
		if p := recover(); p != nil {
			r.errs = append(r.errs, finding.InputError{File: o.File, Message: fmt.Sprintf("%s: internal error while checking: %v", o.Ref(), p)})
		}
	}()
	switch {
	case r.cache.w != nil:
		if !c.keepW {
			slimWorkload(o, r.cache.w)
		}
	case c.reads(o):
		// The tree stays for the set-level rules; a renderer's locator
		// (and the chart or overlay state behind it) does not.
		manifest.Detach(o, metadataPaths)
	default:
		manifest.Freeze(o, metadataPaths)
	}
	return r
}

// metadataPaths are where set-level rules report on an object they only
// know by its identity: a namespace's workloads, a binding's subjects.
var metadataPaths = []manifest.Path{
	manifest.ParsePath("metadata"), manifest.ParsePath("metadata.name"), manifest.ParsePath("metadata.namespace"),
	manifest.ParsePath("metadata.labels"), manifest.ParsePath("metadata.annotations"),
}

// reads reports whether an enabled set-level rule reads o's node tree.
func (c *Collector) reads(o *manifest.Object) bool {
	if c.keepAll {
		return true
	}
	for _, f := range c.readers {
		if f(o) {
			return true
		}
	}
	return false
}

func (c *Collector) checkRules(o *manifest.Object) (res *objResult) {
	cache := &objectCache{}
	res = &objResult{cache: cache}
	defer func() {
		if r := recover(); r != nil {
			res.errs = append(res.errs, inputError(o, fmt.Errorf("internal error while checking %s: %v", o.Ref(), r)))
		}
	}()
	// One context per object, its output slice shared by every rule: no
	// per-rule slices to copy.
	sp := rawScratch.Get().(*[]Raw)
	ctx := &Context{obj: o, settings: &c.settings, cache: cache, out: (*sp)[:0]}
	defer func() {
		// The buffer goes back to the pool without pointers into o.
		clear(ctx.out)
		*sp = ctx.out[:0]
		rawScratch.Put(sp)
	}()
	for _, rule := range c.perObj {
		ctx.rule = rule
		rule.Check(ctx, o)
	}
	for _, rule := range c.prepare {
		ctx.rule = rule
		rule.Prepare(ctx, o)
	}
	// Kept until the run ends: without append's spare capacity.
	res.raws = slices.Clone(ctx.out)
	cache.workload(o)
	for _, err := range unjoin(cache.err) {
		res.errs = append(res.errs, inputError(o, err))
	}
	for _, err := range unjoin(decodeObject(o)) {
		res.errs = append(res.errs, inputError(o, err))
	}
	return res
}

// unjoin lists the errors errors.Join put together (one per bad field of
// an object), or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// inputError places an object's error: a *DecodeError at its field,
// located through the object's Locator (so a rendered object's error
// points into its source), anything else at the object.
func inputError(o *manifest.Object, err error) finding.InputError {
	loc := o.Locate(nil)
	msg := fmt.Sprintf("%s: %v", o.Ref(), err)
	var de *DecodeError
	if errors.As(err, &de) {
		if de.Path != nil {
			loc = o.Locate(de.Path)
			// A rendered value says where it came from, as findings do:
			// a wrong type given with --set is fixed there.
			if ex, ok := o.Locator.(manifest.Explainer); ok {
				if note := ex.Explain(de.Path); note != "" {
					msg += " (" + note + ")"
				}
			}
		}
		// In a plain file the decoder's own line is exact.
		if de.Line > 0 && o.Locator == nil {
			loc.Line = de.Line
		}
	}
	return finding.InputError{File: loc.File, Line: loc.Line, Message: msg}
}

// Finish checks any object not visited yet (in parallel), runs set-level
// rules and returns everything in object order. It ends the run: the
// collector cannot be used afterwards.
func (c *Collector) Finish(objs []*manifest.Object) ([]Raw, []finding.InputError) {
	var todo []*manifest.Object
	for _, o := range objs {
		if _, ok := c.results[o]; !ok {
			todo = append(todo, o)
		}
	}
	workers := c.e.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan *manifest.Object)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range next {
				c.Visit(o)
			}
		}()
	}
	for _, o := range todo {
		next <- o
	}
	close(next)
	wg.Wait()

	var errs []finding.InputError
	caches := make(map[*manifest.Object]*objectCache, len(objs))
	total := 0
	for _, o := range objs {
		out := c.results[o]
		total += len(out.raws)
		caches[o] = out.cache
		errs = append(errs, out.errs...)
	}
	// Set-level rules run first so that the result is allocated once, at
	// its final size.
	var setRaws []Raw
	for _, rule := range c.e.Registry.Rules() {
		if rule.CheckSet == nil || c.e.Disabled[rule.ID] {
			continue
		}
		sc := &SetContext{rule: rule, settings: &c.settings, caches: caches}
		func() {
			defer func() {
				if r := recover(); r != nil {
					errs = append(errs, finding.InputError{File: "<rules>", Message: fmt.Sprintf("internal error in rule %s: %v", rule.ID, r)})
				}
			}()
			rule.CheckSet(sc, objs)
		}()
		setRaws = append(setRaws, sc.out...)
	}
	// The decoded (slim) workloads are no longer needed: let them go
	// before the result, the largest allocation of the run, is made.
	clear(caches)
	for _, out := range c.results {
		out.cache = nil
	}
	raws := make([]Raw, 0, total+len(setRaws))
	for _, o := range objs {
		out := c.results[o]
		raws = append(raws, out.raws...)
		out.raws = nil
	}
	raws = append(raws, setRaws...)
	// The run is over: release the per-object state (slim workloads).
	c.results = nil
	return raws, errs
}

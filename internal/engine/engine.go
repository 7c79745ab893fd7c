package engine

import (
	"errors"
	"fmt"
	"runtime"
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
	perRule := e.activeRules()
	type objOut struct {
		raws  []Raw
		err   error
		cache *objectCache
	}
	outs := make([]objOut, len(objs))
	workers := e.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outs[i] = func() (res objOut) {
					o := objs[i]
					cache := &objectCache{}
					res.cache = cache
					defer func() {
						if r := recover(); r != nil {
							res.err = fmt.Errorf("internal error while checking %s: %v", o.Ref(), r)
						}
					}()
					for _, rule := range perRule {
						c := &Context{rule: rule, obj: o, settings: &e.Settings, cache: cache}
						rule.Check(c, o)
						res.raws = append(res.raws, c.out...)
					}
					cache.workload(o)
					if cache.err != nil && res.err == nil {
						res.err = cache.err
					}
					return res
				}()
			}
		}()
	}
	for i := range objs {
		next <- i
	}
	close(next)
	wg.Wait()

	var raws []Raw
	var errs []finding.InputError
	caches := make(map[*manifest.Object]*objectCache, len(objs))
	for i, out := range outs {
		raws = append(raws, out.raws...)
		caches[objs[i]] = out.cache
		if out.err != nil {
			loc := objs[i].Locate(nil)
			var de *DecodeError
			if errors.As(out.err, &de) && de.Line > 0 && objs[i].Locator == nil {
				loc.Line = de.Line
			}
			errs = append(errs, finding.InputError{File: loc.File, Line: loc.Line, Message: fmt.Sprintf("%s: %v", objs[i].Ref(), out.err)})
		}
	}
	for _, rule := range e.Registry.Rules() {
		if rule.CheckSet == nil || e.Disabled[rule.ID] {
			continue
		}
		c := &SetContext{rule: rule, settings: &e.Settings, caches: caches}
		func() {
			defer func() {
				if r := recover(); r != nil {
					errs = append(errs, finding.InputError{File: "<rules>", Message: fmt.Sprintf("internal error in rule %s: %v", rule.ID, r)})
				}
			}()
			rule.CheckSet(c, objs)
		}()
		raws = append(raws, c.out...)
	}
	return raws, errs
}

func (e *Engine) activeRules() []*Rule {
	var rules []*Rule
	for _, r := range e.Registry.Rules() {
		if r.Check != nil && !e.Disabled[r.ID] {
			rules = append(rules, r)
		}
	}
	return rules
}

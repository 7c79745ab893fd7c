package plugin

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// defaultHeapTarget is the heap lint aims to stay within while what it
// keeps (findings, object identities) is small. With the Go default alone
// the heap grows to twice the live data plus what a cycle allocates while
// it marks: on the 10,000-object benchmark that is a 130 MB heap for 60 MB
// of live data.
const defaultHeapTarget = 120 << 20

// heapGovernor holds the heap near a target with a soft memory limit
// while the live heap is well below it, and moves the limit towards twice
// the live heap — the Go default's behaviour — as the live heap grows, so
// that a run over a huge repository is never slowed by a collector racing
// a limit it cannot meet. It re-evaluates after every collection.
type heapGovernor struct {
	target  int64
	mu      sync.Mutex
	stopped bool
	prev    int64 // the limit before the governor started
	sample  []metrics.Sample
}

// governHeap starts a governor unless the user tuned the runtime through
// GOMEMLIMIT or GOGC. The returned function stops it and restores the
// previous limit.
func governHeap(target int64, getenv Env) func() {
	if getenv(EnvGoMemLimit) != "" || getenv(EnvGoGC) != "" {
		return func() {}
	}
	g := &heapGovernor{target: target, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	g.prev = debug.SetMemoryLimit(target)
	g.arm()
	return g.stop
}

// gcSentinel is garbage whose finalizer runs after a collection. It is
// larger than the tiny-allocation size: finalizers on tiny objects may
// never run.
type gcSentinel struct{ _ [32]byte }

func (g *heapGovernor) arm() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.stopped {
			return
		}
		g.adjust()
		g.arm()
	})
}

func (g *heapGovernor) adjust() {
	metrics.Read(g.sample)
	if g.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	debug.SetMemoryLimit(heapLimit(g.target, g.sample[0].Value.Uint64()))
}

// heapLimit is the limit for a live heap: the target until the live heap
// reaches 3/4 of it, then 2×live − target/2, which joins the target there
// and tends to the Go default (a heap twice the live one) above.
func heapLimit(target int64, live uint64) int64 {
	if live > math.MaxInt64/4 {
		return math.MaxInt64
	}
	return max(target, 2*int64(live)-target/2)
}

func (g *heapGovernor) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stopped {
		g.stopped = true
		debug.SetMemoryLimit(g.prev)
	}
}

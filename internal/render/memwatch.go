package render

import (
	"context"
	"runtime/metrics"
	"sync"
	"time"
)

// heapSampleEvery is how often a render's memory is checked: often enough
// that a runaway template is caught within a few hundred MB of the limit.
const heapSampleEvery = 20 * time.Millisecond

// watchHeap reports on the returned channel the heap size the first time
// it is over limit, until ctx ends. The heap is the whole process's
// (renders run in goroutines): a runaway render pushes it past any limit
// the others stay far under.
func watchHeap(ctx context.Context, limit int64) <-chan int64 {
	over := make(chan int64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(heapSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				metrics.Read(s)
				if h := int64(s[0].Value.Uint64()); h > limit {
					over <- h
					return
				}
			}
		}
	}()
	return over
}

// admission starts renders in parallel while the live heap is small, and
// one at a time above a threshold: two of the largest renders (a chart of
// megabytes of templates, an overlay of a whole platform) each hold tens
// of MB while they run, and running them together is what sets a run's
// peak. A render is always started when none is running, so the threshold
// only ever trades parallelism for memory.
type admission struct {
	mu      sync.Mutex
	cond    *sync.Cond
	running int
	above   uint64 // live heap (bytes) from which renders run one at a time
	sample  []metrics.Sample
}

func newAdmission(above uint64) *admission {
	a := &admission{above: above, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	a.cond = sync.NewCond(&a.mu)
	return a
}

// enter waits until a render may start; leave must follow.
func (a *admission) enter() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.running > 0 && a.live() > a.above {
		a.cond.Wait()
	}
	a.running++
}

func (a *admission) leave() {
	a.mu.Lock()
	a.running--
	a.mu.Unlock()
	a.cond.Broadcast()
}

// live is the heap the last collection found live.
func (a *admission) live() uint64 {
	metrics.Read(a.sample)
	if a.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return a.sample[0].Value.Uint64()
}

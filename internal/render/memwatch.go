package render

import (
	"context"
	"runtime/metrics"
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

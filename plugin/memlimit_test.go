package plugin

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestHeapLimit(t *testing.T) {
	const target = 120 << 20
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, target},
		{60 << 20, target},
		{90 << 20, target}, // 3/4 of the target: the curve joins here
		{100 << 20, 140 << 20},
		{1 << 30, 2<<30 - 60<<20},
		{math.MaxUint64, math.MaxInt64},
	} {
		if got := heapLimit(target, c.live); got != c.want {
			t.Errorf("heapLimit(%d MiB) = %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
		}
	}
}

// The governor sets the limit, follows a growing live heap after a
// collection, and restores the previous limit when stopped; GOMEMLIMIT or
// GOGC in the environment turn it off.
func TestGovernHeap(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	// The target sits above what the test binary already holds (other
	// tests of the package, a shared API server's client): with a live
	// heap over 3/4 of it, the governor would rightly raise the limit at
	// once.
	runtime.GC()
	live := liveHeap()
	target := int64(live) + 64<<20
	stop := governHeap(target, func(string) string { return "" })
	if got := debug.SetMemoryLimit(-1); got != target {
		t.Fatalf("limit %d, want %d (live heap %d)", got, target, live)
	}
	keep := make([][]byte, 0, 64)
	for range 64 {
		keep = append(keep, make([]byte, 1<<20)) // 64 MiB more live
	}
	// A margin below the 64 MiB added: a collection may find a little
	// less of the earlier heap live.
	want := heapLimit(target, live+48<<20)
	deadline := time.Now().Add(10 * time.Second)
	for debug.SetMemoryLimit(-1) < want && time.Now().Before(deadline) {
		runtime.GC() // the finalizer that adjusts the limit runs after a cycle
		time.Sleep(10 * time.Millisecond)
	}
	if got := debug.SetMemoryLimit(-1); got < want {
		t.Errorf("limit %d MiB with 64 MiB more live, want at least %d MiB", got>>20, want>>20)
	}
	runtime.KeepAlive(keep)
	stop()
	if got := debug.SetMemoryLimit(-1); got != prev {
		t.Errorf("limit after stop %d, want the previous %d", got, prev)
	}
	stop = governHeap(target, func(k string) string {
		if k == EnvGoMemLimit {
			return "1GiB"
		}
		return ""
	})
	if got := debug.SetMemoryLimit(-1); got != prev {
		t.Errorf("with GOMEMLIMIT set the limit changed to %d", got)
	}
	stop()
}

// liveHeap is the live heap after the last collection.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

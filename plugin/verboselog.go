package plugin

import (
	"io"
	"sync"
)

// onceLines is the -v log: renders write to it from several goroutines,
// one line per Write, and a line said again is dropped — the same note on
// a kustomize base that several overlays include is printed once, for
// the base's file.
type onceLines struct {
	mu   sync.Mutex
	w    io.Writer
	seen map[string]bool
}

func newOnceLines(w io.Writer) *onceLines { return &onceLines{w: w, seen: map[string]bool{}} }

func (o *onceLines) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[string(p)] {
		return len(p), nil
	}
	o.seen[string(p)] = true
	return o.w.Write(p)
}

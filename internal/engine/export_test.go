package engine

// KeepWhole makes c keep every object whole, as if no set-level rule
// declared what it reads and workloads were never slimmed: what a run
// must find with objects frozen.
func KeepWhole(c *Collector) { c.whole = true }

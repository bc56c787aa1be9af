// Package alloctest counts, for tests, the heap allocations a piece of code
// makes per run in given packages only: the allocating frame (the innermost
// one outside package runtime) decides, read from the runtime's memory
// profile sampling every allocation. It lets a test assert "this package
// allocates nothing per step" while a lower layer still may.
package alloctest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// PerRun returns the objects allocated per run of f (over runs runs) whose
// allocating function is in one of the packages (import paths), and logs
// each site that allocated.
func PerRun(t testing.TB, runs int, f func(), packages ...string) int64 {
	t.Helper()
	prev := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = prev }()
	own := func(fn string) bool {
		if strings.Contains(fn, "alloctest.") {
			return false
		}
		for _, p := range packages {
			if strings.HasPrefix(fn, p+".") {
				return true
			}
		}
		return false
	}
	sites := func() map[string]int64 {
		runtime.GC() // the profile is published at the end of GC cycles
		runtime.GC()
		n, _ := runtime.MemProfile(nil, true)
		recs := make([]runtime.MemProfileRecord, n+64)
		n, ok := runtime.MemProfile(recs, true)
		if !ok {
			t.Fatal("alloctest: the memory profile grew while being read")
		}
		out := map[string]int64{}
		for _, r := range recs[:n] {
			frames := runtime.CallersFrames(r.Stack())
			for {
				fr, more := frames.Next()
				if !strings.HasPrefix(fr.Function, "runtime.") {
					if own(fr.Function) {
						out[fmt.Sprintf("%s (%s:%d)", fr.Function, fr.File, fr.Line)] += r.AllocObjects
					}
					break
				}
				if !more {
					break
				}
			}
		}
		return out
	}
	before := sites()
	for range runs {
		f()
	}
	var total int64
	for site, n := range sites() {
		if d := n - before[site]; d > 0 {
			t.Logf("%d allocations in %d runs at %s", d, runs, site)
			total += d
		}
	}
	return total / int64(runs)
}

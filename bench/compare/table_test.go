package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/bench/suite"
)

func TestTable(t *testing.T) {
	rows := []suite.Row{{ID: "g", Op: "gemm", M: 2, KK: 2, NN: 2}}
	tab := newTable(rows, []int{1}, []*engine{{name: "nasrun"}, {name: "A"}, {name: "B"}})
	// nasrun 1, 2, 4 ms; peer A 2, 2, 2 ms; B skips: ratios 2, 1, 0.5
	for round, ms := range []float64{1, 2, 4} {
		tab.add(round, "g", 1, "nasrun", result{Ms: ms})
		tab.add(round, "g", 1, "A", result{Ms: 2})
		tab.add(round, "g", 1, "B", result{Skip: "no op"})
	}
	require.Equal(t, 2.0, median(tab.ms[key{"g", 1, "nasrun"}]))
	require.True(t, math.IsNaN(median(tab.ms[key{"g", 1, "B"}])))
	ratio, who := tab.bestPeer("g", 1)
	require.Equal(t, 1.0, ratio)
	require.Equal(t, "A", who)
	rf := &roofline{l2: 1 << 20, l3: 32 << 20,
		fma: map[int]map[string]float64{1: {"avx512": 100}},
		bw:  map[int]map[string]float64{1: {"L2": 10}}}
	bound, limit := rf.bound(rows[0], 1) // 16 FLOPs, 48 bytes: bandwidth-bound
	require.Equal(t, "L2", limit)
	require.InDelta(t, 48/10e9*1e3, bound, 1e-15)
	md := tab.markdown(rf, "machine", "cmd", nil)
	require.Contains(t, md, "| g | m=2,k=2,n=2 | 1 | 2.000 | 2.000 | – | 1.00 (A) |")
	require.Contains(t, md, "- B: no op (g)")
}

package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/bench/suite"
)

func TestMeasure(t *testing.T) {
	calls := 0
	res := measure(func() { calls++; time.Sleep(100 * time.Microsecond) }, 0, 3, 2*time.Millisecond)
	require.Positive(t, res.reps)
	require.GreaterOrEqual(t, res.med, 100*time.Microsecond)
	require.LessOrEqual(t, res.min, res.med)
	require.Greater(t, calls, 4*res.reps)
}

// Every runner must prepare and run a small row of its op.
func TestRunners(t *testing.T) {
	small := map[string]suite.Row{
		"gemm": {Op: "gemm", M: 5, KK: 3, NN: 7},
		"conv": {Op: "conv", N: 1, H: 3, W: 3, C: 4, Cout: 5, K: 1, S: 1},
	}
	for op, mk := range runners {
		r, ok := small[op]
		require.True(t, ok, "add a small %s row to this test", op)
		fn := mk(r)
		require.NotNil(t, fn, op)
		fn()
	}
}

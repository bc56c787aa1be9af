package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/bench/suite"
)

func TestMeasure(t *testing.T) {
	if testing.Short() {
		// The assertions compare sleeps with budgets: meaningless under
		// qemu user emulation, where make test-arm passes -short.
		t.Skip("sleep-based timing: run natively without -short")
	}
	calls := 0
	res := measure(func() { calls++; time.Sleep(100 * time.Microsecond) }, 0, 3, 2*time.Millisecond, time.Second)
	require.Positive(t, res.reps)
	require.Equal(t, 3, res.samples)
	require.GreaterOrEqual(t, res.med, 100*time.Microsecond)
	require.LessOrEqual(t, res.min, res.med)
	require.Greater(t, calls, 4*res.reps)
	// slow calls: fewer samples within the budget, or none over it
	res = measure(func() { time.Sleep(10 * time.Millisecond) }, 0, 9, time.Millisecond, 50*time.Millisecond)
	require.Equal(t, 1, res.reps)
	require.Equal(t, 3, res.samples)
	res = measure(func() { time.Sleep(10 * time.Millisecond) }, 0, 9, time.Millisecond, 5*time.Millisecond)
	require.GreaterOrEqual(t, res.slow, 10*time.Millisecond)
}

// Every runner must prepare and run a small row of its op.
func TestRunners(t *testing.T) {
	small := map[string]suite.Row{
		"gemm":          {Op: "gemm", M: 5, KK: 3, NN: 7},
		"conv":          {Op: "conv", N: 1, H: 5, W: 4, C: 3, Cout: 5, K: 3, S: 2, P: 1},
		"train-conv":    {Op: "train-conv", N: 2, H: 5, W: 4, C: 3, Cout: 5, K: 3, S: 1, P: 1},
		"dwconv":        {Op: "dwconv", N: 1, H: 5, W: 6, C: 7, K: 5, S: 2, P: 2},
		"train-dw":      {Op: "train-dw", N: 2, H: 5, W: 6, C: 7, K: 3, S: 1, P: 1},
		"maxpool":       {Op: "maxpool", N: 1, H: 5, W: 5, C: 3, K: 3, S: 2, P: 1},
		"avgpool":       {Op: "avgpool", N: 1, H: 4, W: 4, C: 3, K: 2, S: 2},
		"gap":           {Op: "gap", N: 2, H: 3, W: 3, C: 5},
		"hardsigmoid":   {Op: "hardsigmoid", Elems: 37},
		"hardswish":     {Op: "hardswish", N: 1, H: 3, W: 3, C: 5},
		"sigmoid":       {Op: "sigmoid", Elems: 37},
		"se":            {Op: "se", N: 2, H: 3, W: 3, C: 8, R: 4},
		"model-train":   {Op: "model-train", Net: "ghost-like", N: 2},
		"model-latency": {Op: "model-latency", Net: "mbv3-like", N: 1},
	}
	for op, mk := range runners {
		r, ok := small[op]
		require.True(t, ok, "add a small %s row to this test", op)
		fn := mk(r)
		require.NotNil(t, fn, op)
		fn()
	}
}

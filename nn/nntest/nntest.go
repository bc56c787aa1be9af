// Package nntest checks nn networks against the PyTorch fixtures that
// nn/testdata/make_fixtures.py writes (its docstring describes the
// format). It is for tests only.
package nntest

import (
	"math"
	"strings"
	"testing"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/safetensors"
	"github.com/stretchr/testify/require"
)

// Tol is the largest relative error allowed against PyTorch
// (max |got−want| / max |want| per tensor).
const Tol = 1e-4

// AbsMax is max |v|.
func AbsMax(v []float32) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(float64(x)))
	}
	return m
}

// RelErr is max |got−want| / max(max |want|, floor).
func RelErr(got, want []float32, floor float64) float64 {
	var d float64
	for i := range want {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
	}
	return d / max(AbsMax(want), floor, 1e-30)
}

// RequireClose compares a tensor with a fixture tensor of the same layout,
// relative to the larger of its own scale and floor.
func RequireClose(t *testing.T, name string, got, want safetensors.Tensor, floor float64) {
	t.Helper()
	require.Equal(t, want.Shape, got.Shape, name)
	e := RelErr(got.Data, want.Data, floor)
	require.LessOrEqual(t, e, Tol, "%s: relative error %.3g", name, e)
}

// CheckFixture loads the state of a fixture into net and checks, in eval
// mode and then train mode, the output, the input gradient, every
// parameter gradient and (train) the updated running statistics.
func CheckFixture(t *testing.T, net *nn.Network, fx map[string]safetensors.Tensor) {
	state := map[string]safetensors.Tensor{}
	for k, v := range fx {
		if name, ok := strings.CutPrefix(k, "state."); ok {
			state[name] = v
		}
	}
	require.NoError(t, net.LoadStateDict(state))
	for _, mode := range []string{"eval", "train"} {
		tp := autograd.NewTape()
		c := &nn.Ctx{Tape: tp, Train: mode == "train"}
		x := autograd.NewParam(nn.FromNCHW(fx["x"]))
		net.ZeroGrad()
		y := net.Forward(c, x)
		require.NoError(t, tp.Err())
		RequireClose(t, mode+".y", nn.ToNCHW(y.Value), fx[mode+".y"], 0)
		require.NoError(t, tp.BackwardFrom(y, nn.FromNCHW(fx[mode+".dy"])))
		RequireClose(t, mode+".grad.x", nn.ToNCHW(x.Grad), fx[mode+".grad.x"], 0)
		grads := net.GradDict()
		// Some gradients are zero in exact arithmetic — the bias of a BN
		// whose output reaches a training-mode BN through a linear op —
		// and are rounding noise in both engines: they are measured
		// against 1% of the largest parameter gradient instead.
		var floor float64
		for k, want := range fx {
			if strings.HasPrefix(k, mode+".grad.") && k != mode+".grad.x" {
				floor = max(floor, 0.01*AbsMax(want.Data))
			}
		}
		n := 0
		for k, want := range fx {
			if name, ok := strings.CutPrefix(k, mode+".grad."); ok && name != "x" {
				got, ok := grads[name]
				require.True(t, ok, "no parameter %s", name)
				RequireClose(t, k, got, want, floor)
				n++
			}
		}
		require.Equal(t, len(grads), n, "parameters with a gradient in the fixture")
	}
	sd := net.StateDict()
	for k, want := range fx {
		if name, ok := strings.CutPrefix(k, "train.after."); ok {
			RequireClose(t, k, sd[name], want, 0)
		}
	}
}

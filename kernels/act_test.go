package kernels_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
)

var allActs = []kernels.Act{kernels.ActNone, kernels.ActReLU, kernels.ActReLU6,
	kernels.ActHardswish, kernels.ActHardsigmoid, kernels.ActSigmoid}

// actOracle is act(v) in float64, straight from the definitions.
func actOracle(a kernels.Act, v float64) float64 {
	switch a {
	case kernels.ActReLU:
		return math.Max(v, 0)
	case kernels.ActReLU6:
		return math.Min(math.Max(v, 0), 6)
	case kernels.ActHardswish:
		return v * math.Min(math.Max(v+3, 0), 6) / 6
	case kernels.ActHardsigmoid:
		return math.Min(math.Max(v+3, 0), 6) / 6
	case kernels.ActSigmoid:
		return 1 / (1 + math.Exp(-v))
	}
	return v
}

// gradOracle is act'(v) in float64 with PyTorch's choices at the kinks.
func gradOracle(a kernels.Act, v float64) float64 {
	switch a {
	case kernels.ActReLU:
		if v > 0 {
			return 1
		}
		return 0
	case kernels.ActReLU6:
		if v > 0 && v < 6 {
			return 1
		}
		return 0
	case kernels.ActHardswish:
		if v < -3 {
			return 0
		}
		if v > 3 {
			return 1
		}
		return (2*v + 3) / 6
	case kernels.ActHardsigmoid:
		if v > -3 && v < 3 {
			return 1.0 / 6
		}
		return 0
	case kernels.ActSigmoid:
		e := math.Exp(-math.Abs(v)) // not s·(1 - s): 1 - s cancels for large v
		return e / ((1 + e) * (1 + e))
	}
	return 1
}

// kinks are the inputs where a piecewise activation switches branch.
var kinks = []float32{-6, -3, -2.9999998, -3.0000002, 0, -0.0, 1e-7, -1e-7, 3, 2.9999998, 3.0000002, 6, 5.9999995, 6.0000005, -1.5, 100, -100}

// actInput returns n values over [-8, 8) with the kinks sprinkled in.
func actInput(rng *rand.Rand, n int) *kerneltest.Buf {
	b := kerneltest.NewBuf(n)
	for i := range b.Data {
		if rng.IntN(4) == 0 {
			b.Data[i] = kerneltest.Pick(rng, kinks...)
		} else {
			b.Data[i] = rng.Float32()*16 - 8
		}
	}
	return b
}

var flatLens = []int{0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1001, 4099}

func TestActivate(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for _, a := range allActs {
			for i, n := range flatLens {
				rng := kerneltest.Rng(uint64(a), uint64(i))
				checkActivate(t, rng, a, n)
			}
		}
	})
}

func checkActivate(t *testing.T, rng *rand.Rand, a kernels.Act, n int) {
	t.Helper()
	name := kerneltest.Name("act", a, "n", n)
	x := actInput(rng, n)
	want := make([]float64, n)
	for i, v := range x.Data {
		want[i] = actOracle(a, float64(v))
	}
	y := kerneltest.NewBuf(n)
	kernels.Activate(a, x.Data, y.Data)
	x.Check(t, name+" x")
	y.Check(t, name+" y")
	kerneltest.AssertClose(t, name, want, y.Data, 1e-6)

	kernels.Activate(a, x.Data, x.Data) // in place
	x.Check(t, name+" in place")
	kerneltest.AssertClose(t, name+" in place", want, x.Data, 1e-6)

	x = actInput(rng, n)
	dy := kerneltest.RandBuf(rng, n)
	dwant := make([]float64, n)
	for i, v := range x.Data {
		dwant[i] = float64(dy.Data[i]) * gradOracle(a, float64(v))
	}
	dx := kerneltest.NewBuf(n)
	kernels.ActivateBackward(a, x.Data, dy.Data, dx.Data)
	dx.Check(t, name+" dx")
	kerneltest.AssertClose(t, name+" grad", dwant, dx.Data, 1e-6)

	kernels.ActivateBackward(a, x.Data, dy.Data, dy.Data) // dx aliases dy
	dy.Check(t, name+" grad in place")
	kerneltest.AssertClose(t, name+" grad in place", dwant, dy.Data, 1e-6)
}

// The kinks exactly, one per vector lane position, against ActScalar and
// ActGradScalar: every branch of every piecewise activation, bit for bit
// except for rounding inside a branch.
func TestActivateKinks(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for _, a := range allActs {
			x := make([]float32, 0, 64*len(kinks))
			for range 64 {
				x = append(x, kinks...)
			}
			y := make([]float32, len(x))
			kernels.Activate(a, x, y)
			ones := make([]float32, len(x))
			for i := range ones {
				ones[i] = 1
			}
			g := make([]float32, len(x))
			kernels.ActivateBackward(a, x, ones, g)
			for i, v := range x {
				require.InDelta(t, kernels.ActScalar(a, v), y[i], 1e-6*(1+math.Abs(float64(v))), "%v(%v)", a, v)
				require.InDelta(t, kernels.ActGradScalar(a, v), g[i], 1e-6, "%v'(%v)", a, v)
			}
		}
	})
}

// Large inputs take the threaded path.
func TestActivateThreaded(t *testing.T) {
	prev := kernels.SetThreads(2)
	defer kernels.SetThreads(prev)
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		for _, a := range []kernels.Act{kernels.ActHardswish, kernels.ActReLU6} {
			checkActivate(t, kerneltest.Rng(7, uint64(a)), a, 200003)
		}
	})
}

func TestActivatePanics(t *testing.T) {
	require.PanicsWithValue(t, "kernels.Activate: len(y) = 3, want 4", func() {
		kernels.Activate(kernels.ActReLU, make([]float32, 4), make([]float32, 3))
	})
	require.Panics(t, func() {
		kernels.ActivateBackward(kernels.ActReLU, make([]float32, 4), make([]float32, 4), make([]float32, 5))
	})
	require.Panics(t, func() { kernels.Activate(kernels.Act(99), nil, nil) })
}

func FuzzActivate(f *testing.F) {
	f.Add(uint8(3), uint16(17), uint64(1))
	f.Add(uint8(4), uint16(1000), uint64(2))
	f.Add(uint8(5), uint16(33), uint64(3))
	f.Fuzz(func(t *testing.T, act uint8, n uint16, seed uint64) {
		a := kernels.Act(int(act) % len(allActs))
		for _, impl := range kernels.Available() {
			prev := kernels.SetImpl(impl)
			checkActivate(t, kerneltest.Rng(seed), a, int(n)%5000)
			kernels.SetImpl(prev)
		}
	})
}

package kernels_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
	"github.com/stretchr/testify/require"
)

// TestDWPlan checks the depthwise plans of the fused blocks (padded input,
// padded output gradient, pixels ld apart, several image chunks and slots)
// against DepthwiseConv2d and its backward, for every implementation.
func TestDWPlan(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		rng := kerneltest.Rng(31)
		for range 40 {
			k := kerneltest.Pick(rng, 1, 3, 5, 5)
			p := kernels.DWConv{N: 1 + rng.IntN(5), H: kerneltest.Pick(rng, 1, 4, 7, 8, 14), W: kerneltest.Pick(rng, 1, 5, 7, 9),
				C: kerneltest.Pick(rng, 1, 8, 13, 16, 24, 40), K: k, Stride: kerneltest.Pick(rng, 1, 2), Pad: k / 2}
			ld := p.C + kerneltest.Pick(rng, 0, 0, 3, p.C)
			chunk := 1 + rng.IntN(p.N)
			t.Run(fmt.Sprintf("%+v/ld=%d/chunk=%d", p, ld, chunk), func(t *testing.T) {
				oh, ow := p.OutH(), p.OutW()
				w := kerneltest.RandBuf(rng, p.K*p.K*p.C).Data
				xs := kerneltest.RandBuf(rng, p.N*p.H*p.W*ld).Data
				dys := kerneltest.RandBuf(rng, p.N*oh*ow*ld).Data
				y, dx, dw := kernels.DWPlanRun(p, ld, chunk, w, xs, dys)
				// The same on dense operands through the public kernels.
				dense := func(v []float32, px int) []float32 {
					d := make([]float32, px*p.C)
					for i := range px {
						copy(d[i*p.C:(i+1)*p.C], v[i*ld:])
					}
					return d
				}
				x, dy := dense(xs, p.N*p.H*p.W), dense(dys, p.N*oh*ow)
				wantY := make([]float32, len(dy))
				kernels.DepthwiseConv2d(p, x, w, nil, wantY)
				wantDx, wantDw := make([]float32, len(x)), make([]float32, len(w))
				kernels.DepthwiseConv2dBackward(p, x, w, dy, wantDx, wantDw, nil)
				kerneltest.AssertClose(t, "y", kerneltest.Widen(wantY), dense(y, p.N*oh*ow), 1e-5)
				kerneltest.AssertClose(t, "dx", kerneltest.Widen(wantDx), dense(dx, p.N*p.H*p.W), 1e-5)
				kerneltest.AssertClose(t, "dw", kerneltest.Widen(wantDw), dw, 1e-5)
			})
		}
	})
}

// blockFixture is a valid block on n images of h×w×2c: a Ghost module
// (a 1×1 op writes the first half of a buffer, a depthwise op the second
// half from the first) with a residual, for the Check tests to break.
func blockFixture(n, h, w, c int) *kernels.Block {
	in := &kernels.BlockBuf{N: n, H: h, W: w, Ld: 2 * c, Data: make([]float32, n*h*w*2*c)}
	x1 := &kernels.BlockBuf{N: n, H: h, W: w, Ld: 2 * c, Data: make([]float32, n*h*w*2*c), Eps: 1e-5,
		Gamma: make([]float32, 2*c), Beta: make([]float32, 2*c), Mean: make([]float32, 2*c), Var: make([]float32, 2*c)}
	return &kernels.Block{
		In: in,
		Ops: []kernels.BlockOp{
			{In: kernels.BlockView{Buf: in, C: 2 * c}, Out: kernels.BlockView{Buf: x1, C: c}, W: make([]float32, 2*c*c)},
			{In: kernels.BlockView{Buf: x1, C: c}, Out: kernels.BlockView{Buf: x1, Off: c, C: c}, K: 3, Stride: 1, Pad: 1, W: make([]float32, 9*c)},
		},
		Terms:    []kernels.BlockView{{Buf: x1, C: 2 * c}},
		Residual: true,
		Out:      make([]float32, n*h*w*2*c),
		Alloc:    func(n int) []float32 { return make([]float32, n) },
	}
}

// TestBlockCheck checks that Check names what is wrong with a block, and
// that Forward panics with it.
func TestBlockCheck(t *testing.T) {
	require.NoError(t, blockFixture(2, 5, 5, 8).Check())
	for _, c := range []struct {
		name, want string
		break_     func(b *kernels.Block)
	}{
		{"input with batch norm", "the input must be a buffer without batch norm", func(b *kernels.Block) { b.In.Gamma = make([]float32, 16) }},
		{"view out of range", "op 1 input: channels [12, 20) of a buffer of 16", func(b *kernels.Block) { b.Ops[1].In.Off = 12 }},
		{"unwritten input", "op 0 reads a buffer that no earlier op wrote", func(b *kernels.Block) { b.Ops[0].In.Buf = b.Ops[1].Out.Buf }},
		{"read before written", "op 1 reads channel 8 before an op wrote it", func(b *kernels.Block) { b.Ops[1].In.Off = 8 }},
		{"channel written twice", "op 1 writes channel 0 a second time", func(b *kernels.Block) { b.Ops[1].Out.Off = 0 }},
		{"weights", "op 0: weights of 127, want 16×8", func(b *kernels.Block) { b.Ops[0].W = b.Ops[0].W[:127] }},
		{"depthwise widths", "op 1: depthwise 3×3 stride 1 pad 1 from 8 to 4 channels", func(b *kernels.Block) { b.Ops[1].Out.C = 4 }},
		{"unwritten channels", "channel 8 of a buffer is never written", func(b *kernels.Block) { b.Ops = b.Ops[:1] }},
		{"terms", "the output sums 2 terms and true residual, want 1 or 2 in all", func(b *kernels.Block) { b.Terms = append(b.Terms, b.Terms[0]) }},
		{"term with activation", "term 0: a whole buffer written by an op, without activation, as wide as the others", func(b *kernels.Block) {
			b.Terms[0].Buf.Act = kernels.ActReLU
		}},
		{"data size", "op 0 output: Data has 799 values for 2×5×5×16 (input 2 images), statistics 16 and 16", func(b *kernels.Block) {
			x1 := b.Ops[0].Out.Buf
			x1.Data = x1.Data[:799]
		}},
		{"output size", "Out has 10 values, want 800", func(b *kernels.Block) { b.Out = b.Out[:10] }},
		{"part of the input", "op 0 reads channels [0, 8) of the input, want all 16", func(b *kernels.Block) {
			b.Ops[0].In.C = 8
			b.Ops[0].W = b.Ops[0].W[:64]
		}},
		{"spatial size", "op 0: a 1×1 op from 5×5 to 4×5", func(b *kernels.Block) {
			x1 := b.Ops[0].Out.Buf
			x1.H, x1.Data = 4, x1.Data[:2*4*5*16]
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := blockFixture(2, 5, 5, 8)
			c.break_(b)
			err := b.Check()
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			require.PanicsWithValue(t, "kernels.Block.Forward: "+err.Error(), b.Forward)
		})
	}
}

// TestBlockTimer checks that a timer set with SetBlockTimer hears every
// pass of a block, in order, with its description, and nothing once reset.
func TestBlockTimer(t *testing.T) {
	b := blockFixture(2, 5, 5, 8)
	for _, op := range b.Ops {
		op.Out.Buf.DGamma, op.Out.Buf.DBeta = make([]float32, op.Out.Buf.Ld), make([]float32, op.Out.Buf.Ld)
	}
	for i := range b.Ops {
		b.Ops[i].DW = make([]float32, len(b.Ops[i].W))
	}
	var got []string
	restore := kernels.SetBlockTimer(func(p kernels.BlockPass) {
		require.Positive(t, p.Time, p.Op)
		got = append(got, p.Op)
	})
	b.Forward()
	b.Backward(make([]float32, len(b.Out)), make([]float32, len(b.In.Data)))
	restore()
	require.Equal(t, []string{
		"fwd 1x1 5x5 16/16>8/16", "fwd dw3x3/s1 5x5 8/16>8/16", "fwd terms×1 5x5x16",
		"bwd terms×1 5x5x16", "bwd dw3x3/s1 5x5 8/16>8/16", "bwd 1x1 5x5 16/16>8/16",
	}, got)
	b.Forward()
	require.Len(t, got, 6, "a pass reported after the timer was reset")
}

// TestBlockNoAlloc checks that a block's steady-state forward and backward
// allocate nothing.
func TestBlockNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	b := blockFixture(4, 7, 7, 8)
	rng := kerneltest.Rng(3)
	for i := range b.In.Data {
		b.In.Data[i] = rng.Float32()
	}
	for _, op := range b.Ops {
		op.Out.Buf.DGamma, op.Out.Buf.DBeta = make([]float32, op.Out.Buf.Ld), make([]float32, op.Out.Buf.Ld)
		for i := range op.Out.Buf.Gamma {
			op.Out.Buf.Gamma[i] = 1
		}
	}
	for i := range b.Ops {
		b.Ops[i].DW = make([]float32, len(b.Ops[i].W))
	}
	arena := make([]float32, 1<<20)
	used := 0
	b.Alloc = func(n int) []float32 { used += n; return arena[used-n : used] }
	dOut, dIn := make([]float32, len(b.Out)), make([]float32, len(b.In.Data))
	step := func() {
		used = 0
		b.Forward()
		b.Backward(dOut, dIn)
	}
	step()
	require.Zero(t, testing.AllocsPerRun(5, step))
}

// TestBNGradRows checks the fused blocks' activation gradient with its
// batch-norm sums (g = dy·act'(x·s + t), Σg, Σg·(x − m)) against float64
// loops: every activation, rows off the two-row loop, channels off the
// vectors, rows further apart than their channels, g over dy.
func TestBNGradRows(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		rng := kerneltest.Rng(41)
		for _, act := range []kernels.Act{kernels.ActNone, kernels.ActReLU, kernels.ActReLU6, kernels.ActHardswish, kernels.ActHardsigmoid} {
			for _, sh := range [][3]int{{1, 8, 8}, {7, 16, 16}, {64, 24, 48}, {33, 17, 20}, {256, 40, 40}, {5, 96, 96}, {9, 13, 13}} {
				rows, c, ld := sh[0], sh[1], sh[2]
				for _, inPlace := range []bool{false, true} {
					name := kerneltest.Name("act", act, "rows", rows, "c", c, "ld", ld, "inPlace", inPlace)
					x, dy := kerneltest.RandBuf(rng, rows*ld), kerneltest.RandBuf(rng, rows*ld)
					s, tt, m := kerneltest.RandBuf(rng, c), kerneltest.RandBuf(rng, c), kerneltest.RandBuf(rng, c)
					for i := range tt.Data {
						tt.Data[i] *= 4 // spread x·s + t over the activations' kinks
					}
					wantG := make([]float64, rows*c)
					wantS, wantSX := make([]float64, c), make([]float64, c)
					for r := range rows {
						for ch := range c {
							i := r*ld + ch
							z := float64(x.Data[i])*float64(s.Data[ch]) + float64(tt.Data[ch])
							gv := float64(dy.Data[i]) * float64(kernels.ActGradScalar(act, float32(z)))
							wantG[r*c+ch] = gv
							wantS[ch] += gv
							wantSX[ch] += gv * (float64(x.Data[i]) - float64(m.Data[ch]))
						}
					}
					g := kerneltest.NewBuf(rows * ld)
					if inPlace {
						g = dy
					}
					sumG, sumGX := kerneltest.NewBuf(c), kerneltest.NewBuf(c)
					clear(sumG.Data)
					clear(sumGX.Data)
					kernels.BNGradRows(act, rows, c, ld, x.Data, dy.Data, s.Data, tt.Data, m.Data, g.Data, sumG.Data, sumGX.Data)
					for _, b := range []*kerneltest.Buf{x, s, tt, m, g, sumG, sumGX} {
						b.Check(t, name)
					}
					got := make([]float32, rows*c)
					for r := range rows {
						copy(got[r*c:(r+1)*c], g.Data[r*ld:])
					}
					kerneltest.AssertClose(t, "g "+name, wantG, got, 1e-5)
					kerneltest.AssertClose(t, "Σg "+name, wantS, sumG.Data, 1e-4)
					kerneltest.AssertClose(t, "Σg(x−m) "+name, wantSX, sumGX.Data, 1e-4)
				}
			}
		}
	})
}

// mbconvSEBlock is an MBConv block on n images of h×w×c, as random as its
// batch norms allow: a 1×1 expansion to m channels, a depthwise k×k
// convolution, an SE block of hidden units on the projection's input and
// a 1×1 projection back to c, with the residual.
func mbconvSEBlock(rng *rand.Rand, n, h, w, c, m, k, hidden int) *kernels.Block {
	rnd := func(n int, scale float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = scale * float32(rng.NormFloat64())
		}
		return v
	}
	bn := func(ld int, act kernels.Act) *kernels.BlockBuf {
		g := rnd(ld, 0.2)
		for i := range g {
			g[i]++
		}
		return &kernels.BlockBuf{N: n, H: h, W: w, Ld: ld, Eps: 1e-5, Act: act, Gamma: g, Beta: rnd(ld, 0.2),
			Mean: make([]float32, ld), Var: make([]float32, ld), DGamma: make([]float32, ld), DBeta: make([]float32, ld)}
	}
	in := &kernels.BlockBuf{N: n, H: h, W: w, Ld: c, Data: rnd(n*h*w*c, 1)}
	x1, x2, x3 := bn(m, kernels.ActHardswish), bn(m, kernels.ActHardswish), bn(c, kernels.ActNone)
	for _, x := range []*kernels.BlockBuf{x1, x2, x3} {
		x.Data = make([]float32, n*h*w*x.Ld)
	}
	se := &kernels.BlockSE{Hidden: hidden, W1: rnd(m*hidden, 0.3), B1: rnd(hidden, 0.3), W2: rnd(hidden*m, 0.3), B2: rnd(m, 0.3),
		DW1: make([]float32, m*hidden), DB1: make([]float32, hidden), DW2: make([]float32, hidden*m), DB2: make([]float32, m)}
	return &kernels.Block{
		In: in,
		Ops: []kernels.BlockOp{
			{In: kernels.BlockView{Buf: in, C: c}, Out: kernels.BlockView{Buf: x1, C: m}, W: rnd(c*m, 0.3), DW: make([]float32, c*m)},
			{In: kernels.BlockView{Buf: x1, C: m}, Out: kernels.BlockView{Buf: x2, C: m}, K: k, Stride: 1, Pad: k / 2,
				W: rnd(k*k*m, 0.3), DW: make([]float32, k*k*m)},
			{In: kernels.BlockView{Buf: x2, C: m}, Out: kernels.BlockView{Buf: x3, C: c}, W: rnd(m*c, 0.3), DW: make([]float32, m*c), SE: se},
		},
		Terms:    []kernels.BlockView{{Buf: x3, C: c}},
		Residual: true,
		Out:      make([]float32, n*h*w*c),
		Alloc:    func(n int) []float32 { return make([]float32, n) },
	}
}

// TestBlockStealing: a pass gives the same bits whichever slot runs which
// chunk. With two slots made to leave all but the first chunk of their
// ranges to each other, an SE block's output, input gradient, weight and
// batch-norm gradients and batch statistics are those of the passes run
// without taking chunks from each other (at 2 threads, or on one slot
// where the machine has one CPU), for every implementation.
func TestBlockStealing(t *testing.T) {
	defer kernels.SetThreads(kernels.SetThreads(2))
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		// 14×14×72 floats an image: chunks of 3 images (4 for the SE
		// op), several a slot.
		const n, hw, c, m = 13, 14, 24, 72
		run := func(steal bool) [][]float32 {
			defer kernels.SetBlockForceSteal(kernels.SetBlockForceSteal(steal))
			b := mbconvSEBlock(rand.New(rand.NewPCG(5, 6)), n, hw, hw, c, m, 5, 16)
			dOut := make([]float32, len(b.Out))
			for i := range dOut {
				dOut[i] = float32(i%7) - 3
			}
			dIn := make([]float32, len(b.In.Data))
			b.Forward()
			b.Backward(dOut, dIn)
			res := [][]float32{b.Out, dIn}
			for _, op := range b.Ops {
				o := op.Out.Buf
				res = append(res, op.DW, o.DGamma, o.DBeta, o.Mean, o.Var)
			}
			se := b.Ops[2].SE
			return append(res, se.DW1, se.DB1, se.DW2, se.DB2)
		}
		want, got := run(false), run(true)
		for i := range want {
			require.Equal(t, want[i], got[i], "result %d", i)
		}
	})
}

package autograd

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/tensor"
)

// testBlock is a residual block on n images of h×w×c: a 1×1 convolution
// and batch norm with ReLU, then a 3×3 depthwise one and batch norm, the
// output term.
func testBlock(rng *rand.Rand, n, h, w, c int) (*kernels.Block, []BlockParam) {
	bn := func() *kernels.BlockBuf {
		return &kernels.BlockBuf{N: n, H: h, W: w, Ld: c, Eps: 1e-5,
			Gamma: tensor.RandNormal(rng, 1, 0.1, c).Data, Beta: tensor.RandNormal(rng, 0, 0.1, c).Data,
			DGamma: make([]float32, c), DBeta: make([]float32, c)}
	}
	in, x1, x2 := &kernels.BlockBuf{N: n, H: h, W: w, Ld: c}, bn(), bn()
	x1.Act = kernels.ActReLU
	b := &kernels.Block{
		In: in,
		Ops: []kernels.BlockOp{
			{In: kernels.BlockView{Buf: in, C: c}, Out: kernels.BlockView{Buf: x1, C: c},
				W: tensor.RandNormal(rng, 0, 0.3, c*c).Data, DW: make([]float32, c*c)},
			{In: kernels.BlockView{Buf: x1, C: c}, Out: kernels.BlockView{Buf: x2, C: c}, K: 3, Stride: 1, Pad: 1,
				W: tensor.RandNormal(rng, 0, 0.3, 9*c).Data, DW: make([]float32, 9*c)},
		},
		Terms:    []kernels.BlockView{{Buf: x2, C: c}},
		Residual: true,
	}
	var params []BlockParam
	param := func(v, g []float32) {
		params = append(params, BlockParam{Var: NewParam(&tensor.Tensor{Shape: []int{len(v)}, Data: v}), Grad: g})
	}
	for _, op := range b.Ops {
		param(op.W, op.DW)
	}
	for _, x := range []*kernels.BlockBuf{x1, x2} {
		param(x.Gamma, x.DGamma)
		param(x.Beta, x.DBeta)
	}
	return b, params
}

// TestBlockScratchReused: what a fused block's Backward allocates comes
// from the tape's scratch arena, which every block's Backward reuses, so a
// chain of blocks needs no more of it than one block does.
func TestBlockScratchReused(t *testing.T) {
	const n, h, w, c = 2, 6, 5, 24
	scratch := func(blocks int) int {
		rng := rand.New(rand.NewPCG(3, 4))
		tp := NewTape()
		y := tp.Input(tensor.RandNormal(rng, 0, 1, n, h, w, c))
		for range blocks {
			b, params := testBlock(rng, n, h, w, c)
			y = tp.Block(b, y, params)
		}
		require.NoError(t, tp.Err())
		require.NoError(t, tp.BackwardFrom(y, tensor.RandNormal(rng, 0, 1, n, h, w, c)))
		used := 0
		for _, u := range tp.scratch.used {
			used += u
		}
		return used
	}
	one := scratch(1)
	// The gradient of the 1×1 op's output (n·h·w·c floats) at least; the
	// output term's is the upstream gradient itself.
	require.GreaterOrEqual(t, one, n*h*w*c)
	require.Equal(t, one, scratch(4))
}

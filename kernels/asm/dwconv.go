package asm

import "unsafe"

//go:generate go run dwconv_gen.go

// Depthwise convolution building blocks. Package kernels builds the row and
// tap pointers (padding points at a zero buffer), splits the output into
// the interior and the borders, picks a tile kernel for each part (a
// clipped or transposed sub-window at the borders) and threads the work.
// All pointers address float32 data in NHWC layout. The forward tile
// kernels read the layer's [K,K,C] weights in place through a base and two
// strides; the indirect kernels read packed weights, and the gradient
// kernels accumulate into packed accumulators: per block of V channels
// (V = 16 on AVX-512, 8 on AVX2), taps+1 vectors of V floats (the taps,
// then the bias). The assembly reads these structs at fixed byte offsets
// (see dwconv_gen.go).

// DWTileArgs are the arguments of a forward tile kernel: N consecutive
// output pixels of one row, every tap inside the input.
type DWTileArgs struct {
	Rows [5]unsafe.Pointer // window row ky: input at the first output's first column
	W    unsafe.Pointer    // weight of the window's tap (0, 0), channel 0
	Y    unsafe.Pointer    // first output pixel
	C    int               // channels
	N    int               // output pixels, ≥ 0
	YS   int               // output pixel stride in floats
	Act  int               // 0 none, 1 ReLU, 2 ReLU6, 3 hardswish
	XS   int               // input pixel stride in floats (C along a row; the row stride down a column)
	NR   int               // output rows, ≥ 1: row r reads Rows[ky] + r·s·RS and writes Y + r·YR
	RS   int               // input row stride in floats (NR > 1)
	YR   int               // output row stride in floats (NR > 1)
	WR   int               // weights: tap (ky, kx) at W + ky·WR + kx·WC floats (signed)
	WC   int
	B    unsafe.Pointer // bias, C floats (zeros for none)
	WPK  unsafe.Pointer // optional packed copy of the weights ([blocks][taps+1][V]), read instead of W by the kernels that reload weights per row
}

// DWGradArgs are the arguments of a weight-gradient tile kernel: NR rows of
// N output-gradient pixels each, accumulated into Acc.
type DWGradArgs struct {
	Rows      unsafe.Pointer // *[NR*RowStride]unsafe.Pointer: per row, its window rows (column 0, or zeros)
	RowStride int            // pointers from one row's window to the next's
	NR        int            // rows, ≥ 1
	DY        unsafe.Pointer // the first row's first output-gradient pixel
	DYRow     int            // output-gradient row stride in floats
	N         int            // pixels per row
	C         int            // channels, also the pixel stride in floats
	Acc       unsafe.Pointer // packed accumulators: taps' weight gradients, then the bias gradient
	XOff      int            // floats added to every row pointer (the first pixel's column)
	XS        int            // input pixel stride in floats (C along a row; the row stride down a column)
	DYS       int            // output-gradient pixel stride in floats (likewise)
}

// DWIndArgs are the arguments of the indirect kernels. Taps holds, per
// pixel, one output pointer (forward: where to store; gradient: the output
// gradient to read) and then NT input pointers.
type DWIndArgs struct {
	Taps unsafe.Pointer // *[N*(NT+1)]unsafe.Pointer
	N    int            // pixels, ≥ 1
	NT   int            // taps per pixel, ≥ 1
	W    unsafe.Pointer // packed weights (forward) or accumulators (gradient)
	C    int            // channels
	Act  int            // forward only, as DWTileArgs.Act
}

// DWFwdTile returns the assembly forward tile kernel for a kh×kw window
// with stride s (AVX-512 or AVX2), or nil if there is none.
func DWFwdTile(avx512 bool, kh, kw, s int) func(*DWTileArgs) {
	return dwFwdTile(avx512, kh, kw, s)
}

// DWGradTile returns the assembly weight-gradient tile kernel for a kh×kw
// window with stride s, or nil if there is none.
func DWGradTile(avx512 bool, kh, kw, s int) func(*DWGradArgs) {
	return dwGradTile(avx512, kh, kw, s)
}

// DWFwdIndirect returns the assembly indirect forward kernel, or nil.
func DWFwdIndirect(avx512 bool) func(*DWIndArgs) { return dwFwdIndirect(avx512) }

// DWGradIndirect returns the assembly indirect weight-gradient kernel, or nil.
func DWGradIndirect(avx512 bool) func(*DWIndArgs) { return dwGradIndirect(avx512) }

package kernels

import "github.com/nasrun/nasrun/kernels/asm"

// gemmNEON is the arm64 micro-kernel set: 8×12 tiles (24 of the 32 vector
// registers accumulate), 4-row kernels for the last rows, and 8- and
// 4-wide ones for the last columns. The kernels store whole widths, so a
// ragged edge tile goes through the tile buffer. A is always packed (or
// read in place when transposed): a row-major A would need 8 row pointers
// and a transpose in registers that the 32 registers cannot spare.
var gemmNEON = gemmKernel{mr: 8, rows: []int{8, 4}, widths: []int{12, 8, 4},
	packed: [][]gemmPackedFn{
		{asm.GemmNEON_8x12, asm.GemmNEON_8x8, asm.GemmNEON_8x4},
		{asm.GemmNEON_4x12, asm.GemmNEON_4x8, asm.GemmNEON_4x4},
	},
}

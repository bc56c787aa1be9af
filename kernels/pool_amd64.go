//go:build gc && !purego && !noasm

package kernels

import "github.com/nasrun/nasrun/kernels/asm"

var (
	poolAVX2   = poolKernels{asm.MaxPoolAVX2, asm.AvgPoolAVX2, asm.MaxPoolBackAVX2, asm.AvgPoolBackAVX2, asm.MaxPool3s2AVX2, 8}
	poolAVX512 = poolKernels{asm.MaxPoolAVX512, asm.AvgPoolAVX512, asm.MaxPoolBackAVX512, asm.AvgPoolBackAVX512, asm.MaxPool3s2AVX512, 16}
)

//go:build gc && !purego && !noasm

package asm

// GemmPackBT8AVX2 packs 8 columns of a transposed B for the micro-kernels,
// kc/8·8 k steps: dst[p*ldd+j] = alpha·b[j*ldb+p] (AVX2, 8×8 transposes).
//
//go:noescape
func GemmPackBT8AVX2(kc int, b []float32, ldb int, dst []float32, ldd int, alpha float32)

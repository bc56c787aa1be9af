//go:build gc && !purego && !noasm

package asm

// The amd64 micro-kernels (see gemm.go for the contract). The AVX-512 ones
// mask the columns past nr; the AVX2 ones need nr equal to their width.
// Direct variants read all MR rows of a row-major A in place.

// GemmAVX512_12x32 is the AVX512 micro-kernel of tile 12×32.
//
//go:noescape
func GemmAVX512_12x32(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_8x32 is the AVX512 micro-kernel of tile 8×32.
//
//go:noescape
func GemmAVX512_8x32(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_4x32 is the AVX512 micro-kernel of tile 4×32.
//
//go:noescape
func GemmAVX512_4x32(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_12x32Direct is the AVX512 micro-kernel of tile 12×32, A row-major in place.
//
//go:noescape
func GemmAVX512_12x32Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int)

// GemmAVX512_12x24 is the AVX512 micro-kernel of tile 12×24.
//
//go:noescape
func GemmAVX512_12x24(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_8x24 is the AVX512 micro-kernel of tile 8×24.
//
//go:noescape
func GemmAVX512_8x24(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_4x24 is the AVX512 micro-kernel of tile 4×24.
//
//go:noescape
func GemmAVX512_4x24(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_12x24Direct is the AVX512 micro-kernel of tile 12×24, A row-major in place.
//
//go:noescape
func GemmAVX512_12x24Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int)

// GemmAVX512_12x16 is the AVX512 micro-kernel of tile 12×16.
//
//go:noescape
func GemmAVX512_12x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_8x16 is the AVX512 micro-kernel of tile 8×16.
//
//go:noescape
func GemmAVX512_8x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_4x16 is the AVX512 micro-kernel of tile 4×16.
//
//go:noescape
func GemmAVX512_4x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_12x16Direct is the AVX512 micro-kernel of tile 12×16, A row-major in place.
//
//go:noescape
func GemmAVX512_12x16Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int)

// GemmAVX512_12x8 is the AVX512 micro-kernel of tile 12×8.
//
//go:noescape
func GemmAVX512_12x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_8x8 is the AVX512 micro-kernel of tile 8×8.
//
//go:noescape
func GemmAVX512_8x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_4x8 is the AVX512 micro-kernel of tile 4×8.
//
//go:noescape
func GemmAVX512_4x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX512_12x8Direct is the AVX512 micro-kernel of tile 12×8, A row-major in place.
//
//go:noescape
func GemmAVX512_12x8Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int)

// GemmAVX2_6x16 is the AVX2 micro-kernel of tile 6×16.
//
//go:noescape
func GemmAVX2_6x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX2_4x16 is the AVX2 micro-kernel of tile 4×16.
//
//go:noescape
func GemmAVX2_4x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX2_2x16 is the AVX2 micro-kernel of tile 2×16.
//
//go:noescape
func GemmAVX2_2x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX2_6x16Direct is the AVX2 micro-kernel of tile 6×16, A row-major in place.
//
//go:noescape
func GemmAVX2_6x16Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int)

// GemmAVX2_6x8 is the AVX2 micro-kernel of tile 6×8.
//
//go:noescape
func GemmAVX2_6x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX2_4x8 is the AVX2 micro-kernel of tile 4×8.
//
//go:noescape
func GemmAVX2_4x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX2_2x8 is the AVX2 micro-kernel of tile 2×8.
//
//go:noescape
func GemmAVX2_2x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int)

// GemmAVX2_6x8Direct is the AVX2 micro-kernel of tile 6×8, A row-major in place.
//
//go:noescape
func GemmAVX2_6x8Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int)

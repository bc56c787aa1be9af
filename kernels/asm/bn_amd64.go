//go:build gc && !purego && !noasm

package asm

// BNFusedAVX2 is the AVX2 fused batch norm (w a multiple of 8).
var BNFusedAVX2 = &BNFused{
	Act:   [4]func(rows, w, ld int, x, s, t, y []float32){BNActReluAVX2, BNActRelu6AVX2, BNActHardswishAVX2, BNActHardsigmoidAVX2},
	Sums:  [4]func(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32){BNSumsReluAVX2, BNSumsRelu6AVX2, BNSumsHardswishAVX2, BNSumsHardsigmoidAVX2},
	Dx:    [4]func(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32){BNDxReluAVX2, BNDxRelu6AVX2, BNDxHardswishAVX2, BNDxHardsigmoidAVX2},
	Stats: BNStatsAVX2,
	Grad:  [4]func(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32){BNGradReluAVX2, BNGradRelu6AVX2, BNGradHardswishAVX2, BNGradHardsigmoidAVX2},
}

//go:noescape
func BNActReluAVX2(rows, w, ld int, x, s, t, y []float32)

//go:noescape
func BNActRelu6AVX2(rows, w, ld int, x, s, t, y []float32)

//go:noescape
func BNActHardswishAVX2(rows, w, ld int, x, s, t, y []float32)

//go:noescape
func BNActHardsigmoidAVX2(rows, w, ld int, x, s, t, y []float32)

//go:noescape
func BNSumsReluAVX2(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)

//go:noescape
func BNSumsRelu6AVX2(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)

//go:noescape
func BNSumsHardswishAVX2(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)

//go:noescape
func BNSumsHardsigmoidAVX2(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)

//go:noescape
func BNDxReluAVX2(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)

//go:noescape
func BNDxRelu6AVX2(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)

//go:noescape
func BNDxHardswishAVX2(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)

//go:noescape
func BNDxHardsigmoidAVX2(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)

//go:noescape
func BNStatsAVX2(rows, w, ld int, x, k, accS, accQ []float32)

// BNFusedAVX512 is the AVX-512 fused batch norm (any w).
var BNFusedAVX512 = &BNFused{
	Act:   [4]func(rows, w, ld int, x, s, t, y []float32){BNActReluAVX512, BNActRelu6AVX512, BNActHardswishAVX512, BNActHardsigmoidAVX512},
	Sums:  [4]func(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32){BNSumsReluAVX512, BNSumsRelu6AVX512, BNSumsHardswishAVX512, BNSumsHardsigmoidAVX512},
	Dx:    [4]func(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32){BNDxReluAVX512, BNDxRelu6AVX512, BNDxHardswishAVX512, BNDxHardsigmoidAVX512},
	Stats: BNStatsAVX512,
	Grad:  [4]func(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32){BNGradReluAVX512, BNGradRelu6AVX512, BNGradHardswishAVX512, BNGradHardsigmoidAVX512},
}

//go:noescape
func BNGradReluAVX512(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)

//go:noescape
func BNGradRelu6AVX512(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)

//go:noescape
func BNGradHardswishAVX512(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)

//go:noescape
func BNGradHardsigmoidAVX512(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)

//go:noescape
func BNStatsAVX512(rows, w, ld int, x, k, accS, accQ []float32)

//go:noescape
func BNActReluAVX512(rows, w, ld int, x, s, t, y []float32)

//go:noescape
func BNActRelu6AVX512(rows, w, ld int, x, s, t, y []float32)

//go:noescape
func BNActHardswishAVX512(rows, w, ld int, x, s, t, y []float32)

//go:noescape
func BNActHardsigmoidAVX512(rows, w, ld int, x, s, t, y []float32)

//go:noescape
func BNSumsReluAVX512(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)

//go:noescape
func BNSumsRelu6AVX512(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)

//go:noescape
func BNSumsHardswishAVX512(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)

//go:noescape
func BNSumsHardsigmoidAVX512(rows, w, ld int, x, dy, s, t, m, accG, accGX []float32)

//go:noescape
func BNDxReluAVX512(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)

//go:noescape
func BNDxRelu6AVX512(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)

//go:noescape
func BNDxHardswishAVX512(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)

//go:noescape
func BNDxHardsigmoidAVX512(rows, w, ld int, x, dy, s, t, m, sa, sb, tt, dx []float32)

//go:noescape
func BNGradReluAVX2(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)

//go:noescape
func BNGradRelu6AVX2(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)

//go:noescape
func BNGradHardswishAVX2(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)

//go:noescape
func BNGradHardsigmoidAVX2(rows, w, ld int, x, dy, s, t, m, g, accG, accGX []float32)

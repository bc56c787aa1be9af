//go:build gc && !purego && !noasm

package asm

// ConvTiles returns the direct-convolution kernels of AVX-512 (avx512) or
// AVX2, in no particular order.
func ConvTiles(avx512 bool) []ConvTile {
	if avx512 {
		return convAVX512Tiles
	}
	return convAVX2Tiles
}

//go:build gc && !purego && !noasm

package asm

const compiled = true

func init() {
	// Advanced SIMD is part of the ARMv8-A baseline: no runtime check needed.
	HasNEON = true
}

//go:build !amd64 || !gc || purego || noasm

package asm

// ConvTiles returns no kernels: this build has no convolution assembly.
func ConvTiles(avx512 bool) []ConvTile { return nil }

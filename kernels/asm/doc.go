// Package asm holds the per-ISA assembly of nasrun's kernels (AVX2+FMA and
// AVX-512 on amd64, NEON on arm64) and the pure-Go reference of every
// kernel, which is always compiled.
//
// Assembly files are named name_avx2_amd64.s, name_avx512_amd64.s and
// name_neon_arm64.s and carry the build constraint
// "gc && !purego && !noasm"; their Go declarations live in a binding file
// with the same constraint, and a stub file with the exact complement keeps
// every other target (and -tags purego / noasm) building on pure Go.
//
// Nothing here knows about tensors or threads: functions take raw slices or
// pointers and sizes. Package kernels does tiling, packing, threading and
// dispatch on top.
package asm

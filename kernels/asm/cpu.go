package asm

// CPU features the assembly in this package can use. They are false on
// targets, build tags or processors where the assembly is not compiled or
// cannot run, so a caller can trust them without checking GOARCH.
var (
	// HasAVX2 reports AVX2 together with FMA3 (the amd64 baseline SIMD path).
	HasAVX2 bool
	// HasAVX512 reports AVX-512 F, BW, DQ and VL usable by the OS.
	HasAVX512 bool
	// HasNEON reports Advanced SIMD on arm64 (baseline there).
	HasNEON bool
)

// Compiled reports whether this build contains assembly at all (false for
// -tags purego or noasm and for targets without assembly).
const Compiled = compiled

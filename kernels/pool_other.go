//go:build !amd64 || !gc || purego || noasm

package kernels

// No pooling assembly on this target: the x86 implementations are never
// Supported here, so these only keep the dispatch table complete.
var poolAVX2, poolAVX512 = poolRef, poolRef

//go:build !amd64 || !gc || purego || noasm

package asm

// BNFusedAVX512 is nil in builds without the amd64 assembly.
var BNFusedAVX512 *BNFused

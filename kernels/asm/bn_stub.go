//go:build !amd64 || !gc || purego || noasm

package asm

// BNFusedAVX2 and BNFusedAVX512 are nil in builds without the amd64
// assembly.
var BNFusedAVX2, BNFusedAVX512 *BNFused

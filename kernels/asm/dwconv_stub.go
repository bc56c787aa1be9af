//go:build !(amd64 || arm64) || !gc || purego || noasm

package asm

// Without assembly there are no depthwise kernels; package kernels then
// uses the pure-Go reference.

func dwFwdTile(bool, int, int, int) func(*DWTileArgs)  { return nil }
func dwGradTile(bool, int, int, int) func(*DWGradArgs) { return nil }
func dwFwdIndirect(bool) func(*DWIndArgs)              { return nil }
func dwGradIndirect(bool) func(*DWIndArgs)             { return nil }

//go:build gc && !purego && !noasm

package asm

import "golang.org/x/sys/cpu"

const compiled = true

func init() {
	HasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	HasAVX512 = HasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW &&
		cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL
}

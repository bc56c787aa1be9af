//go:build gc && !purego && !noasm

package asm

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestConvArgsLayout checks that ConvArgs has the field offsets the
// generated assembly reads.
func TestConvArgsLayout(t *testing.T) {
	var a ConvArgs
	require.Equal(t,
		[]uintptr{convOffX, convOffW, convOffY, convOffBias, convOffN, convOffXPix, convOffXStep, convOffXRow,
			convOffRows, convOffRun, convOffWStep, convOffYPix, convOffMask, convOffAct, convOffAccum, convOffCur},
		[]uintptr{unsafe.Offsetof(a.X), unsafe.Offsetof(a.W), unsafe.Offsetof(a.Y), unsafe.Offsetof(a.Bias),
			unsafe.Offsetof(a.N), unsafe.Offsetof(a.XPix), unsafe.Offsetof(a.XStep), unsafe.Offsetof(a.XRow),
			unsafe.Offsetof(a.Rows), unsafe.Offsetof(a.Run), unsafe.Offsetof(a.WStep), unsafe.Offsetof(a.YPix),
			unsafe.Offsetof(a.Mask), unsafe.Offsetof(a.Act), unsafe.Offsetof(a.Accum), unsafe.Offsetof(a.cur)})
}

//go:build gc && !purego && !noasm

package asm

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestDWArgsLayout checks that the argument structs have the field offsets
// the generated assembly reads.
func TestDWArgsLayout(t *testing.T) {
	var a DWTileArgs
	require.Equal(t, []uintptr{dwOffTileRows, dwOffTileW, dwOffTileY, dwOffTileC, dwOffTileN, dwOffTileYS, dwOffTileAct, dwOffTileXS, dwOffTileNR, dwOffTileRS, dwOffTileYR, dwOffTileWR, dwOffTileWC, dwOffTileB, dwOffTileWPK},
		[]uintptr{unsafe.Offsetof(a.Rows), unsafe.Offsetof(a.W), unsafe.Offsetof(a.Y), unsafe.Offsetof(a.C),
			unsafe.Offsetof(a.N), unsafe.Offsetof(a.YS), unsafe.Offsetof(a.Act), unsafe.Offsetof(a.XS), unsafe.Offsetof(a.NR), unsafe.Offsetof(a.RS), unsafe.Offsetof(a.YR), unsafe.Offsetof(a.WR), unsafe.Offsetof(a.WC), unsafe.Offsetof(a.B), unsafe.Offsetof(a.WPK)})
	var g DWGradArgs
	require.Equal(t, []uintptr{dwOffGradRows, dwOffGradRowStride, dwOffGradNR, dwOffGradDY, dwOffGradDYRow, dwOffGradN, dwOffGradC, dwOffGradAcc, dwOffGradXOff, dwOffGradXS, dwOffGradDYS},
		[]uintptr{unsafe.Offsetof(g.Rows), unsafe.Offsetof(g.RowStride), unsafe.Offsetof(g.NR), unsafe.Offsetof(g.DY),
			unsafe.Offsetof(g.DYRow), unsafe.Offsetof(g.N), unsafe.Offsetof(g.C), unsafe.Offsetof(g.Acc), unsafe.Offsetof(g.XOff), unsafe.Offsetof(g.XS), unsafe.Offsetof(g.DYS)})
	var d DWIndArgs
	require.Equal(t, []uintptr{dwOffIndTaps, dwOffIndN, dwOffIndNT, dwOffIndW, dwOffIndC, dwOffIndAct},
		[]uintptr{unsafe.Offsetof(d.Taps), unsafe.Offsetof(d.N), unsafe.Offsetof(d.NT), unsafe.Offsetof(d.W),
			unsafe.Offsetof(d.C), unsafe.Offsetof(d.Act)})
}

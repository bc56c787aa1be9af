//go:build gc && !purego && !noasm

package asm

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestDWArgsLayoutNEON checks the argument field offsets that
// dwconv_neon_arm64.s reads (constants in _gen/neondw.go).
func TestDWArgsLayoutNEON(t *testing.T) {
	var a DWTileArgs
	require.Equal(t, []uintptr{0, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 136},
		[]uintptr{unsafe.Offsetof(a.Rows), unsafe.Offsetof(a.W), unsafe.Offsetof(a.Y), unsafe.Offsetof(a.C),
			unsafe.Offsetof(a.N), unsafe.Offsetof(a.YS), unsafe.Offsetof(a.Act), unsafe.Offsetof(a.XS),
			unsafe.Offsetof(a.NR), unsafe.Offsetof(a.RS), unsafe.Offsetof(a.YR), unsafe.Offsetof(a.WR),
			unsafe.Offsetof(a.WC), unsafe.Offsetof(a.B)})
	var g DWGradArgs
	require.Equal(t, []uintptr{0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80},
		[]uintptr{unsafe.Offsetof(g.Rows), unsafe.Offsetof(g.RowStride), unsafe.Offsetof(g.NR), unsafe.Offsetof(g.DY),
			unsafe.Offsetof(g.DYRow), unsafe.Offsetof(g.N), unsafe.Offsetof(g.C), unsafe.Offsetof(g.Acc),
			unsafe.Offsetof(g.XOff), unsafe.Offsetof(g.XS), unsafe.Offsetof(g.DYS)})
	var d DWIndArgs
	require.Equal(t, []uintptr{0, 8, 16, 24, 32, 40},
		[]uintptr{unsafe.Offsetof(d.Taps), unsafe.Offsetof(d.N), unsafe.Offsetof(d.NT), unsafe.Offsetof(d.W),
			unsafe.Offsetof(d.C), unsafe.Offsetof(d.Act)})
}

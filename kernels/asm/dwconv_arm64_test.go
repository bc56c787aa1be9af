//go:build gc && !purego && !noasm

package asm

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestDWIndArgsLayoutNEON checks the DWIndArgs field offsets that
// dwconv_neon_arm64.s reads (0, 8, ... 40: Taps, N, NT, W, C, Act).
func TestDWIndArgsLayoutNEON(t *testing.T) {
	var d DWIndArgs
	require.Equal(t, []uintptr{0, 8, 16, 24, 32, 40},
		[]uintptr{unsafe.Offsetof(d.Taps), unsafe.Offsetof(d.N), unsafe.Offsetof(d.NT), unsafe.Offsetof(d.W),
			unsafe.Offsetof(d.C), unsafe.Offsetof(d.Act)})
}

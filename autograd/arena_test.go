package autograd

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestArena: a step's buffers are disjoint, aligned to 64 bytes and as long
// as asked (no room to append into a neighbour); a step that repeats the
// requests gets the same memory without growing the arena; one that asks
// for more grows it and still gets disjoint buffers.
func TestArena(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var sizes []int
	for range 200 {
		switch rng.IntN(4) {
		case 0:
			sizes = append(sizes, rng.IntN(20)) // tiny, 0 included
		case 1:
			sizes = append(sizes, rng.IntN(1<<16))
		case 2:
			sizes = append(sizes, 1<<20+rng.IntN(3<<20)) // 4-16 MB
		default:
			sizes = append(sizes, rng.IntN(1<<18))
		}
	}
	var a arena
	step := func(sizes []int) [][]float32 {
		a.reset()
		var bufs [][]float32
		for _, n := range sizes {
			b := a.alloc(n)
			require.Len(t, b, n)
			require.Equal(t, n, cap(b))
			bufs = append(bufs, b)
		}
		checkDisjoint(t, bufs)
		return bufs
	}
	first := step(sizes)
	total := a.bytes()
	second := step(sizes)
	require.Equal(t, total, a.bytes(), "the same requests grew the arena")
	for i := range first {
		if len(first[i]) > 0 {
			require.Same(t, &first[i][0], &second[i][0], "request %d moved", i)
		}
	}
	allocs := testing.AllocsPerRun(3, func() {
		a.reset()
		for _, n := range sizes {
			a.alloc(n)
		}
	})
	require.Zero(t, allocs, "a repeated step allocated")
	step(append(sizes, 20<<20, 7)) // larger than any slab so far
	require.Greater(t, a.bytes(), total)
}

// checkDisjoint fails unless the non-empty buffers start on 64-byte
// boundaries and do not overlap.
func checkDisjoint(t *testing.T, bufs [][]float32) {
	type span struct{ lo, hi uintptr }
	var spans []span
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		lo := uintptr(unsafe.Pointer(&b[0]))
		require.Zero(t, lo%64, "buffer not 64-byte aligned")
		spans = append(spans, span{lo, lo + uintptr(len(b))*4})
	}
	for i, s := range spans {
		for _, o := range spans[i+1:] {
			require.False(t, s.lo < o.hi && o.lo < s.hi, "buffers overlap")
		}
	}
}

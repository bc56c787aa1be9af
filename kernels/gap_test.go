package kernels_test

import (
	"math/rand/v2"
	"testing"

	"github.com/nasrun/nasrun/internal/kerneltest"
	"github.com/nasrun/nasrun/kernels"
)

func TestGlobalAvgPool(t *testing.T) {
	kerneltest.ForEachImpl(t, func(t *testing.T) {
		rng := kerneltest.Rng(51)
		for _, sh := range [][3]int{{1, 49, 960}, {2, 196, 17}, {1, 1, 1}, {3, 1, 33}, {2, 7, 7}, {1, 600, 24}, {0, 3, 3}, {2, 0, 5}, {1, 3, 0}} {
			checkGAP(t, rng, sh[0], sh[1], sh[2])
		}
		for range 10 {
			checkGAP(t, rng, 1+rng.IntN(4), 1+rng.IntN(60), 1+rng.IntN(70))
		}
	})
}

func checkGAP(t *testing.T, rng *rand.Rand, n, hw, c int) {
	t.Helper()
	name := kerneltest.Name("n", n, "hw", hw, "c", c)
	x, dy := kerneltest.RandBuf(rng, n*hw*c), kerneltest.RandBuf(rng, n*c)
	want, mag := make([]float64, n*c), make([]float64, n*c)
	dx := make([]float64, n*hw*c)
	for b := range n {
		for ch := range c {
			var s, m float64
			for p := range hw {
				s += float64(x.Data[(b*hw+p)*c+ch])
				m += abs(float64(x.Data[(b*hw+p)*c+ch]))
				dx[(b*hw+p)*c+ch] = float64(dy.Data[b*c+ch]) / float64(hw)
			}
			if hw > 0 {
				want[b*c+ch], mag[b*c+ch] = s/float64(hw), m/float64(hw)
			}
		}
	}
	y := kerneltest.NewBuf(n * c)
	kernels.GlobalAvgPool(n, hw, c, x.Data, y.Data)
	y.Check(t, name)
	assertSums(t, "GlobalAvgPool "+name, want, mag, y.Data, 1e-6)
	g := kerneltest.NewBuf(n * hw * c)
	kernels.GlobalAvgPoolBackward(n, hw, c, dy.Data, g.Data)
	g.Check(t, name)
	kerneltest.AssertClose(t, "GlobalAvgPoolBackward "+name, dx, g.Data, 1e-6)
}

package nn

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOneCycleTorch: the values torch 1.13's OneCycleLR(SGD(momentum=0.9),
// max_lr=0.2, total_steps=10) sets before each optimizer step.
func TestOneCycleTorch(t *testing.T) {
	want := [][2]float64{
		{0.008000000000000007, 0.95}, {0.10400000000000001, 0.8999999999999999}, {0.2, 0.85},
		{0.19009692640269477, 0.854951556604879}, {0.1623491307899526, 0.8688255099070633},
		{0.12225240438725786, 0.8888739533021842}, {0.07774839561274215, 0.9111260466978157},
		{0.0376516692100474, 0.9311744900929366}, {0.009903873597305258, 0.945048443395121},
		{8e-07, 0.95},
	}
	s := NewOneCycle(0.2, 10)
	for i, w := range want {
		lr, m := s.At(i)
		require.InDelta(t, w[0], lr, 1e-12, "lr at %d", i)
		require.InDelta(t, w[1], m, 1e-12, "momentum at %d", i)
	}
	s.CycleMomentum = false
	_, m := s.At(3)
	require.Zero(t, m)
}

// TestCosine: warm-up rises linearly, then cosine from MaxLR to MinLR.
func TestCosine(t *testing.T) {
	s := &Cosine{MaxLR: 1, MinLR: 0.1, WarmupSteps: 2, TotalSteps: 12}
	lr, _ := s.At(0)
	require.InDelta(t, 0.5, lr, 1e-12)
	lr, _ = s.At(2)
	require.InDelta(t, 1, lr, 1e-12)
	lr, _ = s.At(7)
	require.InDelta(t, 0.55, lr, 1e-12)
	lr, _ = s.At(12)
	require.InDelta(t, 0.1, lr, 1e-12)
	lr, _ = s.At(100)
	require.InDelta(t, 0.1, lr, 1e-12)
}

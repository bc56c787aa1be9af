package nas

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProxyReliabilityByHand(t *testing.T) {
	// Means 2 and 6, variances 2 and 2 (k−1 = 1 in the denominator):
	// MSB = 2·8 = 16, MSW = 2, ICC = (16−2)/(16+2) = 7/9.
	r, err := ProxyReliability([][]float64{{1, 3}, {5, 7}})
	require.NoError(t, err)
	require.InDelta(t, 7.0/9, r.ICC, 1e-12)
	require.InDelta(t, math.Sqrt(8), r.BetweenSD, 1e-12)
	require.InDelta(t, math.Sqrt(2), r.WithinSD, 1e-12)
	require.InDelta(t, 1, r.TauMean, 1e-12)
	require.Equal(t, 2, r.Nets)
	require.Equal(t, 2, r.Seeds)
}

func TestProxyReliabilityRankingAndNoise(t *testing.T) {
	// The same order under every seed: τ = 1; noise far below the spread:
	// ICC near 1.
	ordered := [][]float64{{0.70, 0.701, 0.699}, {0.75, 0.751, 0.749}, {0.80, 0.802, 0.798}, {0.85, 0.849, 0.851}}
	r, err := ProxyReliability(ordered)
	require.NoError(t, err)
	require.InDelta(t, 1, r.TauMean, 1e-12)
	require.InDelta(t, 1, r.TauMin, 1e-12)
	require.Greater(t, r.ICC, 0.99)

	// Two seeds that rank four networks in opposite orders: τ = −1.
	reversed := [][]float64{{0.1, 0.4}, {0.2, 0.3}, {0.3, 0.2}, {0.4, 0.1}}
	r, err = ProxyReliability(reversed)
	require.NoError(t, err)
	require.InDelta(t, -1, r.TauMean, 1e-12)
	require.Less(t, r.ICC, 0.0, "the networks' means are all equal")

	// Pure noise (every reading drawn alike): ICC and τ near 0.
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([][]float64, 200)
	for i := range noise {
		noise[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
	}
	r, err = ProxyReliability(noise)
	require.NoError(t, err)
	require.InDelta(t, 0, r.ICC, 0.15)
	require.InDelta(t, 0, r.TauMean, 0.15)
	require.InDelta(t, 1, r.WithinSD, 0.15)
}

func TestProxyReliabilityAllEqual(t *testing.T) {
	// Nothing to tell apart: ICC and τ are 0, not NaN.
	r, err := ProxyReliability([][]float64{{0.7, 0.7}, {0.7, 0.7}, {0.7, 0.7}})
	require.NoError(t, err)
	require.Equal(t, 0.0, r.ICC)
	require.Equal(t, 0.0, r.TauMean)
	require.Equal(t, 0.0, r.WithinSD)
}

func TestKendallTauB(t *testing.T) {
	// Ties count for neither side: x ties its first two readings, y does not.
	// Pairs untied in x: 5 of 6; in y: 6. Concordant 5, discordant 0.
	x, y := []float64{1, 1, 2, 3}, []float64{1, 2, 3, 4}
	require.InDelta(t, 5/math.Sqrt(30), kendallTauB(x, y), 1e-12)
	require.InDelta(t, 5/math.Sqrt(30), kendallTauB(y, x), 1e-12, "symmetric")
	require.InDelta(t, -1, kendallTauB([]float64{1, 2, 3}, []float64{3, 2, 1}), 1e-12)
	require.Equal(t, 0.0, kendallTauB([]float64{1, 1, 1}, []float64{1, 2, 3}))
}

func TestProxyReliabilityErrors(t *testing.T) {
	for _, c := range []struct {
		acc  [][]float64
		want string
	}{
		{[][]float64{{1, 2}}, "at least 2 networks"},
		{[][]float64{{1}, {2}}, "at least 2 seeds"},
		{[][]float64{{1, 2}, {3}}, "network 1 has 1 accuracies, network 0 has 2"},
	} {
		_, err := ProxyReliability(c.acc)
		require.ErrorContains(t, err, c.want)
	}
}

package nas

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParetoFront(t *testing.T) {
	pts := []Point{
		{0.90, 2.0}, // front
		{0.85, 1.0}, // front
		{0.80, 1.5}, // dominated by 1
		{0.92, 3.0}, // front
		{0.92, 3.5}, // dominated by 3
		{0.85, 1.0}, // duplicate of 1
		{0.70, 0.5}, // front
	}
	require.Equal(t, []int{6, 1, 0, 3}, ParetoFront(pts))
	require.Empty(t, ParetoFront(nil))
}

func TestParetoFrontMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		pts := make([]Point, rng.IntN(30))
		for i := range pts {
			// Coarse values make ties common.
			pts[i] = Point{float64(rng.IntN(8)) / 8, float64(rng.IntN(8))}
		}
		inFront := map[int]bool{}
		for _, i := range ParetoFront(pts) {
			inFront[i] = true
		}
		for i, p := range pts {
			dominated, dupBefore := false, false
			for j, q := range pts {
				if q.Dominates(p) {
					dominated = true
				}
				if j < i && q == p {
					dupBefore = true
				}
			}
			require.Equal(t, !dominated && !dupBefore, inFront[i], "point %d %v of %v", i, p, pts)
		}
	}
}

func TestHypervolume(t *testing.T) {
	ref := Point{0.5, 10}
	// One point: a rectangle (10-2)·(0.9-0.5).
	require.InDelta(t, 8*0.4, Hypervolume([]Point{{0.9, 2}}, ref), 1e-12)
	// Two front points: staircase.
	hv := Hypervolume([]Point{{0.9, 4}, {0.7, 1}, {0.6, 5}}, ref)
	require.InDelta(t, (10-4)*0.4+(4-1)*0.2, hv, 1e-12)
	// Points beyond the reference add nothing; adding a dominated point changes nothing.
	require.InDelta(t, hv, Hypervolume([]Point{{0.9, 4}, {0.7, 1}, {0.4, 0.1}, {0.95, 11}, {0.65, 2}}, ref), 1e-12)
	require.Zero(t, Hypervolume(nil, ref))
}

func TestReward(t *testing.T) {
	soft := SoftReward(10)
	require.NoError(t, soft.Validate())
	require.InDelta(t, 0.9, soft.Of(0.9, 10), 1e-12)
	require.InDelta(t, 0.9*math.Pow(2, -0.07), soft.Of(0.9, 20), 1e-12)
	require.InDelta(t, 0.9*math.Pow(0.5, -0.07), soft.Of(0.9, 5), 1e-12)
	hard := HardReward(10)
	require.InDelta(t, 0.9, hard.Of(0.9, 5), 1e-12, "no bonus under the target")
	require.InDelta(t, 0.45, hard.Of(0.9, 20), 1e-12)
	require.ErrorContains(t, Reward{TargetMs: 0}.Validate(), "positive")
	require.ErrorContains(t, Reward{TargetMs: 1, Alpha: math.NaN()}.Validate(), "finite")
}

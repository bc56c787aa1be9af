package nas

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
)

// Reliability says how well a proxy tells networks apart: it summarizes
// the proxy accuracies of several networks, each trained with the same
// several seeds. A search can only select on accuracy where the networks
// differ by more than one network differs from itself over seeds.
type Reliability struct {
	Nets, Seeds int
	// WithinSD is the root of the mean variance of one network's accuracy
	// over the seeds: the proxy's noise.
	WithinSD float64
	// BetweenSD is the standard deviation of the networks' mean accuracies.
	BetweenSD float64
	// ICC is the one-way intraclass correlation ICC(1): the share of a
	// single proxy reading's variance that comes from the network rather
	// than the seed (1: the proxy ranks perfectly; 0 or below: not at all).
	ICC float64
	// TauMean, TauMin and TauMax are Kendall's τ-b between the networks'
	// rankings under two seeds, over all pairs of seeds.
	TauMean, TauMin, TauMax float64
}

// ProxyReliability computes the reliability of acc[i][j], the proxy
// accuracy of network i trained with seed j. It needs at least two networks
// and two seeds, the same seeds for every network.
func ProxyReliability(acc [][]float64) (Reliability, error) {
	n := len(acc)
	if n < 2 {
		return Reliability{}, errors.New("proxy reliability needs at least 2 networks")
	}
	k := len(acc[0])
	if k < 2 {
		return Reliability{}, errors.New("proxy reliability needs at least 2 seeds per network")
	}
	means := make([]float64, n)
	var within float64 // sum of the networks' variances over seeds
	for i, row := range acc {
		if len(row) != k {
			return Reliability{}, fmt.Errorf("network %d has %d accuracies, network 0 has %d", i, len(row), k)
		}
		var v float64
		means[i], v = stat.MeanVariance(row, nil)
		within += v
	}
	msw := within / float64(n) // mean square within
	_, vm := stat.MeanVariance(means, nil)
	msb := float64(k) * vm // mean square between
	r := Reliability{Nets: n, Seeds: k, WithinSD: math.Sqrt(msw), BetweenSD: math.Sqrt(vm),
		TauMin: math.Inf(1), TauMax: math.Inf(-1)}
	if d := msb + float64(k-1)*msw; d > 0 { // else every reading is equal: ICC 0
		r.ICC = (msb - msw) / d
	}
	col := func(j int) []float64 {
		c := make([]float64, n)
		for i := range acc {
			c[i] = acc[i][j]
		}
		return c
	}
	pairs := 0
	for a := 0; a < k; a++ {
		for b := a + 1; b < k; b++ {
			tau := kendallTauB(col(a), col(b))
			r.TauMean += tau
			r.TauMin, r.TauMax = math.Min(r.TauMin, tau), math.Max(r.TauMax, tau)
			pairs++
		}
	}
	r.TauMean /= float64(pairs)
	return r, nil
}

// kendallTauB returns Kendall's τ-b between x and y: concordant minus
// discordant pairs over the geometric mean of the pairs untied in x and in
// y, so that equal readings (common: an accuracy on 1,000 images has three
// digits) count for neither side. It is 0 where x or y is all ties.
// (gonum's stat.Kendall counts a tie as concordant or discordant by the
// sign of the other difference.)
func kendallTauB(x, y []float64) float64 {
	var conc, disc, untiedX, untiedY float64
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			dx, dy := x[j]-x[i], y[j]-y[i]
			if dx != 0 {
				untiedX++
			}
			if dy != 0 {
				untiedY++
			}
			switch p := dx * dy; {
			case p > 0:
				conc++
			case p < 0:
				disc++
			}
		}
	}
	if untiedX == 0 || untiedY == 0 {
		return 0
	}
	return (conc - disc) / math.Sqrt(untiedX*untiedY)
}

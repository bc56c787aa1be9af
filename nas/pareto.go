package nas

import (
	"slices"
)

// Point is one model on the accuracy–latency plane: higher accuracy and
// lower latency are better.
type Point struct {
	Acc, LatMs float64
}

// Dominates reports whether p is at least as good as q on both objectives
// and strictly better on one.
func (p Point) Dominates(q Point) bool {
	return p.Acc >= q.Acc && p.LatMs <= q.LatMs && (p.Acc > q.Acc || p.LatMs < q.LatMs)
}

// ParetoFront returns the indices of the points that no other point
// dominates, sorted by increasing latency. Of exact duplicates only the
// first is kept.
func ParetoFront(pts []Point) []int {
	idx := make([]int, len(pts))
	for i := range idx {
		idx[i] = i
	}
	// Sort by latency, then by accuracy descending, then by index: one
	// sweep keeps each point that beats the best accuracy seen so far.
	slices.SortStableFunc(idx, func(a, b int) int {
		pa, pb := pts[a], pts[b]
		switch {
		case pa.LatMs != pb.LatMs:
			if pa.LatMs < pb.LatMs {
				return -1
			}
			return 1
		case pa.Acc != pb.Acc:
			if pa.Acc > pb.Acc {
				return -1
			}
			return 1
		}
		return a - b
	})
	var front []int
	best := -1.0
	for _, i := range idx {
		if pts[i].Acc > best {
			front = append(front, i)
			best = pts[i].Acc
		}
	}
	return front
}

// Hypervolume returns the area of the accuracy–latency region dominated by
// pts and bounded by the reference point ref (a worst-case accuracy and
// latency: points with Acc ≤ ref.Acc or LatMs ≥ ref.LatMs add nothing).
// Larger is better; it is the standard scalar for comparing two fronts.
func Hypervolume(pts []Point, ref Point) float64 {
	var kept []Point
	for _, p := range pts {
		if p.Acc > ref.Acc && p.LatMs < ref.LatMs {
			kept = append(kept, p)
		}
	}
	front := ParetoFront(kept)
	// Walk the front from the slowest (most accurate) to the fastest point;
	// each adds the slab between its latency and the previous one's.
	var hv float64
	prevLat := ref.LatMs
	for k := len(front) - 1; k >= 0; k-- {
		p := kept[front[k]]
		hv += (prevLat - p.LatMs) * (p.Acc - ref.Acc)
		prevLat = p.LatMs
	}
	return hv
}

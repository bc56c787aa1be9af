package nas

import (
	"fmt"
	"math"
)

// Scale returns g compound-scaled as in EfficientNet: every stage's layer
// count multiplied by depth (rounded up), every channel count — stage base
// channels, stem and head — by width (stages rounded to the nearest
// integer, stem and head with MakeDiv), and the input height and width by
// res (rounded). The name is kept. A result outside the universal limits is
// an error; depth = width = res = 1 returns g unchanged.
func (g Genome) Scale(depth, width, res float64) (Genome, error) {
	for _, f := range []float64{depth, width, res} {
		if !(f > 0) || math.IsInf(f, 0) {
			return Genome{}, fmt.Errorf("nas: scale factors must be positive and finite, got depth %v width %v res %v", depth, width, res)
		}
	}
	s := g.Clone()
	s.Input.H = int(math.Round(float64(g.Input.H) * res))
	s.Input.W = int(math.Round(float64(g.Input.W) * res))
	s.Stem.C = MakeDiv(float64(g.Stem.C) * width)
	s.Head.C = MakeDiv(float64(g.Head.C) * width)
	for i := range s.Stages {
		st := &s.Stages[i]
		st.Layers = int(math.Ceil(float64(st.Layers) * depth))
		st.C = int(math.Round(float64(st.C) * width))
	}
	if err := s.Validate(); err != nil {
		return Genome{}, fmt.Errorf("nas: scaled genome: %w", err)
	}
	return s, nil
}

package nn

import "math"

// Schedule gives the learning rate and momentum of each optimizer step.
type Schedule interface {
	// At returns the learning rate and momentum (0: leave the optimizer's
	// momentum alone) for step (0-based).
	At(step int) (lr, momentum float64)
}

// Apply sets o's learning rate (and momentum when the schedule gives one)
// for step.
func Apply(s Schedule, o Optimizer, step int) {
	lr, m := s.At(step)
	o.SetLR(lr)
	if m > 0 {
		o.SetMomentum(m)
	}
}

// annealCos goes from start (pct 0) to end (pct 1) along half a cosine.
func annealCos(start, end, pct float64) float64 {
	return end + (start-end)/2*(math.Cos(math.Pi*pct)+1)
}

// OneCycle is torch.optim.lr_scheduler.OneCycleLR with its defaults
// (two phases, cosine annealing): the learning rate rises from
// MaxLR/DivFactor to MaxLR over the first PctStart of TotalSteps, then
// falls to MaxLR/DivFactor/FinalDivFactor; with CycleMomentum (PyTorch's
// default) the momentum (SGD) or β1 (Adam) moves the other way, from
// MaxMomentum to BaseMomentum and back.
type OneCycle struct {
	MaxLR, PctStart, DivFactor, FinalDivFactor float64
	TotalSteps                                 int
	CycleMomentum                              bool
	BaseMomentum, MaxMomentum                  float64
}

// NewOneCycle returns OneCycleLR(max_lr, total_steps) with PyTorch's
// defaults: pct_start 0.3, div_factor 25, final_div_factor 1e4,
// cycle_momentum on between 0.85 and 0.95.
func NewOneCycle(maxLR float64, totalSteps int) *OneCycle {
	return &OneCycle{MaxLR: maxLR, PctStart: 0.3, DivFactor: 25, FinalDivFactor: 1e4, TotalSteps: totalSteps,
		CycleMomentum: true, BaseMomentum: 0.85, MaxMomentum: 0.95}
}

// At returns the learning rate and momentum of step (PyTorch's
// scheduler.last_epoch = step). Steps past the end stay at the end.
func (s *OneCycle) At(step int) (lr, momentum float64) {
	initial := s.MaxLR / s.DivFactor
	minLR := initial / s.FinalDivFactor
	end1 := s.PctStart*float64(s.TotalSteps) - 1
	end2 := float64(s.TotalSteps - 1)
	t := float64(min(step, s.TotalSteps-1))
	if t <= end1 {
		pct := t / end1
		lr = annealCos(initial, s.MaxLR, pct)
		momentum = annealCos(s.MaxMomentum, s.BaseMomentum, pct)
	} else {
		pct := (t - end1) / (end2 - end1)
		lr = annealCos(s.MaxLR, minLR, pct)
		momentum = annealCos(s.BaseMomentum, s.MaxMomentum, pct)
	}
	if !s.CycleMomentum {
		momentum = 0
	}
	return lr, momentum
}

// Cosine is cosine annealing after an optional linear warm-up: the rate
// rises linearly from MaxLR/WarmupSteps to MaxLR over WarmupSteps, then
// follows torch's CosineAnnealingLR from MaxLR to MinLR over the remaining
// steps.
type Cosine struct {
	MaxLR, MinLR            float64
	WarmupSteps, TotalSteps int
}

// At returns the learning rate of step; the momentum is left alone.
func (s *Cosine) At(step int) (lr, momentum float64) {
	if step < s.WarmupSteps {
		return s.MaxLR * float64(step+1) / float64(s.WarmupSteps), 0
	}
	n := max(s.TotalSteps-s.WarmupSteps, 1)
	t := float64(min(step-s.WarmupSteps, n))
	return s.MinLR + (s.MaxLR-s.MinLR)*(1+math.Cos(math.Pi*t/float64(n)))/2, 0
}

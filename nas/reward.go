package nas

import (
	"fmt"
	"math"
)

// Reward is MnasNet's multi-objective reward ACC × (LAT/T)^w, where the
// exponent is Alpha when the measured latency meets the target T and Beta
// when it does not.
//
// The soft constraint (α = β = −0.07, MnasNet's default) trades about 5%
// relative accuracy for a 2× latency change on either side of the target;
// the hard constraint (α = 0, β = −1) ignores latency under the target and
// penalises it sharply above.
type Reward struct {
	TargetMs    float64 // T, the latency target in milliseconds
	Alpha, Beta float64 // exponents for LAT ≤ T and LAT > T
}

// SoftReward returns the soft-constraint reward for target T ms.
func SoftReward(targetMs float64) Reward {
	return Reward{TargetMs: targetMs, Alpha: -0.07, Beta: -0.07}
}

// HardReward returns the hard-constraint reward for target T ms.
func HardReward(targetMs float64) Reward { return Reward{TargetMs: targetMs, Alpha: 0, Beta: -1} }

// Validate reports a reward whose target is not positive or whose exponents
// are not finite.
func (r Reward) Validate() error {
	if !(r.TargetMs > 0) || math.IsInf(r.TargetMs, 0) {
		return fmt.Errorf("target latency must be a positive number of milliseconds, got %v", r.TargetMs)
	}
	if math.IsNaN(r.Alpha) || math.IsInf(r.Alpha, 0) || math.IsNaN(r.Beta) || math.IsInf(r.Beta, 0) {
		return fmt.Errorf("reward exponents must be finite, got α=%v β=%v", r.Alpha, r.Beta)
	}
	return nil
}

// Of returns the reward of a model with accuracy acc (0..1) and latency
// latMs milliseconds.
func (r Reward) Of(acc, latMs float64) float64 {
	w := r.Alpha
	if latMs > r.TargetMs {
		w = r.Beta
	}
	return acc * math.Pow(latMs/r.TargetMs, w)
}

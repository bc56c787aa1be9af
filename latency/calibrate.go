package latency

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nasrun/nasrun/nas"
)

// Calibrated is a Measurer that pairs every measurement with one of a fixed
// reference network — their runs taking turns where the measurer is a
// [PairMeasurer], else right after it — and scales the result by the
// reference's baseline latency ÷ its latency now.
//
// A device does not run at one speed: a phone throttles when it warms up,
// and on a shared host a busy neighbour slows a core down by half for
// seconds at a time (thread CPU time grows with wall time there, so it is
// not preemption). Such a phase slows the candidate and the reference
// alike, so their ratio holds where each alone does not (measured here
// with runs in turn: one genome's median varied by 8–17% (coefficient of
// variation) over 40 measurements, the calibrated one by 2%); the calibrated
// latency is the candidate's latency at the device's speed when the
// baseline was taken. MnasNet's reward uses LAT/T, and with the default
// target (T = the reference's latency) it depends on the ratio alone.
type Calibrated struct {
	Measurer
	Ref    nas.Genome // the reference network (mbv3-like for nasrun evolve)
	BaseMs float64    // the reference's median latency at the baseline
}

// baselineGap spaces the baseline measurements, so that they sample more
// than one spell of the device's speed.
var baselineGap = 100 * time.Millisecond

// Calibrate measures ref n times through m, baselineGap apart, and returns
// a Calibrated measurer whose baseline is the fastest of those medians:
// the device at its own undisturbed speed, as nearly as n tries find it.
func Calibrate(ctx context.Context, m Measurer, ref nas.Genome, opt Options, n int) (*Calibrated, error) {
	if n < 1 {
		return nil, fmt.Errorf("latency.Calibrate: %d baseline measurements, want at least 1", n)
	}
	base := 0.0
	pm, paired := m.(PairMeasurer)
	for i := range n {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(baselineGap):
			}
		}
		var st Stats
		var err error
		if paired {
			// Timed as in Measure, in turn with a network (its own copy),
			// so that the baseline and later measurements of the
			// reference see the same caches.
			_, st, err = pm.MeasurePair(ctx, ref, ref, opt)
		} else {
			st, err = m.Measure(ctx, ref, opt)
		}
		if err != nil {
			return nil, fmt.Errorf("measuring the calibration reference: %w", err)
		}
		if i == 0 || st.MedianMs < base {
			base = st.MedianMs
		}
	}
	return &Calibrated{Measurer: m, Ref: ref, BaseMs: base}, nil
}

// factor measures the reference now and returns baseline ÷ now.
func (c *Calibrated) factor(ctx context.Context, opt Options) (float64, error) {
	st, err := c.Measurer.Measure(ctx, c.Ref, opt)
	if err != nil {
		return 0, fmt.Errorf("measuring the calibration reference: %w", err)
	}
	return c.ratio(st)
}

// ratio returns baseline ÷ the reference's median in st.
func (c *Calibrated) ratio(st Stats) (float64, error) {
	if c.BaseMs <= 0 {
		return 0, errors.New("latency.Calibrated: no baseline (BaseMs ≤ 0)")
	}
	if st.MedianMs <= 0 {
		return 0, fmt.Errorf("the calibration reference measured %v ms", st.MedianMs)
	}
	return c.BaseMs / st.MedianMs, nil
}

// PairMeasurer is a Measurer that can time two networks run by run in
// turn ([Local] can); Calibrated uses it, so that even a slow spell
// shorter than a measurement falls on both.
type PairMeasurer interface {
	Measurer
	MeasurePair(ctx context.Context, g, ref nas.Genome, opt Options) (Stats, Stats, error)
}

// Measure measures g and the reference, in turn run by run where the
// measurer can ([PairMeasurer]) and else one after the other, and returns
// g's statistics scaled by the calibration factor (Stats.Calibration).
func (c *Calibrated) Measure(ctx context.Context, g nas.Genome, opt Options) (Stats, error) {
	var st Stats
	var f float64
	var err error
	if pm, ok := c.Measurer.(PairMeasurer); ok {
		var ref Stats
		if st, ref, err = pm.MeasurePair(ctx, g, c.Ref, opt); err != nil {
			return Stats{}, err
		}
		f, err = c.ratio(ref)
	} else {
		if st, err = c.Measurer.Measure(ctx, g, opt); err != nil {
			return Stats{}, err
		}
		f, err = c.factor(ctx, opt)
	}
	if err != nil {
		return Stats{}, err
	}
	st.scale(f)
	return st, nil
}

// MeasureParts measures g's parts, then the reference, and scales every
// part by the one calibration factor.
func (c *Calibrated) MeasureParts(ctx context.Context, g nas.Genome, keys []string, opt Options) ([]PartStats, error) {
	ps, err := c.Measurer.MeasureParts(ctx, g, keys, opt)
	if err != nil {
		return nil, err
	}
	f, err := c.factor(ctx, opt)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		ps[i].Stats.scale(f)
	}
	return ps, nil
}

// scale multiplies every time statistic by f and records f.
func (s *Stats) scale(f float64) {
	for _, p := range []*float64{&s.MedianMs, &s.P90Ms, &s.MinMs, &s.MaxMs, &s.MeanMs, &s.StdMs, &s.ThreadMedianMs, &s.ThreadP90Ms} {
		*p *= f
	}
	s.Calibration = f
}

package latency

import (
	"context"
	"errors"
	"testing"

	"github.com/nasrun/nasrun/nas"
	"github.com/stretchr/testify/require"
)

// phasedMeasurer is a device whose speed changes between phases: every
// measurement takes the genome's MACs (in millions, as ms) times the
// current phase's slowdown, and a phase lasts two measurements (a
// candidate and the reference after it).
type phasedMeasurer struct {
	fakeMeasurer
	slow  []float64
	calls int
	fail  error
}

func (p *phasedMeasurer) now() float64 {
	f := p.slow[(p.calls/2)%len(p.slow)]
	p.calls++
	return f
}

func (p *phasedMeasurer) Measure(_ context.Context, g nas.Genome, _ Options) (Stats, error) {
	if p.fail != nil && p.calls > 0 {
		return Stats{}, p.fail
	}
	ms := float64(g.Cost().MACs) / 1e6 * p.now()
	return Stats{MedianMs: ms, P90Ms: 1.1 * ms, MinMs: 0.9 * ms, ThreadMedianMs: ms}, nil
}

func (p *phasedMeasurer) MeasureParts(ctx context.Context, g nas.Genome, keys []string, opt Options) ([]PartStats, error) {
	f := p.now()
	ps, err := p.fakeMeasurer.MeasureParts(ctx, g, keys, opt)
	for i := range ps {
		ps[i].Stats.MedianMs *= f
	}
	return ps, err
}

func TestCalibratedCancelsSlowPhases(t *testing.T) {
	ctx := context.Background()
	ref, cand := refNet(t, "mbv3-like"), refNet(t, "ghost-like")
	refMs, candMs := float64(ref.Cost().MACs)/1e6, float64(cand.Cost().MACs)/1e6
	// Baseline phases 1.3 and 1.0 (the fastest wins), then a device that
	// keeps changing speed.
	m := &phasedMeasurer{slow: []float64{1.3, 1.0, 2.0, 1.5, 1.0, 1.7}}
	c, err := Calibrate(ctx, m, ref, Options{}, 2)
	require.NoError(t, err)
	require.InDelta(t, refMs*1.3, c.BaseMs, 1e-9, "two calls make one phase: both baseline measurements saw 1.3")

	m.calls = 0
	c, err = Calibrate(ctx, m, ref, Options{}, 4)
	require.NoError(t, err)
	require.InDelta(t, refMs, c.BaseMs, 1e-9, "the fastest of the baseline medians")
	for range 6 {
		raw := float64(m.calls)
		st, err := c.Measure(ctx, cand, Options{})
		require.NoError(t, err)
		require.InDelta(t, candMs, st.MedianMs, 1e-9, "call %v", raw)
		require.InDelta(t, 1.1*candMs, st.P90Ms, 1e-9)
		require.InDelta(t, candMs, st.ThreadMedianMs, 1e-9)
		require.Positive(t, st.Calibration)
	}
	ps, err := c.MeasureParts(ctx, cand, []string{Parts(cand)[1].Key}, Options{})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.InDelta(t, 1.0, ps[0].Stats.MedianMs, 1e-9, "a part is calibrated by the same factor")
}

func TestCalibratedErrors(t *testing.T) {
	ctx := context.Background()
	ref := refNet(t, "mbv3-like")
	_, err := Calibrate(ctx, &phasedMeasurer{slow: []float64{1}}, ref, Options{}, 0)
	require.ErrorContains(t, err, "at least 1")

	boom := errors.New("device unplugged")
	m := &phasedMeasurer{slow: []float64{1}}
	c, err := Calibrate(ctx, m, ref, Options{}, 1)
	require.NoError(t, err)
	m.fail = boom
	_, err = c.Measure(ctx, ref, Options{})
	require.ErrorIs(t, err, boom)

	_, err = (&Calibrated{Measurer: &phasedMeasurer{slow: []float64{1}}, Ref: ref}).Measure(ctx, ref, Options{})
	require.ErrorContains(t, err, "no baseline")
}

// pairedMeasurer times a pair in one phase.
type pairedMeasurer struct{ phasedMeasurer }

func (p *pairedMeasurer) MeasurePair(ctx context.Context, g, ref nas.Genome, opt Options) (Stats, Stats, error) {
	a, err := p.Measure(ctx, g, opt)
	if err != nil {
		return Stats{}, Stats{}, err
	}
	b, err := p.Measure(ctx, ref, opt)
	return a, b, err
}

func TestCalibratedUsesPairs(t *testing.T) {
	ctx := context.Background()
	ref, cand := refNet(t, "mbv3-like"), refNet(t, "ghost-like")
	m := &pairedMeasurer{phasedMeasurer{slow: []float64{1.2, 1.0, 3.0, 1.4}}}
	c, err := Calibrate(ctx, m, ref, Options{}, 2)
	require.NoError(t, err)
	require.Equal(t, 4, m.calls, "each baseline measurement is a pair")
	require.InDelta(t, float64(ref.Cost().MACs)/1e6, c.BaseMs, 1e-9)
	for range 4 {
		st, err := c.Measure(ctx, cand, Options{})
		require.NoError(t, err)
		require.InDelta(t, float64(cand.Cost().MACs)/1e6, st.MedianMs, 1e-9)
	}
	require.Equal(t, 12, m.calls)
}

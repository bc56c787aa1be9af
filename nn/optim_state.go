package nn

import "fmt"

// Stateful is an optimizer whose state can be saved in a checkpoint and
// restored, so that a resumed training run continues exactly.
type Stateful interface {
	// State returns the step count and the per-parameter buffers, named
	// "<kind>.<parameter index>"; the slices are the optimizer's own.
	State() (steps int, bufs map[string][]float32)
	// SetState copies a State back; names and lengths must match.
	SetState(steps int, bufs map[string][]float32) error
}

func restore(kind string, dst [][]float32, bufs map[string][]float32) error {
	for i, d := range dst {
		name := fmt.Sprintf("%s.%d", kind, i)
		src, ok := bufs[name]
		if !ok {
			return fmt.Errorf("optimizer state: %s missing", name)
		}
		if len(src) != len(d) {
			return fmt.Errorf("optimizer state: %s has %d values, want %d", name, len(src), len(d))
		}
		copy(d, src)
	}
	return nil
}

func named(kind string, src [][]float32, into map[string][]float32) {
	for i, s := range src {
		into[fmt.Sprintf("%s.%d", kind, i)] = s
	}
}

// State implements Stateful: the momentum buffers.
func (o *SGD) State() (int, map[string][]float32) {
	bufs := map[string][]float32{}
	named("momentum", o.bufs, bufs)
	steps := 0
	if o.started {
		steps = 1
	}
	return steps, bufs
}

// SetState implements Stateful.
func (o *SGD) SetState(steps int, bufs map[string][]float32) error {
	o.started = steps > 0
	return restore("momentum", o.bufs, bufs)
}

// State implements Stateful: the first and second moments.
func (o *AdamW) State() (int, map[string][]float32) {
	bufs := map[string][]float32{}
	named("m", o.m, bufs)
	named("v", o.v, bufs)
	return o.t, bufs
}

// SetState implements Stateful.
func (o *AdamW) SetState(steps int, bufs map[string][]float32) error {
	o.t = steps
	if err := restore("m", o.m, bufs); err != nil {
		return err
	}
	return restore("v", o.v, bufs)
}

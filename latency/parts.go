package latency

import (
	"context"
	"fmt"
	"slices"

	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/nn"
)

// Part kinds.
const (
	PartStem  = "stem"
	PartBlock = "block"
	PartHead  = "head"
)

// Part is one piece of a genome's network that a lookup table times on its
// own: the stem, one block, or the head (1×1 conv, BN, act, pooling,
// classifier). A network is exactly its parts in order.
type Part struct {
	Key  string `json:"key"`  // equal keys compute the same thing
	Kind string `json:"kind"` // PartStem, PartBlock or PartHead
	// Input is the part's input shape, N×H×W×C with N = 1.
	Input [4]int `json:"input"`
}

// PartStats is a part's measured latency.
type PartStats struct {
	Part
	Stats Stats `json:"stats"`
}

// Parts lists g's parts in network order (blocks with equal keys repeat).
// Block keys are [nas.Layer.Key]; the stem's and head's keys name their
// shapes the same way.
func Parts(g nas.Genome) []Part {
	ls := g.Layers()
	ps := make([]Part, 0, len(ls)+2)
	ps = append(ps, Part{
		Key:   fmt.Sprintf("stem_h%dw%d_c%d-%d_k%ds%d_%s", g.Input.H, g.Input.W, g.Input.C, g.Stem.C, g.Stem.K, g.Stem.Stride, g.Stem.Act),
		Kind:  PartStem,
		Input: [4]int{1, g.Input.H, g.Input.W, g.Input.C},
	})
	for _, l := range ls {
		ps = append(ps, Part{Key: l.Key(), Kind: PartBlock, Input: [4]int{1, l.H, l.W, l.In}})
	}
	// The head's input is the last block's output (the stem's without
	// blocks, which Validate does not allow).
	last := ls[len(ls)-1]
	h, w := last.OutHW()
	ps = append(ps, Part{
		Key:   fmt.Sprintf("head_h%dw%d_c%d-%d-%d_%s", h, w, last.Out, g.Head.C, g.Classes, g.Head.Act),
		Kind:  PartHead,
		Input: [4]int{1, h, w, last.Out},
	})
	return ps
}

// stemModules and headModules are how many entries of nas.Build's
// Sequential belong to the stem (conv, BN, act) and to the head (conv,
// BN, act, pool, flatten, dropout, linear); one entry per block lies
// between.
const (
	stemModules = 3
	headModules = 7
)

// partModules splits net, built by nas.Build from g, into the modules of
// g's parts, in the order of Parts(g).
func partModules(net *nn.Network, g nas.Genome) ([]nn.Module, error) {
	seq, ok := net.Root.(nn.Sequential)
	nb := len(g.Layers())
	if !ok || len(seq) != stemModules+nb+headModules {
		return nil, fmt.Errorf("latency: the network of %s is not laid out as nas.Build documents (stem, %d blocks, head)", g.ID(), nb)
	}
	ms := make([]nn.Module, 0, nb+2)
	ms = append(ms, seq[:stemModules])
	for _, m := range seq[stemModules : stemModules+nb] {
		ms = append(ms, m)
	}
	return append(ms, seq[stemModules+nb:]), nil
}

// MeasureParts measures the parts of g here (see [Measurer]).
func (Local) MeasureParts(ctx context.Context, g nas.Genome, keys []string, opt Options) ([]PartStats, error) {
	net, err := BuildForLatency(g)
	if err != nil {
		return nil, err
	}
	ms, err := partModules(net, g)
	if err != nil {
		return nil, err
	}
	var out []PartStats
	for i, p := range Parts(g) {
		if (keys != nil && !slices.Contains(keys, p.Key)) || slices.ContainsFunc(out, func(q PartStats) bool { return q.Key == p.Key }) {
			continue
		}
		st, err := measureModule(ctx, ms[i], p.Input[:], opt, true)
		if err != nil {
			return nil, fmt.Errorf("latency: part %s: %w", p.Key, err)
		}
		out = append(out, PartStats{Part: p, Stats: st})
	}
	return out, nil
}

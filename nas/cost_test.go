package nas

import (
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/cost_genomes.json")

// fixtureSpaces are the spaces the cost fixture samples from: the default
// one, and others with odd base channels (make_div at every width), color
// non-square inputs, other stems, heads and strides, single block types.
func fixtureSpaces() []*Space {
	wide := &Space{
		Input:   Input{H: 32, W: 32, C: 3},
		Classes: 100,
		Stem:    Stem{C: 24, K: 5, Stride: 2, Act: ReLU},
		Stages:  []StageBase{{20, 1}, {36, 2}, {60, 1}, {100, 2}},
		Head:    Head{C: 256, Act: ReLU, Dropout: 0.1},
		Choices: Universe(),
	}
	wide.Choices.MaxLayers = 3
	ghosts, mbconvs := *wide, *wide
	ghosts.Choices.Blocks = []Block{Ghost}
	mbconvs.Choices.Blocks = []Block{MBConv}
	odd := &Space{
		Input:   Input{H: 20, W: 37, C: 2},
		Classes: 7,
		Stem:    Stem{C: 8, K: 7, Stride: 1, Act: HSwish},
		Stages:  []StageBase{{12, 2}, {28, 2}, {44, 2}},
		Head:    Head{C: 64, Act: HSwish, Dropout: 0},
		Choices: Universe(),
	}
	odd.Choices.MaxLayers = 2
	return []*Space{DefaultSpace(), wide, &ghosts, &mbconvs, odd}
}

// fixtureGenomes are the reference networks and three samples of each
// fixture space.
func fixtureGenomes(t *testing.T) []Genome {
	var gs []Genome
	for _, name := range RefNetNames() {
		g, err := RefNet(name)
		require.NoError(t, err)
		gs = append(gs, g)
	}
	for i, s := range fixtureSpaces() {
		require.NoError(t, s.Validate())
		rng := rand.New(rand.NewPCG(42, uint64(i)))
		for range 3 {
			gs = append(gs, s.Sample(rng))
		}
	}
	return gs
}

// TestCostFixtureGenomes keeps testdata/cost_genomes.json, the input of
// testdata/torch_cost.py, equal to fixtureGenomes (-update rewrites it).
func TestCostFixtureGenomes(t *testing.T) {
	var docs []string
	for _, g := range fixtureGenomes(t) {
		docs = append(docs, strings.TrimSuffix(string(g.Encode()), "\n"))
	}
	want := "[\n" + strings.Join(docs, ",\n") + "\n]\n"
	const path = "testdata/cost_genomes.json"
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, string(got), "run go test -run TestCostFixtureGenomes -update, then torch_cost.py (see its doc)")
}

// TestCostMatchesTorch compares Genome.Cost with the MACs and parameters
// PyTorch counts for the same networks (testdata/cost_torch.json).
func TestCostMatchesTorch(t *testing.T) {
	data, err := os.ReadFile("testdata/cost_torch.json")
	require.NoError(t, err)
	var fixture []struct {
		Genome Genome `json:"genome"`
		MACs   int64  `json:"macs"`
		Params int64  `json:"params"`
	}
	require.NoError(t, json.Unmarshal(data, &fixture))
	want := fixtureGenomes(t)
	require.Len(t, fixture, len(want), "fixture out of date")
	blocks := map[Block]int{}
	for i, f := range fixture {
		require.Equal(t, string(want[i].Encode()), string(f.Genome.Encode()), "fixture out of date")
		require.Equal(t, Cost{MACs: f.MACs, Params: f.Params}, f.Genome.Cost(), "genome %d %s", i, f.Genome.Name)
		for _, l := range f.Genome.Layers() {
			blocks[l.Block]++
		}
	}
	require.Greater(t, blocks[MBConv], 10)
	require.Greater(t, blocks[Ghost], 10)
}

// TestRefNetCost checks the reference networks against REFNETS.md.
func TestRefNetCost(t *testing.T) {
	for name, want := range map[string][2]float64{"mbv3-like": {18.9e6, 539e3}, "ghost-like": {11.5e6, 434e3}} {
		g, err := RefNet(name)
		require.NoError(t, err)
		c := g.Cost()
		require.InDelta(t, want[0], float64(c.MACs), 0.05e6, name)
		require.InDelta(t, want[1], float64(c.Params), 0.5e3, name)
	}
}

func TestLayers(t *testing.T) {
	g, err := RefNet("mbv3-like")
	require.NoError(t, err)
	ls := g.Layers()
	require.Len(t, ls, 8)
	// Stage by stage: input size, channels in/mid/out, stride, SE hidden.
	want := []Layer{
		{Stage: 0, Index: 0, H: 28, In: 16, Mid: 16, Out: 16, Stride: 1, SE: 0},
		{Stage: 1, Index: 0, H: 28, In: 16, Mid: 48, Out: 24, Stride: 2, SE: 0},
		{Stage: 1, Index: 1, H: 14, In: 24, Mid: 72, Out: 24, Stride: 1, SE: 0},
		{Stage: 2, Index: 0, H: 14, In: 24, Mid: 72, Out: 40, Stride: 1, SE: 16},
		{Stage: 2, Index: 1, H: 14, In: 40, Mid: 120, Out: 40, Stride: 1, SE: 32},
		{Stage: 3, Index: 0, H: 14, In: 40, Mid: 240, Out: 80, Stride: 2, SE: 64},
		{Stage: 3, Index: 1, H: 7, In: 80, Mid: 480, Out: 80, Stride: 1, SE: 120},
		{Stage: 4, Index: 0, H: 7, In: 80, Mid: 480, Out: 96, Stride: 1, SE: 120},
	}
	for i, l := range ls {
		w := want[i]
		require.Equal(t, [8]int{w.Stage, w.Index, w.H, w.In, w.Mid, w.Out, w.Stride, w.SE},
			[8]int{l.Stage, l.Index, l.H, l.In, l.Mid, l.Out, l.Stride, l.SE}, "layer %d", i)
		require.Equal(t, l.H, l.W)
		require.Equal(t, i != 1 && i != 3 && i != 5 && i != 7, l.Residual(), "layer %d", i)
	}
	require.Equal(t, "mbconv_h14w14_c24-72-40_e3_k5s1_se16_hswish", ls[3].Key())
	oh, ow := ls[5].OutHW()
	require.Equal(t, [2]int{7, 7}, [2]int{oh, ow})
}

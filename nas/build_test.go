package nas

import (
	"github.com/nasrun/nasrun/internal/alloctest"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/nn/nntest"
	"github.com/nasrun/nasrun/safetensors"
	"github.com/nasrun/nasrun/tensor"
	"github.com/stretchr/testify/require"
)

// TestBuildRefNets: the built networks have the parameter count the cost
// model (and PyTorch) gives, PyTorch-style names, and run forward and
// backward to logits of the right shape.
func TestBuildRefNets(t *testing.T) {
	for _, name := range RefNetNames() {
		t.Run(name, func(t *testing.T) {
			g, err := RefNet(name)
			require.NoError(t, err)
			net, err := Build(g, rand.New(rand.NewPCG(1, 2)))
			require.NoError(t, err)
			require.EqualValues(t, g.Cost().Params, net.NumParams())
			names := map[string]bool{}
			for _, e := range net.Entries() {
				require.False(t, names[e.Name], "duplicate %s", e.Name)
				names[e.Name] = true
			}
			require.True(t, names["net.0.weight"])
			require.True(t, names["net.1.running_var"])
			if g.Stages[0].Block == MBConv {
				require.True(t, names["net.3.body.0.weight"])
				require.True(t, names["net.7.body.6.fc1.bias"], "SE of the first stage-3 block")
			} else {
				require.True(t, names["net.3.g1.primary.0.weight"])
				require.True(t, names["net.4.short.3.running_mean"])
			}
			last := len(g.Layers()) + 3
			require.True(t, names["net."+strconv.Itoa(last+6)+".weight"], "classifier")

			tp := autograd.NewTape()
			c := &nn.Ctx{Tape: tp, Train: true, Rng: rand.New(rand.NewPCG(3, 4))}
			x := tensor.RandNormal(rand.New(rand.NewPCG(5, 6)), 0, 1, 4, 28, 28, 1)
			logits := net.Forward(c, tp.Input(x))
			require.Equal(t, []int{4, 10}, logits.Value.Shape)
			loss := nn.CrossEntropy(c, logits, []int{1, 2, 3, 4}, 0.1)
			require.NoError(t, tp.Backward(loss))
			for _, e := range net.Params() {
				require.NotZero(t, tensor.SumSquares(e.Param.Grad), "no gradient reached %s", e.Name)
			}
		})
	}
}

// TestSaveLoad: weights and running statistics survive a round trip
// through a file; the genome travels in the metadata; a file of another
// architecture is refused with the differing names.
func TestSaveLoad(t *testing.T) {
	g, err := RefNet("mbv3-like")
	require.NoError(t, err)
	net, err := Build(g, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	// Move the running statistics off their initial values.
	tp := autograd.NewTape()
	c := &nn.Ctx{Tape: tp, Train: true, Rng: rand.New(rand.NewPCG(3, 4))}
	net.Forward(c, tp.Input(tensor.RandNormal(rand.New(rand.NewPCG(5, 6)), 0, 1, 2, 28, 28, 1)))

	path := filepath.Join(t.TempDir(), "w.safetensors")
	require.NoError(t, net.Save(path))
	back, g2, err := LoadNetwork(path)
	require.NoError(t, err)
	require.Equal(t, g.ID(), g2.ID())
	for i, e := range net.Entries() {
		require.Equal(t, e.Name, back.Entries()[i].Name)
		require.Equal(t, e.Value.Data, back.Entries()[i].Value.Data, e.Name)
	}

	other := g.Clone()
	other.Stages[4].Expand = 3
	wrong, err := Build(other, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	_, err = wrong.Load(path)
	require.ErrorContains(t, err, "net.10.body.0.weight: file has [480 80 1 1], network wants [240 80 1 1]")
}

// TestBuildTorchFixture: a small genome with every block type, both
// activations, SE and strides, built by Build, matches PyTorch's
// refnet_torch.Net of the same architecture (nn/testdata/make_fixtures.py)
// in output, input gradient, every parameter gradient and running
// statistics, in eval and train mode.
func TestBuildTorchFixture(t *testing.T) {
	fx, meta, err := safetensors.Load("../nn/testdata/net_fixture.safetensors")
	require.NoError(t, err)
	g, err := Parse([]byte(meta["genome"]))
	require.NoError(t, err)
	net, err := Build(g, rand.New(rand.NewPCG(1, 1)))
	require.NoError(t, err)
	nntest.CheckFixture(t, net, fx)
}

// TestInferencePlan: the compiled plan (BN folded, activations fused)
// gives the eval-mode logits of the network, for batch 1 and a larger
// batch, and a steady-state Run allocates nothing outside the kernels.
func TestInferencePlan(t *testing.T) {
	for _, name := range RefNetNames() {
		g, err := RefNet(name)
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(7, 8))
		net, err := Build(g, rng)
		require.NoError(t, err)
		// Non-trivial running statistics and BN parameters.
		for _, e := range net.Entries() {
			if strings.HasSuffix(e.Name, "running_var") {
				for i := range e.Value.Data {
					e.Value.Data[i] = 0.5 + rng.Float32()
				}
			} else if strings.HasSuffix(e.Name, "running_mean") || (e.Param != nil && len(e.Value.Shape) == 1) {
				for i := range e.Value.Data {
					e.Value.Data[i] += 0.2 * (rng.Float32() - 0.5)
				}
			}
		}
		plan, err := net.Inference()
		require.NoError(t, err)
		for _, n := range []int{1, 5} {
			x := tensor.RandNormal(rng, 0, 1, n, 28, 28, 1)
			tp := autograd.NewTape()
			tp.SetGrad(false)
			want := net.Forward(&nn.Ctx{Tape: tp}, tp.Input(x)).Value
			got, err := plan.Run(x)
			require.NoError(t, err)
			require.Equal(t, want.Shape, got.Shape)
			require.LessOrEqual(t, nntest.RelErr(got.Data, want.Data, 0), 1e-4, "%s batch %d", name, n)
		}
		// The plan is a snapshot: training the network does not change it.
		x1 := tensor.RandNormal(rng, 0, 1, 1, 28, 28, 1)
		before, err := plan.Run(x1)
		require.NoError(t, err)
		want := before.Clone()
		for _, e := range net.Entries() {
			for i := range e.Value.Data {
				e.Value.Data[i] *= 1.5
			}
		}
		after, err := plan.Run(x1)
		require.NoError(t, err)
		require.Equal(t, want.Data, after.Data)
		_, err = plan.Run(tensor.Zeros(1, 28, 28, 3))
		require.ErrorContains(t, err, "want [N 28 28 1]")
		x := tensor.RandNormal(rng, 0, 1, 1, 28, 28, 1)
		require.Zero(t, alloctest.PerRun(t, 5, func() { plan.Run(x) }, ownPkgs...), name)
	}
}

// TestLayerBuild: a block built alone compiles to a plan of its own (the
// per-block latency measurement) with the block's output shape.
func TestLayerBuild(t *testing.T) {
	g, err := RefNet("ghost-like")
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, l := range g.Layers() {
		plan, err := nn.NewNetwork(l.Build(rng), "", l.H, l.W, l.In, 0).Inference()
		require.NoError(t, err)
		y, err := plan.Run(tensor.Zeros(1, l.H, l.W, l.In))
		require.NoError(t, err)
		h, w := l.OutHW()
		require.Equal(t, []int{1, h, w, l.Out}, y.Shape, l.Key())
	}
}

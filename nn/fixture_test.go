package nn_test

import (
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/nn/nntest"
	"github.com/nasrun/nasrun/safetensors"
	"github.com/nasrun/nasrun/tensor"
	"github.com/stretchr/testify/require"
)

// specJSON is the block description make_fixtures.py writes.
type specJSON struct {
	In, Mid, Out, K, Stride, Expand, SE int
	Act                                 string
}

func (s specJSON) block() nn.BlockSpec {
	a := map[string]nn.Act{"relu": nn.ActReLU, "hswish": nn.ActHardswish, "none": nn.ActNone}[s.Act]
	return nn.BlockSpec{In: s.In, Mid: s.Mid, Out: s.Out, K: s.K, Stride: s.Stride, Expand: s.Expand, SE: s.SE, Act: a}
}

// TestTorchFixtures checks every block fixture of make_fixtures.py.
func TestTorchFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.safetensors")
	require.NoError(t, err)
	checked := 0
	for _, f := range files {
		fx, meta, err := safetensors.Load(f)
		require.NoError(t, err)
		var s specJSON
		if meta["spec"] == "" {
			continue // net and optim fixtures have their own tests
		}
		require.NoError(t, json.Unmarshal([]byte(meta["spec"]), &s))
		t.Run(strings.TrimSuffix(filepath.Base(f), ".safetensors"), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 1))
			var m nn.Module
			switch meta["kind"] {
			case "se":
				m = nn.NewSEBlock(rng, s.In, s.SE)
			case "ghostmodule":
				m = nn.NewGhostModule(rng, s.In, s.Out, s.block().Act)
			case "mbconv":
				m = nn.NewMBConv(rng, s.block())
			case "ghost":
				m = nn.NewGhostBottleneck(rng, s.block())
			default:
				t.Fatalf("unknown kind %q", meta["kind"])
			}
			x := fx["x"].Shape
			nntest.CheckFixture(t, nn.NewNetwork(m, "", x[2], x[3], x[1], 0), fx)
		})
		checked++
	}
	require.GreaterOrEqual(t, checked, 15)
}

// TestOptimFixture: SGD (Nesterov, weight decay) and AdamW (with gradient
// clipping) driven by OneCycle reproduce PyTorch's weights step by step.
func TestOptimFixture(t *testing.T) {
	fx, meta, err := safetensors.Load("testdata/optim.safetensors")
	require.NoError(t, err)
	x := &tensor.Tensor{Shape: fx["x"].Shape, Data: fx["x"].Data}
	var labels []int
	for _, v := range fx["labels"].Data {
		labels = append(labels, int(v))
	}
	steps := 0
	require.NoError(t, json.Unmarshal([]byte(meta["steps"]), &steps))
	for _, name := range []string{"sgd", "adamw"} {
		lin := nn.NewLinear(rand.New(rand.NewPCG(1, 1)), 6, 4, true)
		net := nn.NewNetwork(lin, "", 1, 1, 6, 4)
		require.NoError(t, net.LoadStateDict(map[string]safetensors.Tensor{"weight": fx["state.weight"], "bias": fx["state.bias"]}))
		var opt nn.Optimizer
		var sched nn.Schedule
		if name == "sgd" {
			opt, sched = nn.NewSGD(net.ParamVars(), 0.1, 0.9, 4e-5, true), nn.NewOneCycle(0.2, steps)
		} else {
			opt, sched = nn.NewAdamW(net.ParamVars(), 1e-3, 0.01), nn.NewOneCycle(0.05, steps)
		}
		tp := autograd.NewTape()
		c := &nn.Ctx{Tape: tp, Train: true}
		for s := range steps {
			tp.Reset()
			loss := nn.CrossEntropy(c, net.Forward(c, tp.Input(x)), labels, 0.1)
			net.ZeroGrad()
			require.NoError(t, tp.Backward(loss))
			if name == "adamw" {
				nn.ClipGradNorm(net.ParamVars(), 0.5)
			}
			nn.Apply(sched, opt, s)
			opt.Step()
			sd := net.StateDict()
			for _, p := range []string{"weight", "bias"} {
				key := name + "." + string(rune('0'+s)) + "." + p
				nntest.RequireClose(t, key, sd[p], fx[key], 0)
			}
		}
	}
}

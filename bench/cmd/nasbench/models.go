package main

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/bench/suite"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/tensor"
)

// The model rows: a reference network (nas/refnets) built with nas.Build,
// as bench/peers/torch builds it in PyTorch.

func init() {
	runners["model-train"] = modelTrain
	runners["model-latency"] = modelLatency
}

// buildNet builds row r's network and a batch of r.N random images.
func buildNet(r suite.Row) (*nn.Network, *tensor.Tensor, *rand.Rand) {
	g, err := nas.RefNet(r.Net)
	if err != nil {
		fail(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := nas.Build(g, rng)
	if err != nil {
		fail(err)
	}
	return net, tensor.RandNormal(rng, 0, 1, r.N, g.Input.H, g.Input.W, g.Input.C), rng
}

// modelTrain times one SGD training step on a batch: forward in training
// mode, cross-entropy with label smoothing 0.1, backward, Nesterov update.
func modelTrain(r suite.Row) func() {
	net, x, rng := buildNet(r)
	tp := autograd.NewTape()
	ctx := &nn.Ctx{Tape: tp, Train: true, Rng: rng}
	opt := nn.NewSGD(net.ParamVars(), 0.01, 0.9, 4e-5, true)
	labels := make([]int, r.N)
	for i := range labels {
		labels[i] = rng.IntN(net.Classes)
	}
	return func() {
		tp.Reset()
		loss := nn.CrossEntropy(ctx, net.Forward(ctx, tp.Input(x)), labels, 0.1)
		net.ZeroGrad()
		if err := tp.Backward(loss); err != nil {
			fail(err)
		}
		opt.Step()
	}
}

// modelLatency times one inference pass of the compiled network (batch
// norm folded into the convolutions, activations fused).
func modelLatency(r suite.Row) func() {
	net, x, _ := buildNet(r)
	plan, err := net.Inference()
	if err != nil {
		fail(err)
	}
	return func() {
		if _, err := plan.Run(x); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "nasbench:", err)
	os.Exit(1)
}

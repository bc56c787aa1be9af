package nas_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/tensor"
)

// Build a reference network, take one training step, save it, load it
// back and compile it for inference.
func ExampleBuild() {
	g, _ := nas.RefNet("mbv3-like")
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := nas.Build(g, rng)
	if err != nil {
		panic(err)
	}
	fmt.Println("parameters:", net.NumParams())

	tp := autograd.NewTape()
	ctx := &nn.Ctx{Tape: tp, Train: true, Rng: rng}
	opt := nn.NewSGD(net.ParamVars(), 0.1, 0.9, 4e-5, true)
	images := tensor.RandNormal(rng, 0, 1, 8, 28, 28, 1) // NHWC
	labels := []int{0, 1, 2, 3, 4, 5, 6, 7}
	tp.Reset()
	loss := nn.CrossEntropy(ctx, net.Forward(ctx, tp.Input(images)), labels, 0.1)
	net.ZeroGrad()
	if err := tp.Backward(loss); err != nil {
		panic(err)
	}
	opt.Step()

	dir, _ := os.MkdirTemp("", "nasrun")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mbv3-like.safetensors")
	if err := net.Save(path); err != nil { // PyTorch state_dict layout + genome
		panic(err)
	}
	back, g2, err := nas.LoadNetwork(path)
	if err != nil {
		panic(err)
	}
	plan, err := back.Inference() // BN folded, activations fused
	if err != nil {
		panic(err)
	}
	first := tensor.MustNew(images.Data[:28*28], 1, 28, 28, 1)
	logits, err := plan.Run(first)
	if err != nil {
		panic(err)
	}
	fmt.Println(g2.Name, logits.Shape)
	// Output:
	// parameters: 538914
	// mbv3-like [1 10]
}

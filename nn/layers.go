package nn

import (
	"math"
	"math/rand/v2"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/tensor"
)

// uniformParam returns a parameter of the given shape drawn from
// U(−1/√fanIn, 1/√fanIn): PyTorch's default initialisation of conv and
// linear weights (kaiming_uniform with a = √5) and biases.
func uniformParam(rng *rand.Rand, fanIn int, shape ...int) *autograd.Var {
	b := float32(1 / math.Sqrt(float64(max(fanIn, 1))))
	return autograd.NewParam(tensor.RandUniform(rng, -b, b, shape...))
}

// Conv2d is a dense k×k convolution, weight [K,K,Cin,Cout] (PyTorch
// nn.Conv2d, named weight and bias).
type Conv2d struct {
	W, B        *autograd.Var // B is nil without bias
	Stride, Pad int
}

// NewConv2d returns a cin→cout k×k convolution with padding k/2,
// initialised as PyTorch does.
func NewConv2d(rng *rand.Rand, cin, cout, k, stride int, bias bool) *Conv2d {
	m := &Conv2d{W: uniformParam(rng, cin*k*k, k, k, cin, cout), Stride: stride, Pad: k / 2}
	if bias {
		m.B = uniformParam(rng, cin*k*k, cout)
	}
	return m
}

// Forward convolves x [N,H,W,Cin].
func (m *Conv2d) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	return c.Tape.Conv2d(x, m.W, m.B, m.Stride, m.Pad)
}

// Visit reports weight and bias.
func (m *Conv2d) Visit(prefix string, fn func(Entry)) {
	param(fn, join(prefix, "weight"), m.W, LayoutConv)
	param(fn, join(prefix, "bias"), m.B, LayoutPlain)
}

// DepthwiseConv2d is a depthwise k×k convolution, weight [K,K,C] (PyTorch
// nn.Conv2d with groups = C).
type DepthwiseConv2d struct {
	W, B        *autograd.Var
	Stride, Pad int
}

// NewDepthwiseConv2d returns a depthwise k×k convolution on c channels
// with padding k/2.
func NewDepthwiseConv2d(rng *rand.Rand, c, k, stride int, bias bool) *DepthwiseConv2d {
	m := &DepthwiseConv2d{W: uniformParam(rng, k*k, k, k, c), Stride: stride, Pad: k / 2}
	if bias {
		m.B = uniformParam(rng, k*k, c)
	}
	return m
}

// Forward convolves x [N,H,W,C].
func (m *DepthwiseConv2d) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	return c.Tape.DepthwiseConv2d(x, m.W, m.B, m.Stride, m.Pad)
}

// Visit reports weight and bias.
func (m *DepthwiseConv2d) Visit(prefix string, fn func(Entry)) {
	param(fn, join(prefix, "weight"), m.W, LayoutDepthwise)
	param(fn, join(prefix, "bias"), m.B, LayoutPlain)
}

// BatchNorm2d normalises each channel, as PyTorch's nn.BatchNorm2d: batch
// statistics in training (and an update of the running statistics with
// momentum, the variance unbiased), running statistics in eval mode.
type BatchNorm2d struct {
	Gamma, Beta *autograd.Var // PyTorch's weight and bias
	// RunMean and RunVar are the running statistics; Count is
	// num_batches_tracked.
	RunMean, RunVar, Count *tensor.Tensor
	Momentum, Eps          float32
}

// NewBatchNorm2d returns a batch norm on c channels with PyTorch's
// defaults: weight 1, bias 0, running mean 0 and variance 1, momentum 0.1,
// eps 1e-5.
func NewBatchNorm2d(c int) *BatchNorm2d {
	ones := func() *tensor.Tensor { t := tensor.Zeros(c); t.Fill(1); return t }
	return &BatchNorm2d{
		Gamma: autograd.NewParam(ones()), Beta: autograd.NewParam(tensor.Zeros(c)),
		RunMean: tensor.Zeros(c), RunVar: ones(), Count: tensor.Zeros(),
		Momentum: 0.1, Eps: 1e-5,
	}
}

// Forward normalises x [N,H,W,C].
func (m *BatchNorm2d) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if !c.Train {
		return c.Tape.BatchNorm2dInfer(x, m.Gamma, m.Beta, m.RunMean.Data, m.RunVar.Data, m.Eps)
	}
	return m.forwardAct(c, x, ActNone)
}

// forwardAct is act(Forward(x)) in training mode, as one fused op.
func (m *BatchNorm2d) forwardAct(c *Ctx, x *autograd.Var, act Act) *autograd.Var {
	y, mean, variance := c.Tape.BatchNormAct(x, m.Gamma, m.Beta, m.Eps, act)
	if mean == nil {
		return y // a shape error, already on the tape
	}
	m.track(c, mean, variance, len(x.Value.Data)/max(len(mean), 1))
	return y
}

// track updates the running statistics with a training batch's mean and
// biased variance over n values per channel.
func (m *BatchNorm2d) track(c *Ctx, mean, variance []float32, n int) {
	unbias := float32(n) / float32(max(n-1, 1))
	mom := m.Momentum
	if c.BNMomentum > 0 {
		mom = c.BNMomentum
	}
	rm, rv := m.RunMean.Data, m.RunVar.Data
	for j := range rm {
		rm[j] = (1-mom)*rm[j] + mom*mean[j]
		rv[j] = (1-mom)*rv[j] + mom*variance[j]*unbias
	}
	m.Count.Data[0]++
}

// Visit reports weight, bias, running_mean, running_var and
// num_batches_tracked.
func (m *BatchNorm2d) Visit(prefix string, fn func(Entry)) {
	param(fn, join(prefix, "weight"), m.Gamma, LayoutPlain)
	param(fn, join(prefix, "bias"), m.Beta, LayoutPlain)
	fn(Entry{Name: join(prefix, "running_mean"), Value: m.RunMean})
	fn(Entry{Name: join(prefix, "running_var"), Value: m.RunVar})
	fn(Entry{Name: join(prefix, "num_batches_tracked"), Value: m.Count, Layout: LayoutCount})
}

// Linear is x·W + b with W [In,Out] (PyTorch nn.Linear, weight [Out,In]).
type Linear struct {
	W, B *autograd.Var
	// Layout is LayoutLinear, or LayoutPointwise for a 1×1 convolution on
	// pooled vectors (the SE block's).
	Layout Layout
}

// NewLinear returns an in→out linear layer initialised as PyTorch does.
func NewLinear(rng *rand.Rand, in, out int, bias bool) *Linear {
	m := &Linear{W: uniformParam(rng, in, in, out), Layout: LayoutLinear}
	if bias {
		m.B = uniformParam(rng, in, out)
	}
	return m
}

// Forward maps x [..., In] to [..., Out].
func (m *Linear) Forward(c *Ctx, x *autograd.Var) *autograd.Var { return c.Tape.Linear(x, m.W, m.B) }

// Visit reports weight and bias.
func (m *Linear) Visit(prefix string, fn func(Entry)) {
	param(fn, join(prefix, "weight"), m.W, m.Layout)
	param(fn, join(prefix, "bias"), m.B, LayoutPlain)
}

// Activation applies an elementwise activation (ActNone: identity).
type Activation struct{ Act Act }

// ReLU returns max(x, 0) as a module.
func ReLU() *Activation { return &Activation{ActReLU} }

// ReLU6 returns min(max(x, 0), 6) as a module.
func ReLU6() *Activation { return &Activation{ActReLU6} }

// Hardsigmoid returns relu6(x+3)/6 as a module.
func Hardsigmoid() *Activation { return &Activation{ActHardsigmoid} }

// Hardswish returns x·relu6(x+3)/6 as a module.
func Hardswish() *Activation { return &Activation{ActHardswish} }

// Forward applies the activation.
func (m *Activation) Forward(c *Ctx, x *autograd.Var) *autograd.Var { return c.Tape.Act(x, m.Act) }

// Visit reports nothing: an activation has no state.
func (m *Activation) Visit(string, func(Entry)) {}

// GlobalAvgPool averages over H and W: [N,H,W,C] → [N,C] (PyTorch's
// AdaptiveAvgPool2d(1) followed by Flatten).
type GlobalAvgPool struct{}

// Forward pools x.
func (GlobalAvgPool) Forward(c *Ctx, x *autograd.Var) *autograd.Var { return c.Tape.GlobalAvgPool(x) }

// Visit reports nothing.
func (GlobalAvgPool) Visit(string, func(Entry)) {}

// Flatten reshapes [N, ...] to [N, rest].
type Flatten struct{}

// Forward flattens x (a view, no copy).
func (Flatten) Forward(c *Ctx, x *autograd.Var) *autograd.Var { return c.Tape.Flatten(x) }

// Visit reports nothing.
func (Flatten) Visit(string, func(Entry)) {}

// Identity returns its input.
type Identity struct{}

// Forward returns x.
func (Identity) Forward(_ *Ctx, x *autograd.Var) *autograd.Var { return x }

// Visit reports nothing.
func (Identity) Visit(string, func(Entry)) {}

// MaxPool2d takes the maximum over K×K windows.
type MaxPool2d struct{ K, Stride, Pad int }

// Forward pools x [N,H,W,C].
func (m *MaxPool2d) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	return c.Tape.MaxPool2d(x, m.K, m.Stride, m.Pad)
}

// Visit reports nothing.
func (m *MaxPool2d) Visit(string, func(Entry)) {}

// AvgPool2d averages over K×K windows.
type AvgPool2d struct{ K, Stride, Pad int }

// Forward pools x [N,H,W,C].
func (m *AvgPool2d) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	return c.Tape.AvgPool2d(x, m.K, m.Stride, m.Pad)
}

// Visit reports nothing.
func (m *AvgPool2d) Visit(string, func(Entry)) {}

// Dropout zeroes elements with probability P in training (inverted
// dropout); it is the identity in eval mode.
type Dropout struct{ P float32 }

// Forward applies dropout in training mode.
func (m *Dropout) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if !c.Train || m.P == 0 {
		return x
	}
	return c.Tape.Dropout(x, m.P, c.Rng)
}

// Visit reports nothing.
func (m *Dropout) Visit(string, func(Entry)) {}

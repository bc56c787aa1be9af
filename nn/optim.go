package nn

import (
	"math"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/kernels"
)

// Optimizer updates parameters from their gradients. Step allocates
// nothing; SetLR and SetMomentum let a schedule drive it.
type Optimizer interface {
	// Step applies one update to every parameter that requires a gradient.
	Step()
	// SetLR sets the learning rate of the next steps.
	SetLR(lr float64)
	// SetMomentum sets the momentum (SGD) or β1 (AdamW) of the next steps.
	SetMomentum(m float64)
	// LR returns the current learning rate.
	LR() float64
}

// SGD is stochastic gradient descent exactly as torch.optim.SGD (dampening
// 0): d = g + wd·p; on the first step buf = d, later buf = μ·buf + d;
// Nesterov d = d + μ·buf, else d = buf; p −= lr·d. Weight decay applies to
// every parameter, as in PyTorch with one parameter group.
type SGD struct {
	Params      []*autograd.Var
	Lr          float64
	Momentum    float64
	WeightDecay float64
	Nesterov    bool

	bufs    [][]float32
	started bool
	w, g, b [][]float32 // Step's operands, kept for their capacity
}

// NewSGD returns an SGD optimizer over params; its momentum buffers are
// allocated here.
func NewSGD(params []*autograd.Var, lr, momentum, weightDecay float64, nesterov bool) *SGD {
	o := &SGD{Params: params, Lr: lr, Momentum: momentum, WeightDecay: weightDecay, Nesterov: nesterov}
	o.bufs = make([][]float32, len(params))
	for i, p := range params {
		o.bufs[i] = make([]float32, len(p.Value.Data))
	}
	return o
}

// Step updates the parameters, split over the kernels' worker pool.
func (o *SGD) Step() {
	o.w, o.g, o.b = o.w[:0], o.g[:0], o.b[:0]
	for i, p := range o.Params {
		if !p.RequiresGrad() {
			continue
		}
		n := len(p.Value.Data)
		o.w, o.g, o.b = append(o.w, p.Value.Data), append(o.g, p.Grad.Data[:n]), append(o.b, o.bufs[i][:n])
	}
	kernels.SGDStep(o.w, o.g, o.b, kernels.SGDArgs{LR: float32(o.Lr), Momentum: float32(o.Momentum),
		WeightDecay: float32(o.WeightDecay), Nesterov: o.Nesterov, First: !o.started})
	o.started = true
}

// SetLR sets the learning rate.
func (o *SGD) SetLR(lr float64) { o.Lr = lr }

// SetMomentum sets the momentum.
func (o *SGD) SetMomentum(m float64) { o.Momentum = m }

// LR returns the learning rate.
func (o *SGD) LR() float64 { return o.Lr }

// AdamW is Adam with decoupled weight decay exactly as torch.optim.AdamW
// (amsgrad off): p −= lr·wd·p; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// p −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps).
type AdamW struct {
	Params       []*autograd.Var
	Lr           float64
	Beta1, Beta2 float64
	Eps          float64
	WeightDecay  float64

	m, v [][]float32
	t    int
}

// NewAdamW returns an AdamW optimizer with PyTorch's defaults for the
// rest: betas (0.9, 0.999), eps 1e-8. (PyTorch's default weight decay is
// 0.01.)
func NewAdamW(params []*autograd.Var, lr, weightDecay float64) *AdamW {
	o := &AdamW{Params: params, Lr: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay}
	o.m = make([][]float32, len(params))
	o.v = make([][]float32, len(params))
	for i, p := range params {
		o.m[i] = make([]float32, len(p.Value.Data))
		o.v[i] = make([]float32, len(p.Value.Data))
	}
	return o
}

// Step updates the parameters.
func (o *AdamW) Step() {
	o.t++
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	bc1 := 1 - math.Pow(o.Beta1, float64(o.t))
	bc2 := 1 - math.Pow(o.Beta2, float64(o.t))
	step := float32(o.Lr / bc1)
	rbc2 := float32(1 / math.Sqrt(bc2))
	decay := float32(1 - o.Lr*o.WeightDecay)
	eps := float32(o.Eps)
	for i, p := range o.Params {
		if !p.RequiresGrad() {
			continue
		}
		w, g, m, v := p.Value.Data, p.Grad.Data, o.m[i], o.v[i]
		g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
		for j := range w {
			w[j] *= decay
			mj := b1*m[j] + (1-b1)*g[j]
			vj := b2*v[j] + (1-b2)*g[j]*g[j]
			m[j], v[j] = mj, vj
			w[j] -= step * mj / (float32(math.Sqrt(float64(vj)))*rbc2 + eps)
		}
	}
}

// SetLR sets the learning rate.
func (o *AdamW) SetLR(lr float64) { o.Lr = lr }

// SetMomentum sets β1.
func (o *AdamW) SetMomentum(m float64) { o.Beta1 = m }

// LR returns the learning rate.
func (o *AdamW) LR() float64 { return o.Lr }

// ClipGradNorm scales the gradients of params so that their global L2 norm
// is at most maxNorm, as torch.nn.utils.clip_grad_norm_ (factor
// maxNorm/(norm+1e-6) when below 1), and returns the norm before clipping.
func ClipGradNorm(params []*autograd.Var, maxNorm float64) float64 {
	var ss float64
	for _, p := range params {
		if !p.RequiresGrad() {
			continue
		}
		for _, g := range p.Grad.Data {
			ss += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(ss)
	if c := maxNorm / (norm + 1e-6); c < 1 {
		cf := float32(c)
		for _, p := range params {
			if !p.RequiresGrad() {
				continue
			}
			g := p.Grad.Data
			for j := range g {
				g[j] *= cf
			}
		}
	}
	return norm
}

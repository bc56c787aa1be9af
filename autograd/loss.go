package autograd

import (
	"math"
)

// SoftmaxCrossEntropy is the mean over the batch of the cross-entropy
// between softmax(logits) [N,K] and the label distribution with label
// smoothing ε: (1−ε) on labels[i] and ε/K on every class (PyTorch's
// label_smoothing). It returns a single-value loss. The logits Var keeps its
// value for accuracy (tensor.CountCorrect); labels must not change before
// Backward.
func (tp *Tape) SoftmaxCrossEntropy(logits *Var, labels []int, smoothing float32) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	ls := logits.Value.Shape
	if len(ls) != 2 || ls[1] == 0 {
		return tp.failf("autograd.SoftmaxCrossEntropy: logits %v, want N,classes", ls)
	}
	rows, k := ls[0], ls[1]
	if len(labels) != rows {
		return tp.failf("autograd.SoftmaxCrossEntropy: %d labels for logits %v", len(labels), ls)
	}
	for i, l := range labels {
		if l < 0 || l >= k {
			return tp.failf("autograd.SoftmaxCrossEntropy: label %d of row %d is outside [0, %d)", l, i, k)
		}
	}
	if smoothing < 0 || smoothing >= 1 {
		return tp.failf("autograd.SoftmaxCrossEntropy: label smoothing %g outside [0, 1)", smoothing)
	}
	y := tp.newVar(nil, logits)
	// probs keeps softmax(logits) for backward.
	probs := tp.buf(len(logits.Value.Data))
	eps := float64(smoothing)
	var total float64
	for r := range rows {
		z, p := logits.Value.Data[r*k:(r+1)*k], probs[r*k:(r+1)*k]
		m := z[0]
		for _, v := range z {
			m = max(m, v)
		}
		var sum, sumz float64
		for j, v := range z {
			e := math.Exp(float64(v - m))
			p[j] = float32(e)
			sum += e
			sumz += float64(v - m)
		}
		lse := math.Log(sum)
		inv := float32(1 / sum)
		for j := range p {
			p[j] *= inv
		}
		// −Σ q log p with log p_j = z_j − m − lse.
		total += (1-eps)*(lse-float64(z[labels[r]]-m)) + eps*(lse-sumz/float64(k))
	}
	y.Value.Data[0] = float32(total / float64(rows))
	if n := tp.record(softmaxCEBackward, y, logits); n != nil {
		n.f = smoothing
		n.saved[0] = probs
		n.labels = labels
	}
	return y
}

// softmaxCEBackward: in = logits; f = ε; saved[0] = softmax; labels.
// d loss/d z = (p − q)·dy/N.
func softmaxCEBackward(tp *Tape, n *node) {
	x := n.in[0]
	rows, k := x.Value.Shape[0], x.Value.Shape[1]
	g := n.out.Grad.Data[0] / float32(rows)
	off := n.f / float32(k)
	dx := tp.sink(x)
	if dx == nil {
		return
	}
	for i, p := range n.saved[0] {
		dx[i] = (p - off) * g
	}
	for r, l := range n.labels {
		dx[r*k+l] -= (1 - n.f) * g
	}
	tp.flush(x, dx)
}

// Mean is the mean of all elements of x, a single-value result.
func (tp *Tape) Mean(x *Var) *Var {
	if tp.err != nil {
		return &tp.dead
	}
	if len(x.Value.Data) == 0 {
		return tp.failf("autograd.Mean: empty input %v", x.Value.Shape)
	}
	y := tp.newVar(nil, x)
	var s float64
	for _, v := range x.Value.Data {
		s += float64(v)
	}
	y.Value.Data[0] = float32(s / float64(len(x.Value.Data)))
	tp.record(meanBackward, y, x)
	return y
}

// meanBackward: in = x; every element gets dy/len.
func meanBackward(tp *Tape, n *node) {
	x := n.in[0]
	g := n.out.Grad.Data[0] / float32(len(x.Value.Data))
	if dx := tp.gradForAdd(x); dx != nil {
		for i := range dx {
			dx[i] += g
		}
	}
}

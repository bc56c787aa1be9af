// Package autograd is nasrun's reverse-mode automatic differentiation: a
// Tape records tensor ops during the forward pass and runs their backward
// functions in reverse. Each op (conv.go, linear.go, norm.go, act.go,
// pool.go, shape.go, loss.go) keeps its forward and backward side by side
// and calls package kernels for the math. All activations are NHWC.
// Block (block.go) records a whole network block in training mode as one
// op, run as fused passes by kernels.Block.
//
// Parameters (NewParam) live outside any tape and own a Grad that
// accumulates across Backward calls until ZeroGrad. Everything else a step
// produces — activations, saved statistics, gradients of intermediate
// values and the Vars themselves — comes from the tape's arena, which Reset
// rewinds: a step that makes the requests of the previous one gets the same
// memory back, so a steady-state training step allocates nothing.
//
// A training step:
//
//	tp := autograd.NewTape()
//	w := autograd.NewParam(tensor.He(rng, 3*3*3, 3, 3, 3, 16)) // [KH,KW,Cin,Cout]
//	gamma, beta := autograd.NewParam(ones16), autograd.NewParam(zeros16)
//	fc := autograd.NewParam(tensor.Xavier(rng, 16, 10, 16, 10)) // [In,Out]
//	for step := range steps {
//		tp.Reset()
//		x := tp.Input(images)                     // [N,H,W,3], no gradient
//		h := tp.Conv2d(x, w, nil, 1, 1)           // [N,H,W,16]
//		h, mean, variance := tp.BatchNorm2d(h, gamma, beta, 1e-5)
//		updateRunningStats(mean, variance)        // arena slices: read before Reset
//		h = tp.ReLU(h)
//		logits := tp.Linear(tp.GlobalAvgPool(h), fc, nil) // [N,10]
//		loss := tp.SoftmaxCrossEntropy(logits, labels, 0.1)
//		for _, p := range params { p.ZeroGrad() }
//		if err := tp.Backward(loss); err != nil { // also reports any op's shape error
//			return err
//		}
//		hits, _ := tensor.CountCorrect(logits.Value, labels)
//		sgd(w.Value, w.Grad)                      // parameters' Grad is d loss/d Value
//	}
//
// Shape mistakes do not panic: the first failing op records an error that
// names the op and the shapes (Tape.Err), later ops return a placeholder,
// and Backward returns the error. For inference call tp.SetGrad(false):
// nothing is recorded, Conv2dAct and DepthwiseConv2dAct fuse their
// activation into the kernel, and the arena still reuses its buffers.
package autograd

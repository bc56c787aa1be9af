package nn

import (
	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/tensor"
)

// CrossEntropy is the batch mean of softmax cross-entropy with label
// smoothing (PyTorch's F.cross_entropy(logits, labels,
// label_smoothing=smoothing)).
func CrossEntropy(c *Ctx, logits *autograd.Var, labels []int, smoothing float32) *autograd.Var {
	return c.Tape.SoftmaxCrossEntropy(logits, labels, smoothing)
}

// Accuracy returns the number of rows of logits [N,K] whose arg-max is the
// label.
func Accuracy(logits *tensor.Tensor, labels []int) (int, error) {
	return tensor.CountCorrect(logits, labels)
}

package tensor

import (
	"fmt"
	"math"

	"github.com/nasrun/nasrun/kernels"
)

// same3 checks that dst, a and b share one shape.
func same3(op string, dst, a, b *Tensor) error {
	if err := SameShape(op, a, b); err != nil {
		return err
	}
	return SameShape(op, dst, a)
}

// Add sets dst = a + b elementwise.
func Add(dst, a, b *Tensor) error {
	if err := same3("tensor.Add", dst, a, b); err != nil {
		return err
	}
	kernels.Add(a.Data, b.Data, dst.Data)
	return nil
}

// Sub sets dst = a − b elementwise.
func Sub(dst, a, b *Tensor) error {
	if err := same3("tensor.Sub", dst, a, b); err != nil {
		return err
	}
	d, x, y := dst.Data, a.Data[:len(dst.Data)], b.Data[:len(dst.Data)]
	for i := range d {
		d[i] = x[i] - y[i]
	}
	return nil
}

// Mul sets dst = a · b elementwise.
func Mul(dst, a, b *Tensor) error {
	if err := same3("tensor.Mul", dst, a, b); err != nil {
		return err
	}
	d, x, y := dst.Data, a.Data[:len(dst.Data)], b.Data[:len(dst.Data)]
	for i := range d {
		d[i] = x[i] * y[i]
	}
	return nil
}

// Scale sets dst = alpha · a.
func Scale(dst, a *Tensor, alpha float32) error {
	if err := SameShape("tensor.Scale", dst, a); err != nil {
		return err
	}
	kernels.Scale(alpha, a.Data, dst.Data)
	return nil
}

// Axpy sets y += alpha · x (the optimizer's update).
func Axpy(alpha float32, x, y *Tensor) error {
	if err := SameShape("tensor.Axpy", x, y); err != nil {
		return err
	}
	kernels.Axpy(alpha, x.Data, y.Data)
	return nil
}

// AddScalar sets dst = a + s.
func AddScalar(dst, a *Tensor, s float32) error {
	if err := SameShape("tensor.AddScalar", dst, a); err != nil {
		return err
	}
	d, x := dst.Data, a.Data[:len(dst.Data)]
	for i := range d {
		d[i] = x[i] + s
	}
	return nil
}

// Apply sets dst = f(a) elementwise.
func Apply(dst, a *Tensor, f func(float32) float32) error {
	if err := SameShape("tensor.Apply", dst, a); err != nil {
		return err
	}
	d, x := dst.Data, a.Data[:len(dst.Data)]
	for i := range d {
		d[i] = f(x[i])
	}
	return nil
}

// Sum returns the sum of all elements.
func Sum(a *Tensor) float32 { return kernels.Sum(a.Data) }

// Mean returns the mean of all elements (0 for an empty tensor).
func Mean(a *Tensor) float32 {
	if len(a.Data) == 0 {
		return 0
	}
	return kernels.Sum(a.Data) / float32(len(a.Data))
}

// SumSquares returns Σ a², accumulated in float64 (for gradient norms).
func SumSquares(a *Tensor) float64 {
	var s float64
	for _, v := range a.Data {
		s += float64(v) * float64(v)
	}
	return s
}

// lastAxis splits a into rows × cols with cols the last dimension.
func lastAxis(op string, a *Tensor) (rows, cols int, err error) {
	if len(a.Shape) == 0 || a.Shape[len(a.Shape)-1] == 0 {
		return 0, 0, fmt.Errorf("%s: shape %v has no last axis to reduce", op, a.Shape)
	}
	cols = a.Shape[len(a.Shape)-1]
	return len(a.Data) / cols, cols, nil
}

// Max writes the maximum along the last axis of a into dst, which must hold
// one value per row (len(dst.Data) = a.Len()/a.Dim(-1)).
func Max(dst, a *Tensor) error {
	rows, cols, err := lastAxis("tensor.Max", a)
	if err != nil {
		return err
	}
	if len(dst.Data) != rows {
		return fmt.Errorf("tensor.Max: destination %v cannot hold the %d rows of %v", dst.Shape, rows, a.Shape)
	}
	for r := range rows {
		m := float32(math.Inf(-1))
		for _, v := range a.Data[r*cols : (r+1)*cols] {
			m = max(m, v)
		}
		dst.Data[r] = m
	}
	return nil
}

// ArgMax writes the index of the maximum along the last axis of a into
// idx, one per row (the first index on ties), and returns idx[:rows]; idx
// is grown if too short. Classification: ArgMax of the logits [N, classes].
func ArgMax(idx []int, a *Tensor) ([]int, error) {
	rows, cols, err := lastAxis("tensor.ArgMax", a)
	if err != nil {
		return idx, err
	}
	if cap(idx) < rows {
		idx = make([]int, rows)
	}
	idx = idx[:rows]
	for r := range rows {
		idx[r] = argmaxRow(a.Data[r*cols : (r+1)*cols])
	}
	return idx, nil
}

// CountCorrect returns how many rows of logits [N, classes] have their
// maximum at labels[i] (top-1 hits).
func CountCorrect(logits *Tensor, labels []int) (int, error) {
	rows, cols, err := lastAxis("tensor.CountCorrect", logits)
	if err != nil {
		return 0, err
	}
	if len(labels) != rows {
		return 0, fmt.Errorf("tensor.CountCorrect: %d labels for logits %v", len(labels), logits.Shape)
	}
	hits := 0
	for r := range rows {
		if argmaxRow(logits.Data[r*cols:(r+1)*cols]) == labels[r] {
			hits++
		}
	}
	return hits, nil
}

// argmaxRow returns the index of the first maximum of a non-empty row.
func argmaxRow(row []float32) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}

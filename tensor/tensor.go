// Package tensor is nasrun's n-dimensional array: float32 values in a
// contiguous row-major slice (NHWC for activations), with creation, seeded
// random initialisation, reshape views and the elementwise ops and
// reductions the layers above need.
//
// Ops write into a destination tensor that the caller owns (dst may alias an
// input), so hot loops allocate nothing. A shape mismatch is an error that
// names the operation and both shapes, e.g.
//
//	tensor.Add: shapes [2 3] and [3 2] differ
//
// The math itself runs in package kernels.
package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Tensor is a dense float32 array. Shape lists the dimensions outermost
// first; Data holds the product of Shape values in row-major order. A
// Tensor from Reshape shares Data with its source.
type Tensor struct {
	Shape []int
	Data  []float32
}

// numel returns the number of elements a shape holds, or -1 if a dimension
// is negative.
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}

// Zeros returns a zero-filled tensor of the given shape. It panics on a
// negative dimension (a programming error).
func Zeros(shape ...int) *Tensor {
	n := numel(shape)
	if n < 0 {
		panic(fmt.Sprintf("tensor.Zeros: negative dimension in shape %v", shape))
	}
	return &Tensor{Shape: slices.Clone(shape), Data: make([]float32, n)}
}

// New returns a tensor of the given shape over data (not copied). It fails
// if len(data) is not the product of the shape.
func New(data []float32, shape ...int) (*Tensor, error) {
	n := numel(shape)
	if n < 0 {
		return nil, fmt.Errorf("tensor.New: negative dimension in shape %v", shape)
	}
	if n != len(data) {
		return nil, fmt.Errorf("tensor.New: shape %v needs %d elements, data has %d", shape, n, len(data))
	}
	return &Tensor{Shape: slices.Clone(shape), Data: data}, nil
}

// MustNew is New that panics on error, for literals in tests and examples.
func MustNew(data []float32, shape ...int) *Tensor {
	t, err := New(data, shape...)
	if err != nil {
		panic(err)
	}
	return t
}

// FromSlice is New with a copy of data, so the tensor never aliases the
// caller's slice.
func FromSlice(data []float32, shape ...int) (*Tensor, error) {
	return New(slices.Clone(data), shape...)
}

// RandNormal returns a tensor with elements drawn from N(mean, std²) using r.
func RandNormal(r *rand.Rand, mean, std float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.Data {
		t.Data[i] = mean + std*float32(r.NormFloat64())
	}
	return t
}

// RandUniform returns a tensor with elements drawn uniformly from [lo, hi)
// using r.
func RandUniform(r *rand.Rand, lo, hi float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*r.Float32()
	}
	return t
}

// He returns Kaiming-normal initial weights for a layer with fanIn inputs
// per output (k·k·Cin for a conv, In for a linear layer): N(0, 2/fanIn),
// the choice for ReLU-family networks.
func He(r *rand.Rand, fanIn int, shape ...int) *Tensor {
	return RandNormal(r, 0, float32(math.Sqrt(2/float64(max(fanIn, 1)))), shape...)
}

// Xavier returns Glorot-uniform initial weights: U(-a, a) with
// a = sqrt(6/(fanIn+fanOut)).
func Xavier(r *rand.Rand, fanIn, fanOut int, shape ...int) *Tensor {
	a := float32(math.Sqrt(6 / float64(max(fanIn+fanOut, 1))))
	return RandUniform(r, -a, a, shape...)
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Dim returns dimension i; negative i counts from the end (-1 is the last).
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// String returns the shape and, for small tensors, the values.
func (t *Tensor) String() string {
	if len(t.Data) <= 16 {
		return fmt.Sprintf("Tensor%v%v", t.Shape, t.Data)
	}
	return fmt.Sprintf("Tensor%v(%d values)", t.Shape, len(t.Data))
}

// Reshape returns a view of t with a new shape and the same Data. One
// dimension may be -1, inferred from the others. It fails if the element
// counts differ.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	s, err := inferShape("tensor.Reshape", t.Shape, len(t.Data), shape)
	if err != nil {
		return nil, err
	}
	return &Tensor{Shape: s, Data: t.Data}, nil
}

// InferShape resolves a requested shape for n elements (at most one -1,
// inferred) into dst[:0] and returns it; op names the caller and from the
// source shape in the error.
func InferShape(dst []int, op string, from []int, n int, shape []int) ([]int, error) {
	// The error paths format copies so that shape and from do not escape:
	// callers pass stack arrays and variadic lists.
	dst = append(dst[:0], shape...)
	known, infer := 1, -1
	for i, d := range dst {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return nil, fmt.Errorf("%s: cannot reshape %v to %v: bad dimension %d", op, slices.Clone(from), slices.Clone(shape), d)
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("%s: cannot reshape %v (%d elements) to %v", op, slices.Clone(from), n, slices.Clone(shape))
		}
		dst[infer] = n / known
		known = n
	}
	if known != n {
		return nil, fmt.Errorf("%s: cannot reshape %v (%d elements) to %v (%d elements)", op, slices.Clone(from), n, slices.Clone(shape), known)
	}
	return dst, nil
}

func inferShape(op string, from []int, n int, shape []int) ([]int, error) {
	return InferShape(make([]int, 0, len(shape)), op, from, n, shape)
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
}

// CopyFrom copies src's values into t; the shapes must be equal.
func (t *Tensor) CopyFrom(src *Tensor) error {
	if err := SameShape("tensor.CopyFrom", t, src); err != nil {
		return err
	}
	copy(t.Data, src.Data)
	return nil
}

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	if v == 0 {
		clear(t.Data)
		return
	}
	for i := range t.Data {
		t.Data[i] = v
	}
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// EqualShape reports whether a and b have the same shape.
func EqualShape(a, b *Tensor) bool { return slices.Equal(a.Shape, b.Shape) }

// SameShape returns an error naming op and both shapes unless a and b have
// the same shape.
func SameShape(op string, a, b *Tensor) error {
	if !slices.Equal(a.Shape, b.Shape) {
		return fmt.Errorf("%s: shapes %v and %v differ", op, a.Shape, b.Shape)
	}
	return nil
}

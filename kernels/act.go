package kernels

import (
	"fmt"
	"math"
)

// Act is an activation function, applied elementwise (Activate) or fused
// into a convolution's output.
type Act uint8

// The activations. Hardswish and Hardsigmoid follow PyTorch:
// hardsigmoid(x) = relu6(x+3)/6, hardswish(x) = x·hardsigmoid(x).
const (
	ActNone Act = iota
	ActReLU
	ActReLU6
	ActHardswish
	ActHardsigmoid
	ActSigmoid
	numActs
)

var actNames = [numActs]string{"none", "relu", "relu6", "hardswish", "hardsigmoid", "sigmoid"}

func (a Act) String() string {
	if a < numActs {
		return actNames[a]
	}
	return "Act(?)"
}

// ActScalar applies activation a to one value; kernels use it for tails and
// the reference implementations.
func ActScalar(a Act, v float32) float32 {
	switch a {
	case ActReLU:
		return max(v, 0)
	case ActReLU6:
		return min(max(v, 0), 6)
	case ActHardswish:
		return v * min(max(v+3, 0), 6) * (1.0 / 6)
	case ActHardsigmoid:
		return min(max(v+3, 0), 6) * (1.0 / 6)
	case ActSigmoid:
		return float32(1 / (1 + math.Exp(-float64(v))))
	}
	return v
}

// ActGradScalar returns d act(v)/dv at input v. At the kinks it takes
// PyTorch's choices: relu'(0) = 0, hardswish'(±3) is the inner branch's
// slope on the open interval only.
func ActGradScalar(a Act, v float32) float32 {
	switch a {
	case ActReLU:
		if v > 0 {
			return 1
		}
		return 0
	case ActReLU6:
		if v > 0 && v < 6 {
			return 1
		}
		return 0
	case ActHardswish:
		switch {
		case v < -3:
			return 0
		case v > 3:
			return 1
		}
		return (2*v + 3) * (1.0 / 6)
	case ActHardsigmoid:
		if v > -3 && v < 3 {
			return 1.0 / 6
		}
		return 0
	case ActSigmoid:
		// e/(1+e)² with e = exp(-|v|), not s·(1-s): 1-s cancels for large v.
		e := math.Exp(-math.Abs(float64(v)))
		return float32(e / ((1 + e) * (1 + e)))
	}
	return 1
}

// Activate sets y = act(x) elementwise. y may alias x (in place).
func Activate(a Act, x, y []float32) {
	checkLen("Activate", "y", len(y), len(x))
	if a >= numActs {
		panic(fmt.Sprintf("kernels.Activate: unknown activation %d", a))
	}
	k := elt()
	if serial(len(y)) {
		activateSeq(k, a, x, y)
		return
	}
	j := getEltJob(k, activateChunk)
	j.act, j.a, j.y = a, x, y
	j.parallel(len(y), parGrain)
}

func activateChunk(j *eltJob, lo, hi int) { activateSeq(j.k, j.act, j.a[lo:hi], j.y[lo:hi]) }

func activateSeq(k *eltKernels, a Act, x, y []float32) {
	if f := k.act[a]; f != nil {
		k.flat1(f, actRef[a], x, y)
		return
	}
	actRef[a](x, y)
}

// ActivateBackward sets dx = dy·act'(x) elementwise, from the activation's
// input x (ActGradScalar gives the choices at the kinks). dx may alias dy.
func ActivateBackward(a Act, x, dy, dx []float32) {
	checkLen("ActivateBackward", "dy", len(dy), len(x))
	checkLen("ActivateBackward", "dx", len(dx), len(x))
	if a >= numActs {
		panic(fmt.Sprintf("kernels.ActivateBackward: unknown activation %d", a))
	}
	k := elt()
	if serial(len(dx)) {
		activateBackward(k, a, x, dy, dx)
		return
	}
	j := getEltJob(k, activateBackwardChunk)
	j.act, j.a, j.b, j.y = a, x, dy, dx
	j.parallel(len(dx), parGrain)
}

func activateBackwardChunk(j *eltJob, lo, hi int) {
	activateBackward(j.k, j.act, j.a[lo:hi], j.b[lo:hi], j.y[lo:hi])
}

func activateBackward(k *eltKernels, a Act, x, dy, dx []float32) {
	if f := k.grad[a]; f != nil {
		k.flat2(f, gradRef[a], x, dy, dx)
		return
	}
	gradRef[a](x, dy, dx)
}

// actRef holds the pure-Go activation loops (one loop per activation, the
// formulas of ActScalar), used by Ref and for the tails of the assembly.
var actRef = [numActs]func(x, y []float32){
	ActNone: func(x, y []float32) { copy(y, x) },
	ActReLU: func(x, y []float32) {
		x = x[:len(y)]
		for i, v := range x {
			y[i] = max(v, 0)
		}
	},
	ActReLU6: func(x, y []float32) {
		x = x[:len(y)]
		for i, v := range x {
			y[i] = min(max(v, 0), 6)
		}
	},
	ActHardswish: func(x, y []float32) {
		x = x[:len(y)]
		for i, v := range x {
			y[i] = v * min(max(v+3, 0), 6) * (1.0 / 6)
		}
	},
	ActHardsigmoid: func(x, y []float32) {
		x = x[:len(y)]
		for i, v := range x {
			y[i] = min(max(v+3, 0), 6) * (1.0 / 6)
		}
	},
	ActSigmoid: func(x, y []float32) {
		x = x[:len(y)]
		for i, v := range x {
			y[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	},
}

// gradRef holds the pure-Go gradient loops (ActGradScalar's choices).
var gradRef = [numActs]func(x, dy, dx []float32){
	ActNone: func(x, dy, dx []float32) { copy(dx, dy) },
	ActReLU: func(x, dy, dx []float32) {
		x, dy = x[:len(dx)], dy[:len(dx)]
		for i, v := range x {
			g := dy[i]
			if !(v > 0) {
				g = 0
			}
			dx[i] = g
		}
	},
	ActReLU6: func(x, dy, dx []float32) {
		x, dy = x[:len(dx)], dy[:len(dx)]
		for i, v := range x {
			g := dy[i]
			if !(v > 0 && v < 6) {
				g = 0
			}
			dx[i] = g
		}
	},
	ActHardswish: func(x, dy, dx []float32) {
		x, dy = x[:len(dx)], dy[:len(dx)]
		for i, v := range x {
			var g float32
			switch {
			case v < -3:
			case v > 3:
				g = dy[i]
			default:
				g = dy[i] * (2*v + 3) * (1.0 / 6)
			}
			dx[i] = g
		}
	},
	ActHardsigmoid: func(x, dy, dx []float32) {
		x, dy = x[:len(dx)], dy[:len(dx)]
		for i, v := range x {
			var g float32
			if v > -3 && v < 3 {
				g = dy[i] * (1.0 / 6)
			}
			dx[i] = g
		}
	},
	ActSigmoid: func(x, dy, dx []float32) {
		x, dy = x[:len(dx)], dy[:len(dx)]
		for i, v := range x {
			e := math.Exp(-math.Abs(float64(v)))
			dx[i] = float32(float64(dy[i]) * e / ((1 + e) * (1 + e)))
		}
	},
}

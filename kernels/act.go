package kernels

import "math"

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
		s := ActScalar(ActSigmoid, v)
		return s * (1 - s)
	}
	return 1
}

//go:build !amd64 || !gc || purego || noasm

package asm

// Stand-ins for the amd64 assembly of eltwise_amd64.go on every other build.
// HasAVX2 and HasAVX512 are false there, so package kernels never calls them.

// AddAVX2 is not available in this build.
func AddAVX2(a, b, y []float32) { panic("asm.AddAVX2: no assembly in this build") }

// AxpyAVX2 is not available in this build.
func AxpyAVX2(alpha float32, x, y []float32) { panic("asm.AxpyAVX2: no assembly in this build") }

// ScaleAVX2 is not available in this build.
func ScaleAVX2(alpha float32, x, y []float32) { panic("asm.ScaleAVX2: no assembly in this build") }

// AffineAVX2 is not available in this build.
func AffineAVX2(rows, w, ld int, x, s, t, y []float32) {
	panic("asm.AffineAVX2: no assembly in this build")
}

// Affine2AVX2 is not available in this build.
func Affine2AVX2(rows, w, ld int, a, b, m, sa, sb, t, y []float32) {
	panic("asm.Affine2AVX2: no assembly in this build")
}

// ColSumAVX2 is not available in this build.
func ColSumAVX2(rows, w, ld int, x, acc []float32) {
	panic("asm.ColSumAVX2: no assembly in this build")
}

// ColDotAVX2 is not available in this build.
func ColDotAVX2(rows, w, ld int, a, ma, b, mb, acc []float32) {
	panic("asm.ColDotAVX2: no assembly in this build")
}

// AddAVX512 is not available in this build.
func AddAVX512(a, b, y []float32) { panic("asm.AddAVX512: no assembly in this build") }

// AxpyAVX512 is not available in this build.
func AxpyAVX512(alpha float32, x, y []float32) { panic("asm.AxpyAVX512: no assembly in this build") }

// ScaleAVX512 is not available in this build.
func ScaleAVX512(alpha float32, x, y []float32) { panic("asm.ScaleAVX512: no assembly in this build") }

// AffineAVX512 is not available in this build.
func AffineAVX512(rows, w, ld int, x, s, t, y []float32) {
	panic("asm.AffineAVX512: no assembly in this build")
}

// Affine2AVX512 is not available in this build.
func Affine2AVX512(rows, w, ld int, a, b, m, sa, sb, t, y []float32) {
	panic("asm.Affine2AVX512: no assembly in this build")
}

// ColSumAVX512 is not available in this build.
func ColSumAVX512(rows, w, ld int, x, acc []float32) {
	panic("asm.ColSumAVX512: no assembly in this build")
}

// ColDotAVX512 is not available in this build.
func ColDotAVX512(rows, w, ld int, a, ma, b, mb, acc []float32) {
	panic("asm.ColDotAVX512: no assembly in this build")
}

// ReluAVX2 is not available in this build.
func ReluAVX2(x, y []float32) { panic("asm.ReluAVX2: no assembly in this build") }

// Relu6AVX2 is not available in this build.
func Relu6AVX2(x, y []float32) { panic("asm.Relu6AVX2: no assembly in this build") }

// HardsigmoidAVX2 is not available in this build.
func HardsigmoidAVX2(x, y []float32) { panic("asm.HardsigmoidAVX2: no assembly in this build") }

// HardswishAVX2 is not available in this build.
func HardswishAVX2(x, y []float32) { panic("asm.HardswishAVX2: no assembly in this build") }

// ReluGradAVX2 is not available in this build.
func ReluGradAVX2(x, dy, dx []float32) { panic("asm.ReluGradAVX2: no assembly in this build") }

// Relu6GradAVX2 is not available in this build.
func Relu6GradAVX2(x, dy, dx []float32) { panic("asm.Relu6GradAVX2: no assembly in this build") }

// HardsigmoidGradAVX2 is not available in this build.
func HardsigmoidGradAVX2(x, dy, dx []float32) {
	panic("asm.HardsigmoidGradAVX2: no assembly in this build")
}

// HardswishGradAVX2 is not available in this build.
func HardswishGradAVX2(x, dy, dx []float32) {
	panic("asm.HardswishGradAVX2: no assembly in this build")
}

// ReluAVX512 is not available in this build.
func ReluAVX512(x, y []float32) { panic("asm.ReluAVX512: no assembly in this build") }

// Relu6AVX512 is not available in this build.
func Relu6AVX512(x, y []float32) { panic("asm.Relu6AVX512: no assembly in this build") }

// HardsigmoidAVX512 is not available in this build.
func HardsigmoidAVX512(x, y []float32) { panic("asm.HardsigmoidAVX512: no assembly in this build") }

// HardswishAVX512 is not available in this build.
func HardswishAVX512(x, y []float32) { panic("asm.HardswishAVX512: no assembly in this build") }

// ReluGradAVX512 is not available in this build.
func ReluGradAVX512(x, dy, dx []float32) { panic("asm.ReluGradAVX512: no assembly in this build") }

// Relu6GradAVX512 is not available in this build.
func Relu6GradAVX512(x, dy, dx []float32) { panic("asm.Relu6GradAVX512: no assembly in this build") }

// HardsigmoidGradAVX512 is not available in this build.
func HardsigmoidGradAVX512(x, dy, dx []float32) {
	panic("asm.HardsigmoidGradAVX512: no assembly in this build")
}

// HardswishGradAVX512 is not available in this build.
func HardswishGradAVX512(x, dy, dx []float32) {
	panic("asm.HardswishGradAVX512: no assembly in this build")
}

// SigmoidAVX2 is not available in this build.
func SigmoidAVX2(x, y []float32) { panic("asm.SigmoidAVX2: no assembly in this build") }

// SigmoidGradAVX2 is not available in this build.
func SigmoidGradAVX2(x, dy, dx []float32) { panic("asm.SigmoidGradAVX2: no assembly in this build") }

// SigmoidAVX512 is not available in this build.
func SigmoidAVX512(x, y []float32) { panic("asm.SigmoidAVX512: no assembly in this build") }

// SigmoidGradAVX512 is not available in this build.
func SigmoidGradAVX512(x, dy, dx []float32) {
	panic("asm.SigmoidGradAVX512: no assembly in this build")
}

// ColSumDotAVX2 is not available in this build.
func ColSumDotAVX2(rows, w, ld int, a, b, mb, accA, accB []float32) {
	panic("asm.ColSumDotAVX2: no assembly in this build")
}

// ColSumDotAVX512 is not available in this build.
func ColSumDotAVX512(rows, w, ld int, a, b, mb, accA, accB []float32) {
	panic("asm.ColSumDotAVX512: no assembly in this build")
}

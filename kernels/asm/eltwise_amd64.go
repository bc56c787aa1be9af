//go:build gc && !purego && !noasm

package asm

// Elementwise and per-channel primitives in assembly; contracts as the
// references in eltwise_ref.go. AVX2 versions: lengths and w multiples of 8.
// AVX-512 versions: any length. Activations: act_avx2_amd64.s and
// act_avx512_amd64.s; the rest: eltwise_avx2_amd64.s, eltwise_avx512_amd64.s.

//go:noescape
func AddAVX2(a, b, y []float32)

//go:noescape
func AxpyAVX2(alpha float32, x, y []float32)

//go:noescape
func ScaleAVX2(alpha float32, x, y []float32)

//go:noescape
func AffineAVX2(rows, w, ld int, x, s, t, y []float32)

//go:noescape
func Affine2AVX2(rows, w, ld int, a, b, m, sa, sb, t, y []float32)

//go:noescape
func ColSumAVX2(rows, w, ld int, x, acc []float32)

//go:noescape
func ColDotAVX2(rows, w, ld int, a, ma, b, mb, acc []float32)

//go:noescape
func ColSumDotAVX2(rows, w, ld int, a, b, mb, accA, accB []float32)

//go:noescape
func AddAVX512(a, b, y []float32)

//go:noescape
func AxpyAVX512(alpha float32, x, y []float32)

//go:noescape
func ScaleAVX512(alpha float32, x, y []float32)

//go:noescape
func AffineAVX512(rows, w, ld int, x, s, t, y []float32)

//go:noescape
func Affine2AVX512(rows, w, ld int, a, b, m, sa, sb, t, y []float32)

//go:noescape
func ColSumAVX512(rows, w, ld int, x, acc []float32)

//go:noescape
func ColDotAVX512(rows, w, ld int, a, ma, b, mb, acc []float32)

//go:noescape
func ColSumDotAVX512(rows, w, ld int, a, b, mb, accA, accB []float32)

// Activations y = act(x) and their gradients dx = dy·act'(x), over len(y)
// (len(dx)) elements; y may alias x and dx may alias dy.

//go:noescape
func ReluAVX2(x, y []float32)

//go:noescape
func Relu6AVX2(x, y []float32)

//go:noescape
func HardsigmoidAVX2(x, y []float32)

//go:noescape
func HardswishAVX2(x, y []float32)

//go:noescape
func SigmoidAVX2(x, y []float32)

//go:noescape
func SigmoidGradAVX2(x, dy, dx []float32)

//go:noescape
func ReluGradAVX2(x, dy, dx []float32)

//go:noescape
func Relu6GradAVX2(x, dy, dx []float32)

//go:noescape
func HardsigmoidGradAVX2(x, dy, dx []float32)

//go:noescape
func HardswishGradAVX2(x, dy, dx []float32)

//go:noescape
func ReluAVX512(x, y []float32)

//go:noescape
func Relu6AVX512(x, y []float32)

//go:noescape
func HardsigmoidAVX512(x, y []float32)

//go:noescape
func HardswishAVX512(x, y []float32)

//go:noescape
func SigmoidAVX512(x, y []float32)

//go:noescape
func SigmoidGradAVX512(x, dy, dx []float32)

//go:noescape
func ReluGradAVX512(x, dy, dx []float32)

//go:noescape
func Relu6GradAVX512(x, dy, dx []float32)

//go:noescape
func HardsigmoidGradAVX512(x, dy, dx []float32)

//go:noescape
func HardswishGradAVX512(x, dy, dx []float32)

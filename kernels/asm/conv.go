package asm

//go:generate go run conv_gen.go

// ConvArgs is the argument block of the direct-convolution kernels (see
// conv_gen.go for the loop they run). Strides are in bytes. A kernel
// consumes the block (it counts N down), so the caller fills it afresh for
// every call; the pointer fields stay as they were.
type ConvArgs struct {
	X     *float32 // input of the first pixel's window at its first step
	W     *float32 // weight row of the first step, at the channel block
	Y     *float32 // output of the first pixel, at the channel block
	Bias  *float32 // bias at the channel block; nil for none (unused with Accum)
	N     int      // pixels, > 0
	XPix  int      // from one pixel's window to the next
	XStep int      // from one step of a window row to the next
	XRow  int      // from the end of a window row to the start of the next
	Rows  int      // window rows, > 0
	Run   int      // steps per window row, > 0
	WStep int      // from one weight row to the next
	YPix  int      // from one output pixel to the next
	Mask  int      // lanes of the last channel vector: a bit mask (AVX-512) or a count (AVX2)
	Act   int      // fused activation: 0 none, 1 ReLU, 2 ReLU6, 3 hardswish, 4 hardsigmoid
	Accum int      // 1: add the tile to Y (no bias) instead of overwriting it
	cur   uintptr  // the kernel's output cursor: it may end past Y's buffer, so the GC must not see it
}

// ConvTile is one direct-convolution kernel: V channel vectors × MR pixels.
// A Full kernel ignores Mask and needs every lane of its last vector.
type ConvTile struct {
	V, MR int
	Full  bool
	Fn    func(a *ConvArgs)
}

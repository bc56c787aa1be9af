package kernels

import "github.com/nasrun/nasrun/kernels/asm"

// GlobalAvgPool sets y[b,ch] = mean over the hw positions of x[b,·,ch], for
// n images of hw positions and c channels (NHWC). Large batches are split
// over the pool by image.
func GlobalAvgPool(n, hw, c int, x, y []float32) {
	checkDims("GlobalAvgPool", n, hw, c)
	checkLen("GlobalAvgPool", "x", len(x), n*hw*c)
	checkLen("GlobalAvgPool", "y", len(y), n*c)
	if hw == 0 {
		clear(y)
		return
	}
	k := elt()
	if n == 1 || serial(n*hw*c) {
		gap(k, 0, n, hw, c, x, y)
		return
	}
	j := getEltJob(k, gapChunk)
	j.hw, j.c, j.a, j.y = hw, c, x, y
	j.parallel(n, 1)
}

func gapChunk(j *eltJob, lo, hi int) { gap(j.k, lo, hi, j.hw, j.c, j.a, j.y) }

func gap(k *eltKernels, lo, hi, hw, c int, x, y []float32) {
	m := hw * c
	for b := lo; b < hi; b++ {
		colReduce(k, hw, c, x[b*m:(b+1)*m], nil, nil, nil, 1/float64(hw), y[b*c:(b+1)*c], nil)
	}
}

// GlobalAvgPoolBackward sets dx[b,p,ch] = dy[b,ch]/hw (overwrite).
func GlobalAvgPoolBackward(n, hw, c int, dy, dx []float32) {
	checkDims("GlobalAvgPoolBackward", n, hw, c)
	checkLen("GlobalAvgPoolBackward", "dy", len(dy), n*c)
	checkLen("GlobalAvgPoolBackward", "dx", len(dx), n*hw*c)
	if hw == 0 {
		return
	}
	k := elt()
	if n == 1 || serial(n*hw*c) {
		gapBackward(k, 0, n, hw, c, dy, dx)
		return
	}
	j := getEltJob(k, gapBackwardChunk)
	j.hw, j.c, j.a, j.y = hw, c, dy, dx
	j.parallel(n, 1)
}

func gapBackwardChunk(j *eltJob, lo, hi int) { gapBackward(j.k, lo, hi, j.hw, j.c, j.a, j.y) }

// gapBackward writes the scaled gradient into each image's first row and
// copies that row to the others.
func gapBackward(k *eltKernels, lo, hi, hw, c int, dy, dx []float32) {
	m := hw * c
	for b := lo; b < hi; b++ {
		row := dx[b*m : b*m+c]
		k.flatAlpha(k.scale, asm.ScaleRef, 1/float32(hw), dy[b*c:(b+1)*c], row)
		for p := 1; p < hw; p++ {
			copy(dx[b*m+p*c:b*m+(p+1)*c], row)
		}
	}
}

package asm

// Pure-Go reference of the depthwise convolution, forward and backward, for
// any window k×k, stride s and zero padding pad, on one NHWC image
// (h×w×c input, oh×ow×c output, weights [k,k,c]). Loops run row by row with
// the channels innermost, so the inner loop is a contiguous multiply-add
// over c floats. No activation: package kernels applies it.

// DWConvFwdRowRef writes output row oy of one image:
// y[ox*c+ch] = bias[ch] + Σ_{ky,kx} wt[(ky*k+kx)*c+ch]·x[iy,ix,ch] with
// iy = oy*s-pad+ky, ix = ox*s-pad+kx, taps outside the input being zero.
// bias may be nil; y holds the ow×c output row.
func DWConvFwdRowRef(x []float32, h, w, c, k, s, pad int, wt, bias, y []float32, oy int) {
	ow := len(y) / c
	for ox := range ow {
		yp := y[ox*c : ox*c+c]
		if bias != nil {
			copy(yp, bias[:c])
		} else {
			clear(yp)
		}
		for ky := range k {
			iy := oy*s - pad + ky
			if iy < 0 || iy >= h {
				continue
			}
			for kx := range k {
				ix := ox*s - pad + kx
				if ix < 0 || ix >= w {
					continue
				}
				xp := x[(iy*w+ix)*c : (iy*w+ix)*c+c]
				wp := wt[(ky*k+kx)*c : (ky*k+kx)*c+c]
				for ch, v := range xp {
					yp[ch] += wp[ch] * v
				}
			}
		}
	}
}

// DWConvDxRowRef writes row iy of one image's input gradient dx (w×c
// floats) from the output gradient dy (oh×ow×c): the transposed
// convolution dx[iy,ix] = Σ wt[ky,kx]·dy[oy,ox] over oy*s-pad+ky = iy,
// ox*s-pad+kx = ix.
func DWConvDxRowRef(dy []float32, oh, ow, c, k, s, pad int, wt, dx []float32, iy int) {
	w := len(dx) / c
	for ix := range w {
		dp := dx[ix*c : ix*c+c]
		clear(dp)
		for ky := range k {
			ty := iy + pad - ky
			if ty < 0 || ty%s != 0 || ty/s >= oh {
				continue
			}
			oy := ty / s
			for kx := range k {
				tx := ix + pad - kx
				if tx < 0 || tx%s != 0 || tx/s >= ow {
					continue
				}
				ox := tx / s
				gp := dy[(oy*ow+ox)*c : (oy*ow+ox)*c+c]
				wp := wt[(ky*k+kx)*c : (ky*k+kx)*c+c]
				for ch, v := range gp {
					dp[ch] += wp[ch] * v
				}
			}
		}
	}
}

// DWConvDwRowRef accumulates the weight and bias gradients of output row oy
// of one image: dw[(ky*k+kx)*c+ch] += dyRow[ox,ch]·x[iy,ix,ch] and
// db[ch] += dyRow[ox,ch]. dw or db may be nil to skip it.
func DWConvDwRowRef(x []float32, h, w, c, k, s, pad int, dyRow []float32, oy int, dw, db []float32) {
	ow := len(dyRow) / c
	for ox := range ow {
		gp := dyRow[ox*c : ox*c+c]
		if db != nil {
			bp := db[:c]
			for ch, v := range gp {
				bp[ch] += v
			}
		}
		if dw == nil {
			continue
		}
		for ky := range k {
			iy := oy*s - pad + ky
			if iy < 0 || iy >= h {
				continue
			}
			for kx := range k {
				ix := ox*s - pad + kx
				if ix < 0 || ix >= w {
					continue
				}
				xp := x[(iy*w+ix)*c : (iy*w+ix)*c+c]
				wp := dw[(ky*k+kx)*c : (ky*k+kx)*c+c]
				for ch, v := range gp {
					wp[ch] += v * xp[ch]
				}
			}
		}
	}
}

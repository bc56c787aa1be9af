package kernels

import "fmt"

// Conv describes a dense convolution: input N×H×W×Cin (NHWC), weights
// [KH, KW, Cin, Cout], symmetric zero padding Pad, stride Stride (both
// dimensions) and an optional activation Act fused on the output. The
// output is N×OutH×OutW×Cout.
type Conv struct {
	N, H, W, Cin, Cout, KH, KW, Stride, Pad int
	Act                                     Act
}

// OutH returns the output height.
func (p Conv) OutH() int { return (p.H+2*p.Pad-p.KH)/p.Stride + 1 }

// OutW returns the output width.
func (p Conv) OutW() int { return (p.W+2*p.Pad-p.KW)/p.Stride + 1 }

func (p Conv) check(op string) {
	if p.N < 1 || p.H < 1 || p.W < 1 || p.Cin < 1 || p.Cout < 1 || p.KH < 1 || p.KW < 1 ||
		p.Stride < 1 || p.Pad < 0 || p.H+2*p.Pad < p.KH || p.W+2*p.Pad < p.KW || p.Act >= numActs {
		panic(fmt.Sprintf("kernels.%s: invalid convolution %+v (need positive sizes, Pad ≥ 0, H+2·Pad ≥ KH, W+2·Pad ≥ KW, a known Act)", op, p))
	}
}

// pointwise reports whether the convolution is a plain GEMM on the input.
func (p Conv) pointwise() bool { return p.KH == 1 && p.KW == 1 && p.Stride == 1 && p.Pad == 0 }

// geometry is a convolution's internal description: padding may differ
// per dimension (the input gradient is a convolution with padding KH−1−Pad
// and KW−1−Pad).
type convGeom struct {
	n, h, w, cin, cout, kh, kw, s, ph, pw int
	oh, ow                                int
}

func (p Conv) geom() convGeom {
	return convGeom{p.N, p.H, p.W, p.Cin, p.Cout, p.KH, p.KW, p.Stride, p.Pad, p.Pad, p.OutH(), p.OutW()}
}

// k is the GEMM reduction length, the length of one im2col row.
func (g *convGeom) k() int { return g.kh * g.kw * g.cin }

// m is the number of output pixels, the GEMM row count.
func (g *convGeom) m() int { return g.n * g.oh * g.ow }

// im2col writes rows [m0, m1) of the column matrix: row m holds output
// pixel m's receptive field as KH runs of KW·Cin values, zero where the
// window covers padding.
func (g *convGeom) im2col(x, col []float32, m0, m1 int) {
	k, run := g.k(), g.kw*g.cin
	for m := m0; m < m1; m++ {
		img, r := m/(g.oh*g.ow), m%(g.oh*g.ow)
		oh, ow := r/g.ow, r%g.ow
		dst := col[(m-m0)*k : (m-m0+1)*k]
		iw0 := ow*g.s - g.pw
		q0, q1 := max(0, -iw0), min(g.kw, g.w-iw0)
		for r := range g.kh {
			d := dst[r*run : (r+1)*run]
			ih := oh*g.s + r - g.ph
			if ih < 0 || ih >= g.h || q0 >= q1 {
				clear(d)
				continue
			}
			clear(d[:q0*g.cin])
			src := ((img*g.h+ih)*g.w + iw0 + q0) * g.cin
			copy(d[q0*g.cin:q1*g.cin], x[src:src+(q1-q0)*g.cin])
			clear(d[q1*g.cin:])
		}
	}
}

// col2im adds rows [m0, m1) of a column-gradient matrix into dx, the
// transpose of im2col.
func (g *convGeom) col2im(dcol, dx []float32, m0, m1 int) {
	k, run := g.k(), g.kw*g.cin
	for m := m0; m < m1; m++ {
		img, r := m/(g.oh*g.ow), m%(g.oh*g.ow)
		oh, ow := r/g.ow, r%g.ow
		src := dcol[(m-m0)*k : (m-m0+1)*k]
		iw0 := ow*g.s - g.pw
		q0, q1 := max(0, -iw0), min(g.kw, g.w-iw0)
		for r := range g.kh {
			ih := oh*g.s + r - g.ph
			if ih < 0 || ih >= g.h || q0 >= q1 {
				continue
			}
			d := ((img*g.h+ih)*g.w + iw0 + q0) * g.cin
			Axpy(1, src[r*run+q0*g.cin:r*run+q1*g.cin], dx[d:d+(q1-q0)*g.cin])
		}
	}
}

// colRows returns how many im2col rows make one chunk: about 256 KiB of
// columns, so that a chunk stays in L2 while the GEMM reads it.
func colRows(k int) int { return max(16, (64<<10)/k) }

// epilogue applies bias (if any) and activation to rows of y, each of cout
// values, with the vectorised element-wise kernels.
func epilogue(y, bias []float32, cout int, act Act) {
	if bias != nil {
		AddBias(len(y)/cout, cout, y, bias)
	}
	if act != ActNone {
		Activate(act, y, y)
	}
}

func (p Conv) checkBufs(op string, x, w []float32) {
	p.check(op)
	checkLen(op, "x", len(x), p.N*p.H*p.W*p.Cin)
	checkLen(op, "w", len(w), p.KH*p.KW*p.Cin*p.Cout)
}

// Conv2d computes y = act(conv(x, w) + bias) for the convolution p; bias
// (Cout values) may be nil.
func Conv2d(p Conv, x, w, bias, y []float32) {
	p.checkBufs("Conv2d", x, w)
	if bias != nil {
		checkLen("Conv2d", "bias", len(bias), p.Cout)
	}
	checkLen("Conv2d", "y", len(y), p.N*p.OutH()*p.OutW()*p.Cout)
	g := p.geom()
	if convDirect(&g, x, w, bias, y, p.Act) {
		return
	}
	g.forwardGemm(x, w, bias, y, p.Act)
}

// forwardGemm is the convolution as GEMMs on chunks of output pixels: the
// input itself for a pointwise convolution, im2col columns otherwise.
func (g *convGeom) forwardGemm(x, w, bias, y []float32, act Act) {
	j := getConvJob(g, nil, x, w, bias, y, act)
	defer j.put()
	rows := colRows(g.k())
	parallelFor((g.m()+rows-1)/rows, 1, j.gemmFn)
}

// gemmChunks computes the forward GEMM chunks [lo, hi) of colRows pixels.
func (j *convJob) gemmChunks(lo, hi int) {
	g := &j.g
	k, m, cout := g.k(), g.m(), g.cout
	direct := g.kh == 1 && g.kw == 1 && g.s == 1 && g.ph == 0 && g.pw == 0
	rows := colRows(k)
	s := directPool.Get().(*directScratch)
	defer directPool.Put(s)
	var buf []float32
	if !direct {
		buf = s.grow(rows * k)
	}
	for c := lo; c < hi; c++ {
		m0, m1 := c*rows, min(m, (c+1)*rows)
		var a []float32
		if direct {
			a = j.x[m0*k:]
		} else {
			a = buf
			g.im2col(j.x, a, m0, m1)
		}
		yc := j.y[m0*cout : m1*cout]
		Sgemm(false, false, m1-m0, cout, k, 1, a, k, j.w, cout, 0, yc, cout)
		epilogue(yc, j.bias, cout, j.act)
	}
}

// Conv2dBackward computes the gradients of Conv2d with p.Act = ActNone
// (apply the activation's backward to dy first): dx of the input, dw of
// the weights and db of the bias, each overwritten; any of them may be nil
// to skip it.
func Conv2dBackward(p Conv, x, w, dy, dx, dw, db []float32) {
	const op = "Conv2dBackward"
	p.checkBufs(op, x, w)
	if p.Act != ActNone {
		panic(fmt.Sprintf("kernels.%s: Act = %v, want none (apply the activation's backward to dy first)", op, p.Act))
	}
	checkLen(op, "dy", len(dy), p.N*p.OutH()*p.OutW()*p.Cout)
	if dx != nil {
		checkLen(op, "dx", len(dx), len(x))
	}
	if dw != nil {
		checkLen(op, "dw", len(dw), len(w))
	}
	if db != nil {
		checkLen(op, "db", len(db), p.Cout)
	}
	g := p.geom()
	if db != nil {
		BiasGrad(g.m(), g.cout, dy, db)
	}
	pw := p.pointwise() // a plain GEMM: Sgemm's packing beats the direct kernels
	if dw != nil && (pw || !g.weightGradDirect(x, dy, dw)) {
		g.weightGrad(x, dy, dw)
	}
	if dx != nil && (pw || !g.inputGradDirect(w, dy, dx)) {
		g.inputGrad(w, dy, dx)
	}
}

// weightGrad computes dw = im2col(x)ᵀ · dy, chunk by chunk.
func (g *convGeom) weightGrad(x, dy, dw []float32) {
	k, m, cout := g.k(), g.m(), g.cout
	if g.kh == 1 && g.kw == 1 && g.s == 1 && g.ph == 0 && g.pw == 0 {
		Sgemm(true, false, k, cout, m, 1, x, k, dy, cout, 0, dw, cout)
		return
	}
	rows := colRows(k)
	s := directPool.Get().(*directScratch)
	defer directPool.Put(s)
	buf := s.grow(rows * k)
	for m0 := 0; m0 < m; m0 += rows {
		m1 := min(m, m0+rows)
		g.im2col(x, buf, m0, m1)
		beta := float32(1)
		if m0 == 0 {
			beta = 0
		}
		Sgemm(true, false, k, cout, m1-m0, 1, buf, k, dy[m0*cout:], cout, beta, dw, cout)
	}
}

// inputGrad computes dx = col2im(dy · wᵀ). Windows of neighbouring pixels
// overlap in dx, so images are split over threads, never pixels.
func (g *convGeom) inputGrad(w, dy, dx []float32) {
	if g.kh == 1 && g.kw == 1 && g.s == 1 && g.ph == 0 && g.pw == 0 {
		Sgemm(false, true, g.m(), g.k(), g.cout, 1, dy, g.cout, w, g.cout, 0, dx, g.k())
		return
	}
	j := getConvJob(g, nil, dy, w, nil, dx, ActNone)
	defer j.put()
	parallelFor(g.n, 1, j.col2imFn)
}

// col2imImages computes the input gradient of images [lo, hi) (j.x holds
// dy, j.y the gradient dx).
func (j *convJob) col2imImages(lo, hi int) {
	g := &j.g
	k, cout := g.k(), g.cout
	rows := colRows(k)
	per := g.oh * g.ow
	clear(j.y[lo*g.h*g.w*g.cin : hi*g.h*g.w*g.cin])
	s := directPool.Get().(*directScratch)
	defer directPool.Put(s)
	buf := s.grow(rows * k)
	for m0 := lo * per; m0 < hi*per; m0 += rows {
		m1 := min(hi*per, m0+rows)
		Sgemm(false, true, m1-m0, k, cout, 1, j.x[m0*cout:], cout, j.w, cout, 0, buf, k)
		g.col2im(buf, j.y, m0, m1)
	}
}

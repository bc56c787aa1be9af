package kernels

import (
	"sync"

	"github.com/nasrun/nasrun/kernels/asm"
)

// The direct (implicit-GEMM) convolution: the input is copied once into a
// zero-padded image, and assembly kernels (kernels/asm/conv_gen.go) compute
// tiles of output pixels × output-channel vectors, broadcasting input
// values straight from the padded image and reading the weights as they are
// stored ([K, Cout] rows), so nothing is packed. The input gradient of a
// stride-1 convolution is the same kernel on dy with the flipped,
// transposed weights; the weight gradient is the same kernel with pixels
// and channels swapped.

// directImpl is the active implementation's direct-convolution kernels.
type directImpl struct {
	tiles []asm.ConvTile
	lanes int // float32 lanes per vector
	maxV  int // widest tile, in vectors
	maxMR int // most pixels per tile
	avx2  bool
}

var directImpls = sync.OnceValue(func() [numImpls]*directImpl {
	var out [numImpls]*directImpl
	for _, i := range []Impl{AVX2, AVX512} {
		if !Supported(i) {
			continue
		}
		d := &directImpl{tiles: asm.ConvTiles(i == AVX512), lanes: 16, avx2: i == AVX2}
		if d.avx2 {
			d.lanes = 8
		}
		for _, t := range d.tiles {
			d.maxV, d.maxMR = max(d.maxV, t.V), max(d.maxMR, t.MR)
		}
		if len(d.tiles) > 0 {
			out[i] = d
		}
	}
	return out
})

func activeDirect() *directImpl {
	if Active() == Ref {
		return nil
	}
	return directImpls()[Active()]
}

// tile returns the kernel of v vectors that wastes the fewest pixel slots
// on n pixels (the larger tile on a tie); full says the block's last vector
// is full, which allows (and prefers) the kernels that ignore the mask.
func (d *directImpl) tile(v, n int, full bool) asm.ConvTile {
	var best asm.ConvTile
	bestSlots := 0
	for _, t := range d.tiles {
		if t.V != v || t.Full && !full {
			continue
		}
		slots := (n + t.MR - 1) / t.MR * t.MR
		if best.Fn == nil || slots < bestSlots || slots == bestSlots && (t.MR > best.MR || t.Full && !best.Full) {
			best, bestSlots = t, slots
		}
	}
	return best
}

// block returns the vector count of the output-channel block starting at
// channel c0 of c (blocks are maxV vectors wide, the last may be narrower),
// the lane mask of its last vector in the form ConvArgs.Mask takes, and
// whether that vector is full.
func (d *directImpl) block(c, c0 int) (v, mask int, full bool) {
	rem := min(c-c0, d.maxV*d.lanes)
	v = (rem + d.lanes - 1) / d.lanes
	last := rem - (v-1)*d.lanes
	if d.avx2 {
		return v, last, last == d.lanes
	}
	return v, 1<<last - 1, last == d.lanes
}

// actCode is the activation the kernels apply themselves (ConvArgs.Act);
// the others are applied afterwards in Go.
func actCode(a Act) (code int, inKernel bool) {
	switch a {
	case ActNone:
		return 0, true
	case ActReLU:
		return 1, true
	case ActReLU6:
		return 2, true
	case ActHardswish:
		return 3, true
	case ActHardsigmoid:
		return 4, true
	}
	return 0, false
}

// directScratch is one thread's working memory: the kernel argument block
// (kept off the stack, since kernels are called through function values)
// and a float32 buffer for padded images, im2col columns or transposed
// weights, reused across calls.
type directScratch struct {
	args asm.ConvArgs
	buf  []float32
}

var directPool = sync.Pool{New: func() any { return new(directScratch) }}

func (s *directScratch) grow(n int) []float32 {
	if cap(s.buf) < n {
		s.buf = make([]float32, n, n+n/4)
	}
	return s.buf[:n]
}

// padded describes a zero-padded copy of the images of g.
type padded struct{ hp, wp, c, slack int }

func (g *convGeom) padded(d *directImpl) padded {
	return padded{g.h + 2*g.ph, g.w + 2*g.pw, g.cin, (d.maxMR*g.s+g.kw)*g.cin + d.maxMR + 16}
}

func (p padded) image() int { return p.hp * p.wp * p.c }

// fill copies image n of x into dst with the padding zeroed, and zeroes the
// slack after it.
func (p padded) fill(g *convGeom, x, dst []float32, n int) { p.fillRows(g, x, dst, n, 0, p.hp) }

// fillRows copies padded rows [pr0, pr1) of image n (padded row pr is input
// row pr−ph, all zero outside the image) into dst, and zeroes the slack
// after them.
func (p padded) fillRows(g *convGeom, x, dst []float32, n, pr0, pr1 int) {
	rowIn, rowOut := g.w*g.cin, p.wp*p.c
	left := g.pw * p.c
	for pr := pr0; pr < pr1; pr++ {
		out := dst[(pr-pr0)*rowOut : (pr-pr0+1)*rowOut]
		r := pr - g.ph
		if r < 0 || r >= g.h {
			clear(out)
			continue
		}
		clear(out[:left])
		copy(out[left:left+rowIn], x[(n*g.h+r)*rowIn:(n*g.h+r+1)*rowIn])
		clear(out[left+rowIn:])
	}
	clear(dst[(pr1-pr0)*rowOut : (pr1-pr0)*rowOut+p.slack])
}

// bandBytes is the size of the padded input band a thread copies before
// computing the output rows it feeds: small enough to stay in L2 while the
// kernels read it.
const bandBytes = 96 << 10

// convJob is one convolution call (direct kernels, or the GEMM path when d
// is nil): its operands and its loop bodies, bound once per pooled job so
// that handing them to the worker pool allocates nothing.
type convJob struct {
	g                 convGeom
	d                 *directImpl
	pd                padded
	x, w, bias, y     []float32
	band, nband       int // forward: output rows per band, bands per image
	act               Act
	code              int
	inKernel          bool
	partial           []float32 // weight gradient: per-thread partial sums after the first
	parts             int
	bandsFn           func(lo, hi int)
	gemmFn, col2imFn  func(lo, hi int)
	pointsFn, wgradFn func(lo, hi int)
}

var convJobs = sync.Pool{New: func() any {
	j := new(convJob)
	j.bandsFn, j.pointsFn, j.wgradFn = j.bands, j.points, j.wgrad
	j.gemmFn, j.col2imFn = j.gemmChunks, j.col2imImages
	return j
}}

func getConvJob(g *convGeom, d *directImpl, x, w, bias, y []float32, act Act) *convJob {
	j := convJobs.Get().(*convJob)
	j.g, j.d, j.pd = *g, d, padded{}
	if d != nil {
		j.pd = g.padded(d)
	}
	j.x, j.w, j.bias, j.y, j.act = x, w, bias, y, act
	j.code, j.inKernel = actCode(act)
	return j
}

func (j *convJob) put() {
	j.x, j.w, j.bias, j.y, j.partial = nil, nil, nil, nil, nil
	convJobs.Put(j)
}

// run computes output rows [oh0, oh1) of image img from xp, which holds
// the padded rows from pr0 on.
func (j *convJob) run(s *directScratch, xp []float32, img, oh0, oh1, pr0 int) {
	g, pd, a := &j.g, &j.pd, &s.args
	for oh := oh0; oh < oh1; oh++ {
		yrow := j.y[((img*g.oh+oh)*g.ow)*g.cout : ((img*g.oh+oh+1)*g.ow)*g.cout]
		for c0 := 0; c0 < g.cout; c0 += j.d.maxV * j.d.lanes {
			v, mask, full := j.d.block(g.cout, c0)
			*a = asm.ConvArgs{
				X: &xp[(oh*g.s-pr0)*pd.wp*pd.c], W: &j.w[c0], Y: &yrow[c0],
				N: g.ow, XPix: 4 * g.s * g.cin, XStep: 4, XRow: 4 * (pd.wp - g.kw) * g.cin,
				Rows: g.kh, Run: g.kw * g.cin, WStep: 4 * g.cout, YPix: 4 * g.cout,
				Mask: mask, Act: j.code,
			}
			if j.bias != nil {
				a.Bias = &j.bias[c0]
			}
			j.d.tile(v, g.ow, full).Fn(a)
		}
		if !j.inKernel {
			Activate(j.act, yrow, yrow)
		}
	}
}

// bands computes bands [lo, hi) of output rows (j.band rows each, j.nband
// per image): each thread pads just the input rows of its band, so the
// copy stays in cache for the kernels.
func (j *convJob) bands(lo, hi int) {
	s := directPool.Get().(*directScratch)
	defer directPool.Put(s)
	g, pd := &j.g, &j.pd
	for u := lo; u < hi; u++ {
		img, b := u/j.nband, u%j.nband
		oh0 := b * j.band
		oh1 := min(g.oh, oh0+j.band)
		pr0, pr1 := oh0*g.s, (oh1-1)*g.s+g.kh
		xp := s.grow((pr1-pr0)*pd.wp*pd.c + pd.slack)
		pd.fillRows(g, j.x, xp, img, pr0, pr1)
		j.run(s, xp, img, oh0, oh1, pr0)
	}
}

// direct computes y = act(conv(x, w) + bias) with the direct kernels and
// reports whether it could. Units of work are bands of output rows.
func (g *convGeom) direct(x, w, bias, y []float32, act Act) bool {
	d := activeDirect()
	if d == nil {
		return false
	}
	j := getConvJob(g, d, x, w, bias, y, act)
	defer j.put()
	rowsIn := max(g.kh, bandBytes/(4*j.pd.wp*j.pd.c))
	j.band = max(1, (rowsIn-g.kh)/g.s+1)
	if t := Threads(); g.n < t {
		// Enough bands for every thread.
		j.band = max(1, min(j.band, g.n*g.oh/t))
	}
	j.nband = (g.oh + j.band - 1) / j.band
	parallelFor(g.n*j.nband, 1, j.bandsFn)
	return true
}

// convDirect runs the forward convolution with the direct kernels when the
// active implementation has them, and reports whether it did.
func convDirect(g *convGeom, x, w, bias, y []float32, act Act) bool {
	if g.kh == 1 && g.kw == 1 && g.s == 1 && g.ph == 0 && g.pw == 0 {
		// A plain GEMM: the direct kernels win on AVX-512 when the output
		// channels fill the vectors (measured: pw-exp); otherwise Sgemm's
		// narrow edge kernels do at least as well.
		d := activeDirect()
		if d == nil || d.avx2 || g.cout*10 < 9*((g.cout+d.lanes-1)/d.lanes*d.lanes) {
			return false
		}
		return g.pointwiseDirect(x, w, bias, y, act)
	}
	return g.direct(x, w, bias, y, act)
}

// pointwiseDirect computes a 1×1 stride-1 convolution as one run of N·H·W
// pixels read straight from x, with no padded copy. Only the last pixels go
// through a small zero-padded copy, so that the extra reads of a partial
// last tile stay inside a buffer.
func (g *convGeom) pointwiseDirect(x, w, bias, y []float32, act Act) bool {
	d := activeDirect()
	if d == nil {
		return false
	}
	j := getConvJob(g, d, x, w, bias, y, act)
	defer j.put()
	m := g.m()
	tail := min(m, 2*d.maxMR)
	body := m - tail
	parallelFor((body+pointGrain-1)/pointGrain, max(1, (1<<16)/(pointGrain*g.cin*g.cout/64+1)), j.pointsFn)
	s := directPool.Get().(*directScratch)
	defer directPool.Put(s)
	buf := s.grow((tail + d.maxMR) * g.cin)
	copy(buf, x[body*g.cin:])
	clear(buf[tail*g.cin:])
	j.point(s, buf, y[body*g.cout:], tail)
	return true
}

// pointGrain is the pixels per chunk of a pointwise convolution: whole
// tiles of 7 and 14.
const pointGrain = 7 * 64

// points computes pixel chunks [lo, hi) of a pointwise convolution, all but
// the padded tail.
func (j *convJob) points(lo, hi int) {
	s := directPool.Get().(*directScratch)
	defer directPool.Put(s)
	g := &j.g
	body := g.m() - min(g.m(), 2*j.d.maxMR)
	p0, p1 := lo*pointGrain, min(body, hi*pointGrain)
	j.point(s, j.x[p0*g.cin:], j.y[p0*g.cout:], p1-p0)
}

// point computes n pointwise pixels from xs into ys.
func (j *convJob) point(s *directScratch, xs, ys []float32, n int) {
	g := &j.g
	for c0 := 0; c0 < g.cout; c0 += j.d.maxV * j.d.lanes {
		v, mask, full := j.d.block(g.cout, c0)
		s.args = asm.ConvArgs{
			X: &xs[0], W: &j.w[c0], Y: &ys[c0], N: n, XPix: 4 * g.cin, XStep: 4,
			Rows: 1, Run: g.cin, WStep: 4 * g.cout, YPix: 4 * g.cout, Mask: mask, Act: j.code,
		}
		if j.bias != nil {
			s.args.Bias = &j.bias[c0]
		}
		j.d.tile(v, n, full).Fn(&s.args)
	}
	if !j.inKernel {
		Activate(j.act, ys[:n*g.cout], ys[:n*g.cout])
	}
}

// inputGradDirect computes dx for a stride-1 convolution as the direct
// convolution of dy with the flipped, transposed weights and padding
// KH−1−Pad, KW−1−Pad, and reports whether it could.
func (g *convGeom) inputGradDirect(w, dy, dx []float32) bool {
	if activeDirect() == nil || g.s != 1 || g.ph > g.kh-1 || g.pw > g.kw-1 {
		return false
	}
	t := convGeom{g.n, g.oh, g.ow, g.cout, g.cin, g.kh, g.kw, 1, g.kh - 1 - g.ph, g.kw - 1 - g.pw, g.h, g.w}
	s := directPool.Get().(*directScratch)
	defer directPool.Put(s)
	wt := s.grow(len(w))
	for r := range g.kh {
		for q := range g.kw {
			src := w[((g.kh-1-r)*g.kw+g.kw-1-q)*g.cin*g.cout:]
			dst := wt[(r*g.kw+q)*g.cout*g.cin:]
			for co := range g.cout {
				for ci := range g.cin {
					dst[co*g.cin+ci] = src[ci*g.cout+co]
				}
			}
		}
	}
	return t.direct(dy, wt, nil, dx, ActNone)
}

// weightGradDirect computes dw = Σ over pixels of the input window ⊗ dy
// with the direct kernels, and reports whether it could. For each image and
// window tap (kh, kw), the tile's "pixels" are input channels, its steps
// the output pixels and its "weights" the rows of dy. Threads take images
// and sum their partial gradients at the end.
func (g *convGeom) weightGradDirect(x, dy, dw []float32) bool {
	d := activeDirect()
	if d == nil {
		return false
	}
	j := getConvJob(g, d, x, dy, nil, dw, ActNone)
	defer j.put()
	j.parts = min(Threads(), g.n)
	parts := directPool.Get().(*directScratch)
	defer directPool.Put(parts)
	j.partial = parts.grow((j.parts - 1) * len(dw))
	parallelFor(j.parts, 1, j.wgradFn)
	for p := 1; p < j.parts; p++ {
		Axpy(1, j.partial[(p-1)*len(dw):p*len(dw)], dw)
	}
	return true
}

// wgrad computes the partial weight gradients [lo, hi) (j.w holds dy, j.y
// the gradient dw).
func (j *convJob) wgrad(lo, hi int) {
	g, pd, d := &j.g, &j.pd, j.d
	s := directPool.Get().(*directScratch)
	defer directPool.Put(s)
	xp := s.grow(pd.image() + pd.slack)
	a := &s.args
	for p := lo; p < hi; p++ {
		acc := j.y
		if p > 0 {
			acc = j.partial[(p-1)*len(j.y) : p*len(j.y)]
		}
		for img := p * g.n / j.parts; img < (p+1)*g.n/j.parts; img++ {
			accum := 0
			if img > p*g.n/j.parts {
				accum = 1
			}
			pd.fill(g, j.x, xp, img)
			dyImg := j.w[img*g.oh*g.ow*g.cout:]
			// A window row's taps (q, ci) are kw·cin consecutive floats of
			// the padded image and consecutive rows of dw: one tile of that
			// many "pixels", whose accumulators are independent (with cin 1,
			// a tile per tap would be a single dependent chain).
			for r := range g.kh {
				tap := r * g.kw * g.cin * g.cout
				for c0 := 0; c0 < g.cout; c0 += d.maxV * d.lanes {
					v, mask, full := d.block(g.cout, c0)
					*a = asm.ConvArgs{
						X: &xp[r*pd.wp*pd.c], W: &dyImg[c0], Y: &acc[tap+c0],
						N: g.kw * g.cin, XPix: 4, XStep: 4 * g.s * g.cin, XRow: 4 * (g.s*pd.wp - g.ow*g.s) * g.cin,
						Rows: g.oh, Run: g.ow, WStep: 4 * g.cout, YPix: 4 * g.cout, Mask: mask, Accum: accum,
					}
					d.tile(v, g.kw*g.cin, full).Fn(a)
				}
			}
		}
	}
}

package data

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// Stats are the mean and standard deviation of pixel values scaled to
// [0, 1]; images are normalised to (p/255 - Mean) / Std.
type Stats struct {
	Mean, Std float32
}

// The customary statistics of the training splits.
var (
	FashionMNISTStats = Stats{Mean: 0.2860, Std: 0.3530}
	MNISTStats        = Stats{Mean: 0.1307, Std: 0.3081}
)

// Black is the normalised value of a raw 0 pixel: what padding fills with.
func (s Stats) Black() float32 { return -s.Mean / s.Std }

// Stats computes the mean and standard deviation of the pixels of the
// examples idx (all examples when idx is nil), scaled to [0, 1].
func (r *Raw) Stats(idx []int) Stats {
	var hist [256]int64
	size := r.H * r.W
	count := func(i int) {
		for _, p := range r.Pixels[i*size : (i+1)*size] {
			hist[p]++
		}
	}
	if idx == nil {
		for i := range r.N {
			count(i)
		}
	} else {
		for _, i := range idx {
			count(i)
		}
	}
	var n, sum float64
	for v, c := range hist {
		n += float64(c)
		sum += float64(c) * float64(v) / 255
	}
	if n == 0 {
		return Stats{Mean: 0, Std: 1}
	}
	mean := sum / n
	var ss float64 // two passes: exactly 0 for constant images
	for v, c := range hist {
		if c != 0 {
			d := float64(v)/255 - mean
			ss += float64(c) * d * d
		}
	}
	std := math.Sqrt(ss / n)
	if std < 1e-6 { // constant images: avoid dividing by (almost) 0
		std = 1
	}
	return Stats{Mean: float32(mean), Std: float32(std)}
}

// Dataset is a normalised split ready for training: images float32 NHWC
// [N, H, W, C] and labels in [0, Classes).
type Dataset struct {
	Images     []float32
	Labels     []int
	N, H, W, C int
	// Stats are the statistics the images were normalised with.
	Stats Stats
}

// ImageSize is the number of floats per image, H·W·C.
func (d *Dataset) ImageSize() int { return d.H * d.W * d.C }

// Image returns example i's pixels (a view, not a copy).
func (d *Dataset) Image(i int) []float32 {
	s := d.ImageSize()
	return d.Images[i*s : (i+1)*s : (i+1)*s]
}

// Normalize converts the examples idx (all when nil) to a Dataset with
// statistics s, in the order given.
func (r *Raw) Normalize(idx []int, s Stats) *Dataset {
	n := r.N
	if idx != nil {
		n = len(idx)
	}
	size := r.H * r.W
	d := &Dataset{
		Images: make([]float32, n*size),
		Labels: make([]int, n),
		N:      n, H: r.H, W: r.W, C: 1,
		Stats: s,
	}
	// A lookup table: 256 values, exact and branch-free.
	var lut [256]float32
	for v := range lut {
		lut[v] = (float32(v)/255 - s.Mean) / s.Std
	}
	parallel(n, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			i := j
			if idx != nil {
				i = idx[j]
			}
			dst := d.Images[j*size : (j+1)*size]
			for k, p := range r.Pixels[i*size : (i+1)*size] {
				dst[k] = lut[p]
			}
			d.Labels[j] = int(r.Labels[i])
		}
	})
	return d
}

// Subset copies the examples idx, in that order, into a new Dataset.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := d.ImageSize()
	out := &Dataset{
		Images: make([]float32, len(idx)*s),
		Labels: make([]int, len(idx)),
		N:      len(idx), H: d.H, W: d.W, C: d.C,
		Stats: d.Stats,
	}
	for j, i := range idx {
		copy(out.Images[j*s:(j+1)*s], d.Image(i))
		out.Labels[j] = d.Labels[i]
	}
	return out
}

// Histogram counts the examples of each class.
func (d *Dataset) Histogram() []int {
	h := make([]int, Classes)
	for _, l := range d.Labels {
		h[l]++
	}
	return h
}

// SplitIndices splits the examples with the given labels into a training and
// a validation part of nVal examples, seeded and stratified: each class
// gives the validation part its share of nVal (largest remainders first), the
// examples chosen at random. Both parts are sorted, disjoint and together
// cover 0..len(labels)-1.
func SplitIndices[L int | uint8](labels []L, nVal int, seed uint64) (train, val []int, err error) {
	n := len(labels)
	if nVal < 0 || nVal > n {
		return nil, nil, fmt.Errorf("data: validation size %d out of range [0, %d]", nVal, n)
	}
	byClass := make([][]int, Classes)
	for i, l := range labels {
		if int(l) >= Classes || l < 0 {
			return nil, nil, fmt.Errorf("data: label %d of example %d out of range", l, i)
		}
		byClass[l] = append(byClass[l], i)
	}
	// Quotas by largest remainder, ties to the lower class.
	quota := make([]int, Classes)
	type rem struct{ class, frac int }
	rems := make([]rem, Classes)
	given := 0
	for c, ex := range byClass {
		if n > 0 {
			quota[c] = nVal * len(ex) / n
			rems[c] = rem{c, nVal * len(ex) % n}
		}
		given += quota[c]
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.frac, a.frac) })
	for _, r := range rems[:nVal-given] {
		quota[r.class]++
	}
	rng := rand.New(rand.NewPCG(seed, 0x5917))
	isVal := make([]bool, n)
	for c, ex := range byClass {
		rng.Shuffle(len(ex), func(i, j int) { ex[i], ex[j] = ex[j], ex[i] })
		for _, i := range ex[:quota[c]] {
			isVal[i] = true
		}
	}
	train = make([]int, 0, n-nVal)
	val = make([]int, 0, nVal)
	for i, v := range isVal {
		if v {
			val = append(val, i)
		} else {
			train = append(train, i)
		}
	}
	return train, val, nil
}

// Resize returns the data set resized to h×w with bilinear interpolation
// (half-pixel centres, as PyTorch's interpolate with align_corners=False and
// no antialiasing), for resolution scaling. Done once per data set.
func (d *Dataset) Resize(h, w int) *Dataset {
	if h < 1 || w < 1 {
		panic(fmt.Sprintf("data: Resize to %dx%d", h, w))
	}
	ys, xs := bilinearTaps(d.H, h), bilinearTaps(d.W, w)
	c := d.C
	out := &Dataset{
		Images: make([]float32, d.N*h*w*c),
		Labels: slices.Clone(d.Labels),
		N:      d.N, H: h, W: w, C: c,
		Stats: d.Stats,
	}
	in := d.ImageSize()
	size := h * w * c
	parallel(d.N, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			src := d.Images[i*in : (i+1)*in]
			dst := out.Images[i*size : (i+1)*size]
			for oy, ty := range ys {
				r0 := src[ty.i0*d.W*c : (ty.i0+1)*d.W*c]
				r1 := src[ty.i1*d.W*c : (ty.i1+1)*d.W*c]
				row := dst[oy*w*c : (oy+1)*w*c]
				for ox, tx := range xs {
					for k := range c {
						top := r0[tx.i0*c+k]*(1-tx.f) + r0[tx.i1*c+k]*tx.f
						bot := r1[tx.i0*c+k]*(1-tx.f) + r1[tx.i1*c+k]*tx.f
						row[ox*c+k] = top*(1-ty.f) + bot*ty.f
					}
				}
			}
		}
	})
	return out
}

// tap is one output coordinate's two source coordinates and the weight of
// the second.
type tap struct {
	i0, i1 int
	f      float32
}

// bilinearTaps maps out output coordinates onto in input coordinates with
// half-pixel centres, clamping at the borders.
func bilinearTaps(in, out int) []tap {
	taps := make([]tap, out)
	scale := float64(in) / float64(out)
	for o := range taps {
		s := max((float64(o)+0.5)*scale-0.5, 0)
		i0 := min(int(s), in-1)
		i1 := min(i0+1, in-1)
		taps[o] = tap{i0, i1, float32(s - float64(i0))}
	}
	return taps
}

// parallel runs fn over [0, n) in one contiguous chunk per CPU. Used for
// whole-data-set passes done once, never per batch.
func parallel(n int, fn func(lo, hi int)) {
	t := min(runtime.GOMAXPROCS(0), max(n/256, 1))
	if t <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := range t {
		lo, hi := k*n/t, (k+1)*n/t
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// Config says which data to load and how to prepare it.
type Config struct {
	// Dir is the data directory; "" resolves through Dir (NASRUN_DATA, then
	// DefaultDir).
	Dir string
	// Validation is how many training examples are held out for validation
	// (stratified, seeded by Seed); 0 holds none out. The test split is never
	// touched by it.
	Validation int
	// Seed seeds the split.
	Seed uint64
	// Stats normalise the images; nil computes them from the training part
	// (after the validation examples are held out).
	Stats *Stats
	// H and W, when not 0, resize every image to H×W (bilinear, once), for
	// resolution scaling; 0 keeps the stored size.
	H, W int
	// SkipTest leaves the test split unread.
	SkipTest bool
}

// Splits are the prepared parts of a data set. Val is empty (N = 0) when no
// validation part was asked for, Test nil when skipped.
type Splits struct {
	Train, Val, Test *Dataset
	Stats            Stats
	Dir              string
}

// Load reads, splits, normalises and (optionally) resizes a data set.
func Load(cfg Config) (*Splits, error) {
	if cfg.H < 0 || cfg.W < 0 {
		return nil, fmt.Errorf("data: image size %dx%d must not be negative", cfg.H, cfg.W)
	}
	dir := Dir(cfg.Dir)
	// The test split decodes on another goroutine meanwhile.
	var rawTest *Raw
	testErr := make(chan error, 1)
	if cfg.SkipTest {
		testErr <- nil
	} else {
		go func() {
			var err error
			rawTest, err = ReadSplit(dir, Test)
			testErr <- err
		}()
	}
	raw, err := ReadSplit(dir, Train)
	if terr := <-testErr; err == nil {
		err = terr
	}
	if err != nil {
		return nil, err
	}
	if rawTest != nil {
		if rawTest.H != raw.H || rawTest.W != raw.W {
			return nil, fmt.Errorf("data: %w: test images are %dx%d, training images %dx%d",
				ErrCorrupt, rawTest.H, rawTest.W, raw.H, raw.W)
		}
	}
	trainIdx, valIdx, err := SplitIndices(raw.Labels, cfg.Validation, cfg.Seed)
	if err != nil {
		return nil, err
	}
	var st Stats
	if cfg.Stats != nil {
		st = *cfg.Stats
	} else {
		st = raw.Stats(trainIdx)
	}
	if !(st.Std > 0) {
		return nil, fmt.Errorf("data: standard deviation %v must be positive", st.Std)
	}
	s := &Splits{
		Train: raw.Normalize(trainIdx, st),
		Val:   raw.Normalize(valIdx, st),
		Stats: st,
		Dir:   dir,
	}
	if rawTest != nil {
		s.Test = rawTest.Normalize(nil, st)
	}
	h, w := cmp.Or(cfg.H, raw.H), cmp.Or(cfg.W, raw.W)
	if h != raw.H || w != raw.W {
		s.Train = s.Train.Resize(h, w)
		s.Val = s.Val.Resize(h, w)
		if s.Test != nil {
			s.Test = s.Test.Resize(h, w)
		}
	}
	return s, nil
}

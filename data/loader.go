package data

import (
	"fmt"
	"iter"
	"math/rand/v2"
)

// Augment is the light augmentation applied to training batches.
type Augment struct {
	// Flip mirrors each image left-right with probability 1/2.
	Flip bool
	// Pad > 0 shifts each image by a random offset in [-Pad, Pad] on both
	// axes, filling the uncovered border with black (a raw 0 pixel): a random
	// Pad-padded crop, like torchvision's RandomCrop(size, padding=Pad).
	Pad int
}

// LoaderConfig configures a Loader.
type LoaderConfig struct {
	// BatchSize is the number of examples per batch (at least 1).
	BatchSize int
	// Shuffle draws a new order each epoch from (Seed, epoch).
	Shuffle bool
	// Seed seeds the order and the augmentation.
	Seed uint64
	// Augment is applied per example (training only; leave zero to evaluate).
	Augment Augment
	// DropLast drops the last batch of an epoch when it is short.
	DropLast bool
	// Prefetch is how many batches are prepared ahead (at least 1; 0 means 1:
	// one batch in use by the caller, one being filled: double buffering).
	Prefetch int
}

// Batch is one batch: Images NHWC [N, H, W, C] and Labels [N], with the
// data set indices of its examples. A batch's slices are reused: they are
// valid until the next call to Next (or the next iteration).
type Batch struct {
	Images  []float32
	Labels  []int
	Indices []int
	N       int
	// Step is the batch's position in its epoch.
	Step int
}

// Loader prepares batches of a Dataset on a goroutine while the caller
// trains on the previous one. Its buffers are allocated once: a steady-state
// epoch allocates nothing per batch. A Loader is used by one goroutine; one
// epoch runs at a time.
type Loader struct {
	ds   *Dataset
	cfg  LoaderConfig
	bufs []*Batch
	perm []int

	free, ready chan *Batch
	stop        chan struct{}
	done        chan struct{}
	held        *Batch
	running     bool
}

// NewLoader returns a loader over ds.
func NewLoader(ds *Dataset, cfg LoaderConfig) (*Loader, error) {
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("data: batch size %d must be at least 1", cfg.BatchSize)
	}
	if cfg.Augment.Pad < 0 {
		return nil, fmt.Errorf("data: padding %d must not be negative", cfg.Augment.Pad)
	}
	cfg.Prefetch = max(cfg.Prefetch, 1)
	l := &Loader{ds: ds, cfg: cfg, perm: make([]int, ds.N)}
	size := ds.ImageSize()
	for range cfg.Prefetch + 1 {
		l.bufs = append(l.bufs, &Batch{
			Images:  make([]float32, cfg.BatchSize*size),
			Labels:  make([]int, cfg.BatchSize),
			Indices: make([]int, cfg.BatchSize),
		})
	}
	return l, nil
}

// Batches is the number of batches in an epoch.
func (l *Loader) Batches() int {
	if l.cfg.DropLast {
		return l.ds.N / l.cfg.BatchSize
	}
	return (l.ds.N + l.cfg.BatchSize - 1) / l.cfg.BatchSize
}

// Start begins producing the batches of an epoch. A running epoch is stopped
// first.
func (l *Loader) Start(epoch int) {
	l.Stop()
	for i := range l.perm {
		l.perm[i] = i
	}
	if l.cfg.Shuffle {
		rng := rand.New(rand.NewPCG(l.cfg.Seed, uint64(epoch)))
		rng.Shuffle(len(l.perm), func(i, j int) { l.perm[i], l.perm[j] = l.perm[j], l.perm[i] })
	}
	// Channels are made per epoch (not per batch); the batches are reused.
	l.free = make(chan *Batch, len(l.bufs))
	l.ready = make(chan *Batch, len(l.bufs))
	for _, b := range l.bufs {
		l.free <- b
	}
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	l.held = nil
	l.running = true
	// The augmentation stream is its own, so that turning shuffling on or
	// off does not change it.
	aug := rand.New(rand.NewPCG(l.cfg.Seed^0xa5a5a5a5, uint64(epoch)))
	go l.produce(aug)
}

// produce fills free batches in order and hands them over until the epoch
// ends or Stop is called.
func (l *Loader) produce(rng *rand.Rand) {
	defer close(l.done)
	defer close(l.ready)
	for step := range l.Batches() {
		var b *Batch
		select {
		case b = <-l.free:
		case <-l.stop:
			return
		}
		l.fill(b, step, rng)
		select {
		case l.ready <- b:
		case <-l.stop:
			return
		}
	}
}

// fill copies (and augments) the examples of batch step into b.
func (l *Loader) fill(b *Batch, step int, rng *rand.Rand) {
	bs := l.cfg.BatchSize
	lo := step * bs
	hi := min(lo+bs, l.ds.N)
	n := hi - lo
	size := l.ds.ImageSize()
	b.N, b.Step = n, step
	b.Images = b.Images[:cap(b.Images)][:n*size]
	b.Labels = b.Labels[:cap(b.Labels)][:n]
	b.Indices = b.Indices[:cap(b.Indices)][:n]
	aug := l.cfg.Augment
	for j, i := range l.perm[lo:hi] {
		b.Indices[j] = i
		b.Labels[j] = l.ds.Labels[i]
		dst := b.Images[j*size : (j+1)*size]
		if !aug.Flip && aug.Pad == 0 {
			copy(dst, l.ds.Image(i))
			continue
		}
		flip := aug.Flip && rng.IntN(2) == 1
		dy, dx := 0, 0
		if aug.Pad > 0 {
			dy = rng.IntN(2*aug.Pad+1) - aug.Pad
			dx = rng.IntN(2*aug.Pad+1) - aug.Pad
		}
		shiftFlip(dst, l.ds.Image(i), l.ds.H, l.ds.W, l.ds.C, dy, dx, flip, l.ds.Stats.Black())
	}
}

// shiftFlip writes dst[y][x] = src[y+dy][x'+dx], with x' = W-1-x when flip
// and x otherwise, and fill where that lies outside the image.
func shiftFlip(dst, src []float32, h, w, c, dy, dx int, flip bool, fill float32) {
	// Columns x0 <= x < x1 read inside the source row, for either direction.
	x0, x1 := max(0, -dx), min(w, w-dx)
	if flip {
		x0, x1 = max(0, dx), min(w, w+dx)
	}
	x1 = max(x0, x1)
	for y := range h {
		row := dst[y*w*c : (y+1)*w*c]
		sy := y + dy
		if sy < 0 || sy >= h {
			fillSlice(row, fill)
			continue
		}
		srow := src[sy*w*c : (sy+1)*w*c]
		fillSlice(row[:x0*c], fill)
		fillSlice(row[x1*c:], fill)
		switch {
		case !flip:
			copy(row[x0*c:x1*c], srow[(x0+dx)*c:(x1+dx)*c])
		case c == 1:
			for x := x0; x < x1; x++ {
				row[x] = srow[w-1-x+dx]
			}
		default:
			for x := x0; x < x1; x++ {
				sx := w - 1 - x + dx
				copy(row[x*c:(x+1)*c], srow[sx*c:(sx+1)*c])
			}
		}
	}
}

// fillSlice sets every element of s to v.
func fillSlice(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}

// Next returns the next batch of the running epoch, or false when the epoch
// is over (or was never started). The batch returned before is recycled:
// its contents are overwritten from here on.
func (l *Loader) Next() (*Batch, bool) {
	if !l.running {
		return nil, false
	}
	if l.held != nil {
		l.free <- l.held // never blocks: capacity is the number of batches
		l.held = nil
	}
	b, ok := <-l.ready
	if !ok {
		l.Stop()
		return nil, false
	}
	l.held = b
	return b, true
}

// Stop ends the running epoch, if any, and waits for the producing goroutine
// to exit. Calling it again, or with no epoch running, does nothing.
func (l *Loader) Stop() {
	if !l.running {
		return
	}
	close(l.stop)
	<-l.done
	l.running = false
	l.held = nil
}

// Epoch returns the batches of an epoch as an iterator; breaking out of the
// loop stops the producer.
//
//	for b := range loader.Epoch(e) { step(b.Images, b.Labels) }
func (l *Loader) Epoch(epoch int) iter.Seq[*Batch] {
	return func(yield func(*Batch) bool) {
		l.Start(epoch)
		defer l.Stop()
		for {
			b, ok := l.Next()
			if !ok || !yield(b) {
				return
			}
		}
	}
}

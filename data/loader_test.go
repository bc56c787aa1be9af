package data

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// seqSet is a data set whose image i holds i*1000 + pixel index, so a batch
// tells which example and which pixel each value came from.
func seqSet(n, h, w, c int) *Dataset {
	d := &Dataset{Images: make([]float32, n*h*w*c), Labels: make([]int, n), N: n, H: h, W: w, C: c, Stats: Stats{Mean: 0.5, Std: 0.25}}
	size := h * w * c
	for i := range n {
		for k := range size {
			d.Images[i*size+k] = float32(i*1000 + k)
		}
		d.Labels[i] = i % Classes
	}
	return d
}

func TestLoaderCoversEpoch(t *testing.T) {
	d := seqSet(103, 3, 2, 1)
	for _, cfg := range []LoaderConfig{
		{BatchSize: 10},
		{BatchSize: 10, Shuffle: true, Seed: 5},
		{BatchSize: 7, Shuffle: true, Seed: 5, Prefetch: 3},
		{BatchSize: 1000},
	} {
		l, err := NewLoader(d, cfg)
		require.NoError(t, err)
		var orders [][]int
		for epoch := range 3 {
			var seen []int
			steps := 0
			for b := range l.Epoch(epoch) {
				require.Equal(t, steps, b.Step)
				require.Equal(t, b.N, len(b.Labels))
				require.Equal(t, b.N*d.ImageSize(), len(b.Images))
				if steps < l.Batches()-1 {
					require.Equal(t, cfg.BatchSize, b.N)
				}
				for j, i := range b.Indices {
					require.Equal(t, d.Labels[i], b.Labels[j])
					require.Equal(t, d.Image(i), b.Images[j*d.ImageSize():(j+1)*d.ImageSize()])
				}
				seen = append(seen, b.Indices...)
				steps++
			}
			require.Equal(t, l.Batches(), steps)
			orders = append(orders, slices.Clone(seen))
			slices.Sort(seen)
			require.Len(t, seen, d.N)
			for i, v := range seen {
				require.Equal(t, i, v, "each example once per epoch")
			}
		}
		if cfg.Shuffle {
			require.NotEqual(t, orders[0], orders[1], "a new order each epoch")
			// The same seed and epoch give the same order.
			l2, err := NewLoader(d, cfg)
			require.NoError(t, err)
			var again []int
			for b := range l2.Epoch(1) {
				again = append(again, b.Indices...)
			}
			require.Equal(t, orders[1], again)
		} else {
			require.True(t, slices.IsSorted(orders[0]))
		}
	}
}

func TestLoaderDropLast(t *testing.T) {
	l, err := NewLoader(seqSet(25, 1, 1, 1), LoaderConfig{BatchSize: 10, DropLast: true})
	require.NoError(t, err)
	require.Equal(t, 2, l.Batches())
	n := 0
	for b := range l.Epoch(0) {
		require.Equal(t, 10, b.N)
		n++
	}
	require.Equal(t, 2, n)
	_, err = NewLoader(seqSet(1, 1, 1, 1), LoaderConfig{})
	require.Error(t, err)
	_, err = NewLoader(seqSet(1, 1, 1, 1), LoaderConfig{BatchSize: 1, Augment: Augment{Pad: -1}})
	require.Error(t, err)
}

func TestLoaderStop(t *testing.T) {
	l, err := NewLoader(seqSet(100, 2, 2, 1), LoaderConfig{BatchSize: 3, Shuffle: true})
	require.NoError(t, err)
	// Breaking out of the loop stops the producer; the next epoch is whole.
	for b := range l.Epoch(0) {
		if b.Step == 2 {
			break
		}
	}
	require.False(t, l.running)
	n := 0
	for range l.Epoch(1) {
		n++
	}
	require.Equal(t, l.Batches(), n)
	// Manual use: Start, a few Next, Stop twice, Next after Stop.
	l.Start(2)
	_, ok := l.Next()
	require.True(t, ok)
	l.Start(3) // restarts
	b, ok := l.Next()
	require.True(t, ok)
	require.Equal(t, 0, b.Step)
	l.Stop()
	l.Stop()
	_, ok = l.Next()
	require.False(t, ok)
}

func TestShiftFlip(t *testing.T) {
	// 2 rows, 3 columns, 2 channels: value = 10*y + x, channel 1 negated.
	src := make([]float32, 2*3*2)
	for y := range 2 {
		for x := range 3 {
			src[(y*3+x)*2] = float32(10*y + x)
			src[(y*3+x)*2+1] = -float32(10*y + x)
		}
	}
	dst := make([]float32, len(src))
	ref := func(dy, dx int, flip bool) []float32 {
		out := make([]float32, len(src))
		for y := range 2 {
			for x := range 3 {
				sx := x
				if flip {
					sx = 2 - x
				}
				sy, sx := y+dy, sx+dx
				for k := range 2 {
					v := float32(99)
					if sy >= 0 && sy < 2 && sx >= 0 && sx < 3 {
						v = src[(sy*3+sx)*2+k]
					}
					out[(y*3+x)*2+k] = v
				}
			}
		}
		return out
	}
	for dy := -2; dy <= 2; dy++ {
		for dx := -3; dx <= 3; dx++ {
			for _, flip := range []bool{false, true} {
				shiftFlip(dst, src, 2, 3, 2, dy, dx, flip, 99)
				require.Equal(t, ref(dy, dx, flip), dst, "dy=%d dx=%d flip=%v", dy, dx, flip)
			}
		}
	}
	shiftFlip(dst, src, 2, 3, 2, 0, 0, true, 99)
	require.Equal(t, []float32{2, -2, 1, -1, 0, 0, 12, -12, 11, -11, 10, -10}, dst)
}

func TestAugmentSeeded(t *testing.T) {
	d := seqSet(64, 5, 5, 1)
	collect := func(cfg LoaderConfig, epoch int) []float32 {
		l, err := NewLoader(d, cfg)
		require.NoError(t, err)
		var out []float32
		for b := range l.Epoch(epoch) {
			out = append(out, b.Images...)
		}
		return out
	}
	cfg := LoaderConfig{BatchSize: 8, Seed: 11, Augment: Augment{Flip: true, Pad: 2}}
	a := collect(cfg, 0)
	require.Equal(t, a, collect(cfg, 0), "same seed and epoch, same augmentation")
	require.NotEqual(t, a, collect(cfg, 1), "another epoch, other augmentation")
	cfg.Seed = 12
	require.NotEqual(t, a, collect(cfg, 0), "another seed, other augmentation")
	plain := collect(LoaderConfig{BatchSize: 8}, 0)
	require.Equal(t, d.Images, plain)

	// Each augmented image is some shift/flip of its source with black fill,
	// and both flips and several shifts occur.
	black := d.Stats.Black()
	size := d.ImageSize()
	kinds := map[[3]int]bool{}
	for i := range d.N {
		got := a[i*size : (i+1)*size]
		found := false
		for dy := -2; dy <= 2 && !found; dy++ {
			for dx := -2; dx <= 2 && !found; dx++ {
				for _, flip := range []bool{false, true} {
					want := make([]float32, size)
					shiftFlip(want, d.Image(i), 5, 5, 1, dy, dx, flip, black)
					if slices.Equal(want, got) {
						f := 0
						if flip {
							f = 1
						}
						kinds[[3]int{dy, dx, f}] = true
						found = true
						break
					}
				}
			}
		}
		require.True(t, found, "image %d", i)
	}
	require.Greater(t, len(kinds), 10)
}

func TestLoaderNoAllocs(t *testing.T) {
	d := seqSet(10000, 8, 8, 1)
	l, err := NewLoader(d, LoaderConfig{BatchSize: 16, Shuffle: true, Augment: Augment{Flip: true, Pad: 2}})
	require.NoError(t, err)
	l.Start(0)
	defer l.Stop()
	_, ok := l.Next()
	require.True(t, ok)
	allocs := testing.AllocsPerRun(200, func() {
		if _, ok := l.Next(); !ok {
			t.Fatal("epoch ended early")
		}
	})
	require.Zero(t, allocs, "steady-state batches allocate nothing")
}

func BenchmarkLoader(b *testing.B) {
	d := seqSet(4096, 28, 28, 1)
	l, err := NewLoader(d, LoaderConfig{BatchSize: 64, Shuffle: true, Augment: Augment{Flip: true, Pad: 2}})
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(64 * d.ImageSize() * 4))
	epoch := 0
	l.Start(epoch)
	for b.Loop() {
		if _, ok := l.Next(); !ok {
			epoch++
			l.Start(epoch)
		}
	}
	l.Stop()
}

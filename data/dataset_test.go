package data

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeSet writes a small MNIST-style data set into dir: n training and m
// test images of h×w, labels i%10, pixel k of image i = (i*31 + k) % 256.
// gz chooses gzip or raw files.
func fakeSet(t testing.TB, dir string, n, m, h, w int, gz bool) {
	for _, s := range []struct {
		split Split
		n     int
	}{{Train, n}, {Test, m}} {
		pix := make([]byte, s.n*h*w)
		for i := range s.n {
			for k := range h * w {
				pix[i*h*w+k] = byte((i*31 + k) % 256)
			}
		}
		lbl := make([]byte, s.n)
		for i := range lbl {
			lbl[i] = byte(i % 10)
		}
		img := idxBytes([]uint32{uint32(s.n), uint32(h), uint32(w)}, pix)
		lab := idxBytes([]uint32{uint32(s.n)}, lbl)
		in, ln := fileNames(s.split, "images")[1], fileNames(s.split, "labels")[1]
		if gz {
			img, lab = gzipBytes(t, img), gzipBytes(t, lab)
			in, ln = in+".gz", ln+".gz"
		}
		writeFile(t, filepath.Join(dir, in), img)
		writeFile(t, filepath.Join(dir, ln), lab)
	}
}

func TestDir(t *testing.T) {
	t.Setenv(EnvVar, "")
	require.Equal(t, DefaultDir, Dir(""))
	t.Setenv(EnvVar, "/from/env")
	require.Equal(t, "/from/env", Dir(""))
	require.Equal(t, "/from/flag", Dir("/from/flag"))
}

func TestReadSplit(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		fakeSet(t, dir, 30, 20, 4, 3, gz)
		r, err := ReadSplit(dir, Train)
		require.NoError(t, err)
		require.Equal(t, 30, r.N)
		require.Equal(t, 4, r.H)
		require.Equal(t, 3, r.W)
		require.Equal(t, byte(31%256), r.Pixels[12])
		require.Equal(t, byte(7), r.Labels[17])
		r, err = ReadSplit(dir, Test)
		require.NoError(t, err)
		require.Equal(t, 20, r.N)
	}
}

func TestMissingData(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent")
	_, err := Load(Config{Dir: missing})
	require.ErrorIs(t, err, ErrNotFound)
	for _, want := range []string{missing, "sudo apt-get install dataset-fashion-mnist", "--data", EnvVar} {
		require.Contains(t, err.Error(), want)
	}
	// NASRUN_DATA is consulted when no directory is given.
	t.Setenv(EnvVar, missing)
	_, err = Load(Config{})
	require.ErrorIs(t, err, ErrNotFound)
	require.Contains(t, err.Error(), missing)

	// A directory without the labels file.
	dir := t.TempDir()
	fakeSet(t, dir, 10, 10, 2, 2, true)
	require.NoError(t, os.Remove(filepath.Join(dir, "train-labels-idx1-ubyte.gz")))
	_, err = ReadSplit(dir, Train)
	require.ErrorIs(t, err, ErrNotFound)
	require.Contains(t, err.Error(), "train-labels-idx1-ubyte.gz")
	require.Contains(t, err.Error(), "sudo apt-get install dataset-fashion-mnist")

	// A file where the directory should be.
	file := filepath.Join(dir, "train-images-idx3-ubyte.gz")
	_, err = ReadSplit(file, Train)
	require.ErrorIs(t, err, ErrNotFound)
	require.Contains(t, err.Error(), "not a directory")
}

func TestReadSplitCorrupt(t *testing.T) {
	cases := []struct {
		name     string
		file     string // which file is replaced
		contents []byte
		want     string
	}{
		{"labels count", "train-labels-idx1-ubyte", idxBytes([]uint32{9}, make([]byte, 9)), "9 labels for the 10 images"},
		{"label too big", "train-labels-idx1-ubyte", idxBytes([]uint32{10}, []byte{0, 1, 2, 3, 10, 5, 6, 7, 8, 9}), "label 10 of example 4 is not below 10 classes"},
		{"images 2-D", "train-images-idx3-ubyte", idxBytes([]uint32{10, 4}, make([]byte, 40)), "images need 3 dimensions"},
		{"labels 2-D", "train-labels-idx1-ubyte", idxBytes([]uint32{10, 1}, make([]byte, 10)), "labels need 1 dimension"},
		{"empty images", "train-images-idx3-ubyte", idxBytes([]uint32{10, 0, 2}, nil), "empty images"},
		{"truncated images", "train-images-idx3-ubyte", idxBytes([]uint32{10, 2, 2}, make([]byte, 39)), "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fakeSet(t, dir, 10, 10, 2, 2, false)
			path := filepath.Join(dir, c.file)
			writeFile(t, path, c.contents)
			_, err := ReadSplit(dir, Train)
			require.ErrorIs(t, err, ErrCorrupt)
			require.Contains(t, err.Error(), path)
			require.Contains(t, err.Error(), c.want)
		})
	}
}

func TestStatsAndNormalize(t *testing.T) {
	r := &Raw{Pixels: []byte{0, 255, 0, 255, 51, 51, 51, 51}, Labels: []byte{1, 2}, N: 2, H: 2, W: 2}
	s := r.Stats(nil)
	require.InDelta(t, (0.5+0.2)/2, float64(s.Mean), 1e-6)
	require.InDelta(t, math.Sqrt((1*2+0.04*4)/8-0.35*0.35), float64(s.Std), 1e-6)
	s = r.Stats([]int{1})
	require.InDelta(t, 0.2, float64(s.Mean), 1e-6)
	require.Equal(t, float32(1), s.Std, "constant images get std 1, not a division by 0")

	d := r.Normalize([]int{1, 0}, FashionMNISTStats)
	require.Equal(t, 2, d.N)
	require.Equal(t, 1, d.C)
	require.Equal(t, []int{2, 1}, d.Labels)
	require.InDelta(t, (0.2-0.2860)/0.3530, float64(d.Images[0]), 1e-6)
	require.InDelta(t, (1-0.2860)/0.3530, float64(d.Image(1)[1]), 1e-6)
	require.InDelta(t, -0.2860/0.3530, float64(d.Image(1)[0]), 1e-6)
	require.Equal(t, FashionMNISTStats.Black(), d.Image(1)[0])
}

func TestSplitIndices(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	labels := make([]uint8, 1003)
	for i := range labels {
		labels[i] = uint8(rng.IntN(10))
	}
	train, val, err := SplitIndices(labels, 101, 7)
	require.NoError(t, err)
	require.Len(t, val, 101)
	require.Len(t, train, 1003-101)
	require.True(t, slices.IsSorted(train))
	require.True(t, slices.IsSorted(val))
	all := append(slices.Clone(train), val...)
	slices.Sort(all)
	for i, v := range all {
		require.Equal(t, i, v, "the parts are disjoint and cover everything")
	}
	// Deterministic for a seed, different for another.
	train2, val2, err := SplitIndices(labels, 101, 7)
	require.NoError(t, err)
	require.Equal(t, train, train2)
	require.Equal(t, val, val2)
	_, val3, err := SplitIndices(labels, 101, 8)
	require.NoError(t, err)
	require.NotEqual(t, val, val3)
	// Stratified: each class gives about its share.
	var hAll, hVal [10]int
	for _, l := range labels {
		hAll[l]++
	}
	for _, i := range val {
		hVal[labels[i]]++
	}
	for c := range 10 {
		share := float64(hAll[c]) * 101 / 1003
		require.InDelta(t, share, float64(hVal[c]), 1, "class %d", c)
	}
	// Edges.
	train, val, err = SplitIndices(labels, 0, 1)
	require.NoError(t, err)
	require.Len(t, train, 1003)
	require.Empty(t, val)
	_, val, err = SplitIndices(labels, 1003, 1)
	require.NoError(t, err)
	require.Len(t, val, 1003)
	_, _, err = SplitIndices(labels, 1004, 1)
	require.Error(t, err)
	_, _, err = SplitIndices([]int{3, 11}, 1, 1)
	require.Error(t, err)
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	fakeSet(t, dir, 100, 30, 6, 5, true)
	s, err := Load(Config{Dir: dir, Validation: 20, Seed: 3})
	require.NoError(t, err)
	require.Equal(t, 80, s.Train.N)
	require.Equal(t, 20, s.Val.N)
	require.Equal(t, 30, s.Test.N)
	require.Equal(t, []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, s.Val.Histogram())
	// Stats come from the training part only.
	raw, err := ReadSplit(dir, Train)
	require.NoError(t, err)
	trainIdx, _, err := SplitIndices(raw.Labels, 20, 3)
	require.NoError(t, err)
	require.Equal(t, raw.Stats(trainIdx), s.Stats)
	// The training part normalised to zero mean, unit variance.
	var sum, sq float64
	for _, v := range s.Train.Images {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(s.Train.Images))
	require.InDelta(t, 0, sum/n, 1e-4)
	require.InDelta(t, 1, sq/n, 1e-3)

	// Fixed stats, resizing, skipped test split.
	s, err = Load(Config{Dir: dir, Stats: &MNISTStats, H: 8, W: 9, SkipTest: true})
	require.NoError(t, err)
	require.Nil(t, s.Test)
	require.Equal(t, 0, s.Val.N)
	require.Equal(t, MNISTStats, s.Train.Stats)
	require.Equal(t, 8, s.Train.H)
	require.Equal(t, 9, s.Train.W)
	require.Len(t, s.Train.Images, 100*72)
	s, err = Load(Config{Dir: dir, H: 12, Validation: 10})
	require.NoError(t, err)
	for _, d := range []*Dataset{s.Train, s.Val, s.Test} {
		require.Equal(t, 12, d.H)
		require.Equal(t, 5, d.W, "W 0 keeps the stored width")
	}

	_, err = Load(Config{Dir: dir, W: -1})
	require.Error(t, err)
	_, err = Load(Config{Dir: dir, Stats: &Stats{Mean: 0, Std: 0}})
	require.Error(t, err)
}

func TestResizeMatchesPyTorch(t *testing.T) {
	// torch.nn.functional.interpolate(torch.arange(12.).reshape(1,1,3,4),
	// size=..., mode='bilinear', align_corners=False), PyTorch 1.13.
	up := []float64{0.0, 0.3571428954601288, 0.9285714626312256, 1.5000001192092896, 2.0714287757873535, 2.642857313156128, 3.0, 1.6000001430511475, 1.957142949104309, 2.528571605682373, 3.1000001430511475, 3.671428918838501, 4.242857456207275, 4.600000381469727, 4.0, 4.357142925262451, 4.928571701049805, 5.5, 6.071429252624512, 6.642857551574707, 7.000000476837158, 6.40000057220459, 6.757143020629883, 7.328571796417236, 7.90000057220459, 8.471428871154785, 9.042858123779297, 9.40000057220459, 8.0, 8.357142448425293, 8.928571701049805, 9.5, 10.071429252624512, 10.642857551574707, 11.0}
	down := []float64{1.1666667461395264, 2.5, 3.8333334922790527, 7.1666669845581055, 8.5, 9.833333015441895}
	d := &Dataset{Images: make([]float32, 2*12), Labels: []int{4, 5}, N: 2, H: 3, W: 4, C: 1}
	for i := range 12 {
		d.Images[i] = float32(i)
		d.Images[12+i] = float32(2 * i)
	}
	for _, c := range []struct {
		h, w int
		want []float64
	}{{5, 7, up}, {2, 3, down}} {
		r := d.Resize(c.h, c.w)
		require.Equal(t, []int{4, 5}, r.Labels)
		require.Equal(t, c.h, r.H)
		require.Equal(t, c.w, r.W)
		for k, v := range c.want {
			require.InDelta(t, v, float64(r.Image(0)[k]), 1e-5)
			require.InDelta(t, 2*v, float64(r.Image(1)[k]), 2e-5)
		}
	}
	// Same size is the identity; channels interpolate independently.
	require.Equal(t, d.Images, d.Resize(3, 4).Images)
	c2 := &Dataset{Images: make([]float32, 3*4*2), Labels: []int{0}, N: 1, H: 3, W: 4, C: 2}
	for i := range 12 {
		c2.Images[2*i], c2.Images[2*i+1] = float32(i), float32(-i)
	}
	r := c2.Resize(5, 7)
	for k, v := range up {
		require.InDelta(t, v, float64(r.Images[2*k]), 1e-5)
		require.InDelta(t, -v, float64(r.Images[2*k+1]), 1e-5)
	}
}

func TestSubset(t *testing.T) {
	d := &Dataset{Images: []float32{1, 2, 3, 4, 5, 6}, Labels: []int{7, 8, 9}, N: 3, H: 1, W: 2, C: 1}
	s := d.Subset([]int{2, 0})
	require.Equal(t, []float32{5, 6, 1, 2}, s.Images)
	require.Equal(t, []int{9, 7}, s.Labels)
	require.Equal(t, 2, s.N)
}

// TestFashionMNIST reads the real data set where Debian's
// dataset-fashion-mnist package is installed (CI installs it).
func TestFashionMNIST(t *testing.T) {
	if _, err := os.Stat(DefaultDir); err != nil {
		t.Skipf("Fashion-MNIST not installed at %s (sudo apt-get install dataset-fashion-mnist): %v", DefaultDir, err)
	}
	for _, c := range []struct {
		split Split
		n     int
	}{{Train, 60000}, {Test, 10000}} {
		r, err := ReadSplit(DefaultDir, c.split)
		require.NoError(t, err)
		require.Equal(t, c.n, r.N)
		require.Equal(t, 28, r.H)
		require.Equal(t, 28, r.W)
		var hist [10]int
		for _, l := range r.Labels {
			hist[l]++
		}
		for k, h := range hist {
			require.Equal(t, c.n/10, h, "class %d of %s", k, c.split)
		}
		if c.split == Train {
			s := r.Stats(nil)
			require.InDelta(t, FashionMNISTStats.Mean, s.Mean, 5e-4)
			require.InDelta(t, FashionMNISTStats.Std, s.Std, 5e-4)
		}
	}
	s, err := Load(Config{Dir: DefaultDir, Validation: 5000, Seed: 1, Stats: &FashionMNISTStats})
	require.NoError(t, err)
	require.Equal(t, 55000, s.Train.N)
	require.Equal(t, 5000, s.Val.N)
	require.Equal(t, 10000, s.Test.N)
	for _, h := range s.Val.Histogram() {
		require.Equal(t, 500, h)
	}
}

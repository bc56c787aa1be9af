package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/nasrun/nasrun/data"
	"github.com/stretchr/testify/require"
)

// fakeData writes a small Fashion-MNIST-shaped data set (raw IDX files) of
// textured 28×28 images — stripes whose direction is the class — and
// returns its directory.
func fakeData(t *testing.T, nTrain, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	write := func(split string, n int) {
		imgs := make([]byte, n*28*28)
		labels := make([]byte, n)
		for i := range n {
			k := rng.IntN(3)
			labels[i] = byte(k)
			for y := range 28 {
				for x := range 28 {
					v := rng.IntN(60)
					if [3]int{y, x, x + y}[k]%4 < 2 {
						v += 150
					}
					imgs[i*784+y*28+x] = byte(v)
				}
			}
		}
		var b bytes.Buffer
		require.NoError(t, data.EncodeIDX(&b, []int{n, 28, 28}, imgs))
		require.NoError(t, os.WriteFile(filepath.Join(dir, split+"-images-idx3-ubyte"), b.Bytes(), 0o644))
		b.Reset()
		require.NoError(t, data.EncodeIDX(&b, []int{n}, labels))
		require.NoError(t, os.WriteFile(filepath.Join(dir, split+"-labels-idx1-ubyte"), b.Bytes(), 0o644))
	}
	write("train", nTrain)
	write("t10k", nTest)
	return dir
}

// tinyArch writes a small genome for 28×28×1 images and returns its path.
func tinyArch(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"version": 1, "name": "tiny", "input": {"h": 28, "w": 28, "c": 1}, "classes": 10,
	 "stem": {"c": 8, "k": 3, "stride": 2, "act": "relu"},
	 "stages": [{"block": "mbconv", "k": 3, "expand": 3, "c": 16, "width": 1, "layers": 1, "stride": 2, "se": 0.25, "act": "hswish"},
	            {"block": "ghost", "k": 5, "expand": 3, "c": 16, "width": 1, "layers": 1, "stride": 2, "se": 0, "act": "relu"}],
	 "head": {"c": 32, "act": "hswish", "dropout": 0.1}}`), 0o644))
	return path
}

// skipShort skips an end-to-end test that trains networks when the suite
// runs with -short, as it does under qemu user emulation (make test-arm):
// the commands' logic is the same on every architecture and the native run
// covers it; under emulation it would take an hour of CPU.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end training run: covered by the native (non -short) run")
	}
}

// nasrun runs the command line in-process and returns stdout, stderr and
// the exit code.
func nasrun(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

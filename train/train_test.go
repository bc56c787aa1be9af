package train

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nasrun/nasrun/data"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/nn"
	"github.com/stretchr/testify/require"
)

// tinyGenome is a small network for 8×8×1 images of 3 classes.
func tinyGenome(t *testing.T) nas.Genome {
	g, err := nas.Parse([]byte(`{"version": 1, "input": {"h": 8, "w": 8, "c": 1}, "classes": 3,
	 "stem": {"c": 8, "k": 3, "stride": 1, "act": "relu"},
	 "stages": [{"block": "mbconv", "k": 3, "expand": 3, "c": 8, "width": 1, "layers": 1, "stride": 2, "se": 0.25, "act": "hswish"}],
	 "head": {"c": 16, "act": "hswish", "dropout": 0.1}}`))
	require.NoError(t, err)
	return g
}

// blobs is a separable synthetic data set of textures (a global average
// pool keeps texture, not position): class 0 has horizontal stripes, 1
// vertical stripes, 2 diagonal ones, all under noise.
func blobs(n int, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 0))
	d := &data.Dataset{N: n, H: 8, W: 8, C: 1, Images: make([]float32, n*64), Labels: make([]int, n), Stats: data.Stats{Std: 1}}
	for i := range n {
		k := rng.IntN(3)
		d.Labels[i] = k
		img := d.Image(i)
		phase := rng.IntN(2)
		for y := range 8 {
			for x := range 8 {
				on := [3]int{y, x, x + y}[k]%2 == phase
				v := float32(rng.NormFloat64()) * 0.5
				if on {
					v += 1.5
				}
				img[y*8+x] = v
			}
		}
	}
	return d
}

func newNet(t *testing.T) *nn.Network {
	net, err := nas.Build(tinyGenome(t), rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	return net
}

func recipe(epochs int) Recipe {
	r := DefaultRecipe()
	r.Epochs, r.BatchSize, r.LR, r.Seed, r.CropPad = epochs, 16, 0.1, 5, 1
	return r
}

func TestTrainLearnsAndReports(t *testing.T) {
	net := newNet(t)
	var reports []Progress
	tr := &Trainer{Net: net, Recipe: recipe(4), Train: blobs(640, 1), Val: blobs(90, 2),
		Progress: func(p Progress) { reports = append(reports, p) }}
	res, err := tr.Run(context.Background())
	require.NoError(t, err)
	require.Len(t, res.EpochValAcc, 4)
	require.Greater(t, res.ValAcc, 0.9, "a separable task is learned")
	require.Equal(t, 4*40, res.Steps)
	require.Greater(t, res.ImagesPerS, 0.0)
	last := reports[len(reports)-1]
	require.Equal(t, 4, last.Epoch)
	require.True(t, last.EpochDone)
	require.InDelta(t, res.ValAcc, last.ValAcc, 1e-12)
	acc, err := Evaluate(net, blobs(90, 2), 7)
	require.NoError(t, err)
	require.InDelta(t, res.ValAcc, acc, 1e-9, "batch size does not change eval-mode accuracy")
}

func TestResumeRepeatsAnUninterruptedRun(t *testing.T) {
	train, val := blobs(160, 3), blobs(40, 4)
	full := newNet(t)
	_, err := (&Trainer{Net: full, Recipe: recipe(3), Train: train, Val: val}).Run(context.Background())
	require.NoError(t, err)

	// Interrupt after the first epoch (cancel from the progress callback),
	// then resume in a fresh network from the checkpoint.
	ck := filepath.Join(t.TempDir(), "ck.safetensors")
	ctx, cancel := context.WithCancel(context.Background())
	part := newNet(t)
	_, err = (&Trainer{Net: part, Recipe: recipe(3), Train: train, Val: val, Checkpoint: ck,
		Progress: func(p Progress) {
			if p.EpochDone && p.Epoch == 1 {
				cancel()
			}
		}}).Run(ctx)
	require.ErrorIs(t, err, context.Canceled)
	resumed := newNet(t)
	res, err := (&Trainer{Net: resumed, Recipe: recipe(3), Train: train, Val: val, Checkpoint: ck, Resume: true}).Run(context.Background())
	require.NoError(t, err)
	require.Len(t, res.EpochValAcc, 3)
	for i, e := range full.Entries() {
		require.Equal(t, e.Value.Data, resumed.Entries()[i].Value.Data, "%s differs after resume", e.Name)
	}

	other := recipe(3)
	other.LR = 0.05
	_, err = (&Trainer{Net: newNet(t), Recipe: other, Train: train, Checkpoint: ck, Resume: true}).Run(context.Background())
	require.ErrorContains(t, err, "another recipe")
}

func TestDivergenceStopsWithClearErrorAndKeepsCheckpoint(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "ck.safetensors")
	r := recipe(2)
	r.Schedule, r.LR, r.Optimizer = "constant", 1e4, "sgd"
	_, err := (&Trainer{Net: newNet(t), Recipe: r, Train: blobs(64, 1), Checkpoint: ck}).Run(context.Background())
	require.Error(t, err)
	require.True(t, errors.Is(err, ErrDiverged), "%v", err)
	require.ErrorContains(t, err, "epoch 1")
	_, statErr := os.Stat(ck)
	require.True(t, os.IsNotExist(statErr), "no epoch finished, so no checkpoint was written")
}

// bnStats returns copies of net's running batch-norm statistics, by name.
func bnStats(net *nn.Network) map[string][]float32 {
	out := map[string][]float32{}
	net.Root.Visit("", func(e nn.Entry) {
		if strings.HasSuffix(e.Name, "running_mean") || strings.HasSuffix(e.Name, "running_var") {
			out[e.Name] = slices.Clone(e.Value.Data)
		}
	})
	return out
}

func TestRecalibrateBatchNorm(t *testing.T) {
	ds := blobs(200, 3)
	net := newNet(t)
	require.NoError(t, RecalibrateBatchNorm(net, ds, 16, 5, 1))
	want := bnStats(net)
	require.NotEmpty(t, want)
	// The result is an average over the batches, whatever the statistics
	// were before.
	net.Root.Visit("", func(e nn.Entry) {
		if strings.HasSuffix(e.Name, "running_mean") || strings.HasSuffix(e.Name, "running_var") {
			e.Value.Fill(100)
		}
	})
	require.NoError(t, RecalibrateBatchNorm(net, ds, 16, 5, 1))
	require.Equal(t, want, bnStats(net))
	// More batches, another average.
	require.NoError(t, RecalibrateBatchNorm(net, ds, 16, 9, 1))
	require.NotEqual(t, want, bnStats(net))

	// A recipe with BNBatches trains the same weights and ends with the
	// recalibrated statistics.
	plain, recal := newNet(t), newNet(t)
	r := recipe(2)
	_, err := (&Trainer{Net: plain, Recipe: r, Train: ds}).Run(context.Background())
	require.NoError(t, err)
	r.BNBatches = 4
	_, err = (&Trainer{Net: recal, Recipe: r, Train: ds}).Run(context.Background())
	require.NoError(t, err)
	require.NotEqual(t, bnStats(plain), bnStats(recal))
	require.NoError(t, RecalibrateBatchNorm(plain, ds, r.BatchSize, 4, r.Seed))
	require.Equal(t, bnStats(plain), bnStats(recal))
	pw, rw := plain.ParamVars(), recal.ParamVars()
	for i := range pw {
		require.Equal(t, pw[i].Value.Data, rw[i].Value.Data)
	}
}

func TestRecipeValidate(t *testing.T) {
	for _, c := range []struct {
		edit func(*Recipe)
		want string
	}{
		{func(r *Recipe) { r.Epochs = 0 }, "epochs"},
		{func(r *Recipe) { r.Optimizer = "lbfgs" }, `optimizer "lbfgs"`},
		{func(r *Recipe) { r.LR = 0 }, "learning rate"},
		{func(r *Recipe) { r.Schedule = "step" }, `schedule "step"`},
		{func(r *Recipe) { r.LabelSmoothing = 1 }, "label smoothing"},
		{func(r *Recipe) { r.BNBatches = -1 }, "batch-norm batches"},
	} {
		r := DefaultRecipe()
		c.edit(&r)
		require.ErrorContains(t, r.Validate(), c.want)
	}
	_, err := (&Trainer{Net: newNet(t), Recipe: recipe(1), Train: blobs(8, 1)}).Run(context.Background())
	require.ErrorContains(t, err, "smaller than one batch")
}

// Package train trains and evaluates an nn.Network on a data set: the loop
// behind `nasrun train`, the search's proxy training and its final
// re-training. It owns the recipe (optimizer, schedule, label smoothing,
// augmentation), progress reporting, divergence detection and
// checkpoint/resume.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/data"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/tensor"
)

// Recipe is how a network is trained.
type Recipe struct {
	Epochs         int     `json:"epochs"`
	BatchSize      int     `json:"batch"`
	Optimizer      string  `json:"optimizer"` // "sgd" or "adamw"
	LR             float64 `json:"lr"`        // peak learning rate
	Momentum       float64 `json:"momentum"`  // SGD momentum
	Nesterov       bool    `json:"nesterov"`
	WeightDecay    float64 `json:"weight_decay"`
	Schedule       string  `json:"schedule"` // "onecycle", "cosine" or "constant"
	LabelSmoothing float64 `json:"label_smoothing"`
	Flip           bool    `json:"flip"`     // random horizontal flip
	CropPad        int     `json:"crop_pad"` // random crop after zero padding by this much
	ClipNorm       float64 `json:"clip_norm,omitempty"`
	// BNBatches, when positive, recomputes the batch-norm statistics after
	// the last epoch as the exact average over that many training batches
	// (see RecalibrateBatchNorm).
	BNBatches int    `json:"bn_batches,omitempty"`
	Seed      uint64 `json:"seed"`
}

// DefaultRecipe is the reference recipe of the issue and of the PyTorch
// baseline: SGD with Nesterov momentum 0.9, weight decay 4e-5, one-cycle to
// a peak learning rate of 0.2, label smoothing 0.1, random horizontal
// flips, batch 64.
func DefaultRecipe() Recipe {
	return Recipe{Epochs: 10, BatchSize: 64, Optimizer: "sgd", LR: 0.2, Momentum: 0.9, Nesterov: true,
		WeightDecay: 4e-5, Schedule: "onecycle", LabelSmoothing: 0.1, Flip: true}
}

// Validate names the first setting that cannot work.
func (r Recipe) Validate() error {
	switch {
	case r.Epochs < 1:
		return fmt.Errorf("epochs must be at least 1, got %d", r.Epochs)
	case r.BatchSize < 1:
		return fmt.Errorf("batch size must be at least 1, got %d", r.BatchSize)
	case r.Optimizer != "sgd" && r.Optimizer != "adamw":
		return fmt.Errorf("optimizer %q: want sgd or adamw", r.Optimizer)
	case !(r.LR > 0) || math.IsInf(r.LR, 0):
		return fmt.Errorf("learning rate must be positive, got %v", r.LR)
	case r.Schedule != "onecycle" && r.Schedule != "cosine" && r.Schedule != "constant":
		return fmt.Errorf("schedule %q: want onecycle, cosine or constant", r.Schedule)
	case r.LabelSmoothing < 0 || r.LabelSmoothing >= 1:
		return fmt.Errorf("label smoothing must be in [0, 1), got %v", r.LabelSmoothing)
	case r.CropPad < 0:
		return fmt.Errorf("crop padding must not be negative, got %d", r.CropPad)
	case r.WeightDecay < 0 || r.Momentum < 0 || r.ClipNorm < 0 || r.BNBatches < 0:
		return errors.New("momentum, weight decay, clip norm and batch-norm batches must not be negative")
	}
	return nil
}

// Progress is reported after every step and at the end of each epoch.
type Progress struct {
	Epoch, Epochs int // 1-based epoch
	Step, Steps   int // 1-based step within the epoch
	Loss          float64
	TrainAcc      float64 // running accuracy of this epoch's batches
	ImagesPerS    float64 // training throughput of this session
	Elapsed, ETA  time.Duration
	// EpochDone marks the report that ends an epoch (after validation).
	EpochDone bool
	// ValAcc is the validation accuracy in the report that ends an epoch,
	// −1 when there is no validation set (and in step reports).
	ValAcc float64
}

// Result sums up a training run.
type Result struct {
	EpochValAcc []float64 `json:"epoch_val_acc"` // per epoch (of the whole run, resumed ones included)
	ValAcc      float64   `json:"val_acc"`       // after the last epoch
	TrainS      float64   `json:"train_s"`       // seconds spent in this session's training steps
	ImagesPerS  float64   `json:"images_per_s"`
	Steps       int       `json:"steps"`
}

// ErrDiverged is wrapped by the error of a run whose loss became NaN,
// infinite or exploded.
var ErrDiverged = errors.New("training diverged")

// Trainer trains one network.
type Trainer struct {
	Net    *nn.Network
	Recipe Recipe
	Train  *data.Dataset
	// Val is evaluated after each epoch; nil or empty skips it.
	Val *data.Dataset
	// Progress, if set, receives a report after each step and epoch.
	Progress func(Progress)
	// Checkpoint, if set, is the path of a file rewritten (atomically)
	// after every epoch: weights, optimizer state and position. Resume
	// continues from it.
	Checkpoint string
	// Resume continues from Checkpoint when that file exists.
	Resume bool

	opt   nn.Optimizer
	sched nn.Schedule
}

// Run trains for the recipe's epochs (the remaining ones when resuming)
// and returns the result. A canceled context stops it after the current
// step with ctx.Err(); a diverged loss stops it with an error wrapping
// ErrDiverged, leaving the last checkpoint (that of the last good epoch)
// in place.
func (t *Trainer) Run(ctx context.Context) (Result, error) {
	r := t.Recipe
	if err := r.Validate(); err != nil {
		return Result{}, fmt.Errorf("train: %w", err)
	}
	if t.Train == nil || t.Train.N < r.BatchSize {
		return Result{}, fmt.Errorf("train: the training set (%d images) is smaller than one batch (%d)", datasetN(t.Train), r.BatchSize)
	}
	loader, err := data.NewLoader(t.Train, data.LoaderConfig{BatchSize: r.BatchSize, Shuffle: true, Seed: r.Seed,
		Augment: data.Augment{Flip: r.Flip, Pad: r.CropPad}, DropLast: true})
	if err != nil {
		return Result{}, err
	}
	defer loader.Stop()
	steps := loader.Batches()
	params := t.Net.ParamVars()
	switch r.Optimizer {
	case "sgd":
		t.opt = nn.NewSGD(params, r.LR, r.Momentum, r.WeightDecay, r.Nesterov)
	case "adamw":
		t.opt = nn.NewAdamW(params, r.LR, r.WeightDecay)
	}
	total := r.Epochs * steps
	switch r.Schedule {
	case "onecycle":
		t.sched = nn.NewOneCycle(r.LR, total)
	case "cosine":
		t.sched = &nn.Cosine{MaxLR: r.LR, TotalSteps: total}
	}

	var res Result
	first := 0
	if t.Resume && t.Checkpoint != "" {
		ck, err := t.load()
		if err != nil {
			return Result{}, err
		}
		if ck != nil {
			first, res.EpochValAcc = ck.Epoch, ck.EpochValAcc
		}
	}

	tp := autograd.NewTape()
	c := &nn.Ctx{Tape: tp, Train: true}
	xt := &tensor.Tensor{Shape: []int{r.BatchSize, t.Train.H, t.Train.W, t.Train.C}}
	// A diverging run is caught by its loss: NaN, infinite, or far above
	// the loss of a uniform guess.
	limit := 50 * math.Log(float64(max(2, t.Net.Classes)))
	start := time.Now()
	var busy time.Duration
	images := 0
	for epoch := first; epoch < r.Epochs; epoch++ {
		// Dropout draws from (seed, epoch): a resumed epoch repeats.
		c.Rng = rand.New(rand.NewPCG(r.Seed^0xd409, uint64(epoch)))
		loader.Start(epoch)
		var lossSum float64
		correct, seen := 0, 0
		for b := range loader.Epoch(epoch) {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			t0 := time.Now()
			step := epoch*steps + b.Step
			tp.Reset()
			xt.Data = b.Images
			x, err := t.Net.Input(tp, xt)
			if err != nil {
				return res, err
			}
			logits := t.Net.Forward(c, x)
			loss := nn.CrossEntropy(c, logits, b.Labels, float32(r.LabelSmoothing))
			t.Net.ZeroGrad()
			if err := tp.Backward(loss); err != nil {
				return res, fmt.Errorf("train: %w", err)
			}
			lv := float64(loss.Value.Data[0])
			if math.IsNaN(lv) || math.IsInf(lv, 0) || lv > limit {
				return res, fmt.Errorf("train: %w: loss %v at epoch %d step %d (learning rate %.4g); the last good checkpoint is kept",
					ErrDiverged, lv, epoch+1, b.Step+1, t.opt.LR())
			}
			hits, err := nn.Accuracy(logits.Value, b.Labels)
			if err != nil {
				return res, err
			}
			if r.ClipNorm > 0 {
				nn.ClipGradNorm(params, r.ClipNorm)
			}
			if t.sched != nil {
				nn.Apply(t.sched, t.opt, step)
			}
			t.opt.Step()
			busy += time.Since(t0)
			images += b.N
			res.Steps++
			lossSum += lv
			correct += hits
			seen += b.N
			if t.Progress != nil {
				done := step + 1 - first*steps
				left := total - step - 1
				el := time.Since(start)
				t.Progress(Progress{Epoch: epoch + 1, Epochs: r.Epochs, Step: b.Step + 1, Steps: steps,
					Loss: lossSum / float64(b.Step+1), TrainAcc: float64(correct) / float64(seen),
					ImagesPerS: float64(images) / busy.Seconds(), Elapsed: el,
					ETA: el / time.Duration(done) * time.Duration(left), ValAcc: -1})
			}
		}
		if epoch == r.Epochs-1 && r.BNBatches > 0 {
			// On the training tape: its buffers are still held here, and a
			// second tape's would add to the peak memory.
			prev := tp.SetGrad(false)
			err := recalibrate(tp, t.Net, t.Train, r.BatchSize, r.BNBatches, r.Seed)
			tp.SetGrad(prev)
			if err != nil {
				return res, err
			}
		}
		val := -1.0
		if t.Val != nil && t.Val.N > 0 {
			if val, err = Evaluate(t.Net, t.Val, EvalBatch); err != nil {
				return res, err
			}
			res.ValAcc = val
		}
		res.EpochValAcc = append(res.EpochValAcc, val)
		if t.Checkpoint != "" {
			if err := t.save(epoch+1, res.EpochValAcc); err != nil {
				return res, err
			}
		}
		if t.Progress != nil {
			el := time.Since(start)
			t.Progress(Progress{Epoch: epoch + 1, Epochs: r.Epochs, Step: steps, Steps: steps,
				Loss: lossSum / float64(steps), TrainAcc: float64(correct) / float64(max(1, seen)),
				ImagesPerS: float64(images) / busy.Seconds(), Elapsed: el,
				ETA: el / time.Duration(epoch+1-first) * time.Duration(r.Epochs-epoch-1), EpochDone: true, ValAcc: val})
		}
	}
	res.TrainS = busy.Seconds()
	if busy > 0 {
		res.ImagesPerS = float64(images) / busy.Seconds()
	}
	return res, nil
}

// RecalibrateBatchNorm sets every batch norm's running statistics to the
// exact average of its batch statistics over the given number of batches
// of ds (a seeded shuffle, no augmentation; fewer if ds has fewer), with
// the weights unchanged. After a short training run the running averages
// (momentum 0.1) still remember the first steps' weights, and a proxy's
// validation accuracy swings with them. Measured on a search proxy (2,000
// images, batch 32, 63 steps; 5 networks × 3 seeds), recalibrating on 20
// batches cut the mean standard deviation of a network's accuracy over
// seeds from 2.7 to 1.8 points and raised the worst reading from 61.3% to
// 65.2%.
func RecalibrateBatchNorm(net *nn.Network, ds *data.Dataset, batch, batches int, seed uint64) error {
	tp := autograd.NewTape()
	tp.SetGrad(false)
	return recalibrate(tp, net, ds, batch, batches, seed)
}

// recalibrate is RecalibrateBatchNorm on the tape tp, which must not record
// gradients.
func recalibrate(tp *autograd.Tape, net *nn.Network, ds *data.Dataset, batch, batches int, seed uint64) error {
	loader, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: batch, Shuffle: true, Seed: seed ^ 0xb2})
	if err != nil {
		return err
	}
	defer loader.Stop()
	c := &nn.Ctx{Tape: tp, Train: true, Rng: rand.New(rand.NewPCG(seed, 0xb2))}
	xt := &tensor.Tensor{}
	k := 0
	for b := range loader.Epoch(0) {
		if k == batches {
			break
		}
		k++
		c.BNMomentum = 1 / float32(k)
		tp.Reset()
		xt.Shape, xt.Data = []int{b.N, ds.H, ds.W, ds.C}, b.Images
		x, err := net.Input(tp, xt)
		if err != nil {
			return err
		}
		net.Forward(c, x)
		if err := tp.Err(); err != nil {
			return fmt.Errorf("train: recalibrating batch norm: %w", err)
		}
	}
	return nil
}

func datasetN(d *data.Dataset) int {
	if d == nil {
		return 0
	}
	return d.N
}

// EvalBatch is the batch size for Evaluate: large enough that the kernels
// run at full speed, small enough that one batch's activations stay near a
// training step's (at 500, mbv3-like's took 2.5 GB).
const EvalBatch = 64

// Evaluate returns the accuracy of net (in eval mode: running batch-norm
// statistics, no dropout) on ds, in batches of the given size. It runs the
// network's inference plan (batch norm folded, activations fused): faster,
// and it holds fewer buffers than the training graph.
func Evaluate(net *nn.Network, ds *data.Dataset, batch int) (float64, error) {
	if ds == nil || ds.N == 0 {
		return 0, errors.New("train: nothing to evaluate: the data set is empty")
	}
	plan, err := net.Inference()
	if err != nil {
		return 0, err
	}
	loader, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: batch})
	if err != nil {
		return 0, err
	}
	defer loader.Stop()
	correct := 0
	for b := range loader.Epoch(0) {
		logits, err := plan.Run(&tensor.Tensor{Shape: []int{b.N, ds.H, ds.W, ds.C}, Data: b.Images})
		if err != nil {
			return 0, err
		}
		hits, err := nn.Accuracy(logits, b.Labels)
		if err != nil {
			return 0, err
		}
		correct += hits
	}
	return float64(correct) / float64(ds.N), nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/nasrun/nasrun/data"
	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/train"
)

func init() {
	register(command{name: "train", summary: "train one network (a genome) on Fashion-MNIST/MNIST and evaluate it", run: runTrain})
}

// trainSummary is summary.json of a training run.
type trainSummary struct {
	Arch       string       `json:"arch"`
	ID         string       `json:"id"`
	Recipe     train.Recipe `json:"recipe"`
	Data       string       `json:"data"`
	Validation int          `json:"validation_images"`
	TestAcc    float64      `json:"test_acc"`
	Result     train.Result `json:"result"`
	MACs       int64        `json:"macs"`
	Params     int64        `json:"params"`
	Threads    int          `json:"threads"`
	Kernels    string       `json:"kernels"`
	WallS      float64      `json:"wall_s"`
	PeakRSS    int64        `json:"peak_rss_bytes,omitempty"` // 0 where the system does not report it
}

func runTrain(args []string, stdout io.Writer) error {
	fs := newFlags("train", "(--arch FILE.json | --refnet NAME) [flags]",
		"Trains the network a genome describes, evaluates it once on the test set, and writes\n"+
			"OUT/model.safetensors (weights + genome, PyTorch state_dict layout), OUT/summary.json and\n"+
			"a checkpoint after every epoch (OUT/checkpoint.safetensors) that --resume continues from.\n"+
			"A NaN or exploding loss stops the run with a message; the last good checkpoint is kept.")
	var arch archFlags
	arch.register(fs)
	recipe := recipeFlags(fs, train.DefaultRecipe(), "", "")
	dataDir := fs.String("data", "", "data directory with the IDX files (default $NASRUN_DATA or "+data.DefaultDir+")")
	val := fs.Int("val", 0, "training images held out for per-epoch validation (0: none; the test set is used once, at the end)")
	out := fs.String("out", "", "output directory (default runs/train-NAME-TIME)")
	resume := fs.Bool("resume", false, "continue the run in --out from its checkpoint")
	seed := fs.Uint64("seed", 1, "random seed (weights, data order, augmentation, dropout)")
	threads := fs.Int("threads", 0, "kernel threads (0: all cores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	g, err := arch.load()
	if err != nil {
		return err
	}
	r := recipe()
	r.Seed = *seed
	if err := r.Validate(); err != nil {
		return err
	}
	if *resume && *out == "" {
		return errors.New("--resume needs --out DIR, the run to continue")
	}
	name := g.Name
	if name == "" {
		name = g.ID()
	}
	if *out == "" {
		*out = filepath.Join("runs", "train-"+name+"-"+time.Now().Format("20060102-150405"))
	}
	nt := setThreads(*threads)
	start := time.Now()
	splits, err := data.Load(data.Config{Dir: *dataDir, Validation: *val, Seed: *seed, H: g.Input.H, W: g.Input.W})
	if err != nil {
		return err
	}
	net, err := nas.Build(g, rand.New(rand.NewPCG(*seed, 0x5eed)))
	if err != nil {
		return err
	}
	// Only now, so a run that cannot start leaves no empty directory.
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	cost := g.Cost()
	fmt.Fprintf(stdout, "training %s (%s): %.2f M MACs, %.0f K params, on %d images from %s; %d threads, %s kernels\n",
		name, g.Summary(), float64(cost.MACs)/1e6, float64(cost.Params)/1e3, splits.Train.N, splits.Dir, nt, kernels.Active())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st := newStatus(stdout)
	tr := &train.Trainer{Net: net, Recipe: r, Train: splits.Train, Val: splits.Val,
		Checkpoint: filepath.Join(*out, "checkpoint.safetensors"), Resume: *resume,
		Progress: func(p train.Progress) {
			line := fmt.Sprintf("epoch %d/%d %s step %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  ETA %s",
				p.Epoch, p.Epochs, bar(p.Step, p.Steps, 20), p.Step, p.Steps, p.Loss, 100*p.TrainAcc, p.ImagesPerS, dur(p.ETA))
			if p.EpochDone {
				val := ""
				if p.ValAcc >= 0 {
					val = fmt.Sprintf("  val acc %.2f%%", 100*p.ValAcc)
				}
				st.println("epoch %d/%d  loss %.4f  train acc %.2f%%%s  %.0f img/s  elapsed %s",
					p.Epoch, p.Epochs, p.Loss, 100*p.TrainAcc, val, p.ImagesPerS, dur(p.Elapsed))
				return
			}
			st.update(line, false)
		}}
	res, err := tr.Run(ctx)
	if err != nil {
		st.println("")
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; continue with: nasrun train %s --out %s --resume", strings.Join(args, " "), *out)
		}
		return err
	}
	testAcc, err := train.Evaluate(net, splits.Test, train.EvalBatch)
	if err != nil {
		return err
	}
	if err := net.Save(filepath.Join(*out, "model.safetensors")); err != nil {
		return err
	}
	sum := trainSummary{Arch: name, ID: g.ID(), Recipe: r, Data: splits.Dir, Validation: *val, TestAcc: testAcc,
		Result: res, MACs: cost.MACs, Params: cost.Params, Threads: nt, Kernels: kernels.Active().String(),
		WallS: time.Since(start).Seconds(), PeakRSS: peakRSS()}
	if err := nas.WriteJSON(filepath.Join(*out, "summary.json"), sum); err != nil {
		return err
	}
	if err := g.Save(filepath.Join(*out, "arch.json")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "test accuracy %.2f%% (%d images); training %s at %.0f images/s; peak RSS %s; wrote %s\n",
		100*testAcc, splits.Test.N, dur(time.Duration(res.TrainS*float64(time.Second))), res.ImagesPerS, mib(sum.PeakRSS), *out)
	return nil
}

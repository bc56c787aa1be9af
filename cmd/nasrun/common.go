package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"

	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/train"
)

// archFlags selects a genome: a JSON file or a shipped reference network.
type archFlags struct{ file, refnet string }

func (a *archFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.file, "arch", "", "genome JSON `file` of the network (see nas/refnets/*.json)")
	fs.StringVar(&a.refnet, "refnet", "", fmt.Sprintf("a shipped reference network instead of --arch: %v", nas.RefNetNames()))
}

func (a *archFlags) load() (nas.Genome, error) {
	switch {
	case a.file != "" && a.refnet != "":
		return nas.Genome{}, errors.New("give --arch or --refnet, not both")
	case a.file != "":
		return nas.Load(a.file)
	case a.refnet != "":
		return nas.RefNet(a.refnet)
	}
	return nas.Genome{}, errors.New("no network: give --arch FILE.json or --refnet NAME")
}

// genomeArg reads a network named by a flag that takes either a shipped
// reference net's name or a genome JSON file.
func genomeArg(flagName, v string) (nas.Genome, error) {
	if slices.Contains(nas.RefNetNames(), v) {
		return nas.RefNet(v)
	}
	g, err := nas.Load(v)
	if err != nil {
		return g, fmt.Errorf("--%s: %w (or name a reference net: %v)", flagName, err, nas.RefNetNames())
	}
	return g, nil
}

// recipeFlags registers the training recipe's flags, named prefix+name,
// with defaults from def and usage lines starting with label, and returns a
// function that reads them back.
func recipeFlags(fs *flag.FlagSet, def train.Recipe, prefix, label string) func() train.Recipe {
	r := def
	p := prefix
	if label != "" {
		label += ": "
	}
	fs.IntVar(&r.Epochs, p+"epochs", def.Epochs, label+"training epochs")
	fs.IntVar(&r.BatchSize, p+"batch", def.BatchSize, label+"batch size")
	fs.StringVar(&r.Optimizer, p+"optimizer", def.Optimizer, label+"optimizer: sgd or adamw")
	fs.Float64Var(&r.LR, p+"lr", def.LR, label+"peak learning rate (one-cycle maximum, cosine start)")
	fs.Float64Var(&r.Momentum, p+"momentum", def.Momentum, label+"SGD momentum")
	fs.BoolVar(&r.Nesterov, p+"nesterov", def.Nesterov, label+"Nesterov momentum")
	fs.Float64Var(&r.WeightDecay, p+"wd", def.WeightDecay, label+"weight decay")
	fs.StringVar(&r.Schedule, p+"schedule", def.Schedule, label+"learning-rate schedule: onecycle, cosine or constant")
	fs.Float64Var(&r.LabelSmoothing, p+"label-smoothing", def.LabelSmoothing, label+"label smoothing")
	fs.BoolVar(&r.Flip, p+"flip", def.Flip, label+"random horizontal flips")
	fs.IntVar(&r.CropPad, p+"crop-pad", def.CropPad, label+"random crops after padding by this many pixels (0: off)")
	fs.Float64Var(&r.ClipNorm, p+"clip", def.ClipNorm, label+"clip the gradient norm to this (0: off)")
	fs.IntVar(&r.BNBatches, p+"bn-batches", def.BNBatches, label+"after the last epoch, recompute batch-norm statistics as the average over this many training batches (0: keep the running averages)")
	return func() train.Recipe { return r }
}

// setThreads applies --threads (0: all cores) and returns the count used.
func setThreads(n int) int {
	if n > 0 {
		kernels.SetThreads(n)
	}
	return kernels.Threads()
}

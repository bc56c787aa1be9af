package main

import (
	"errors"
	"flag"
	"fmt"

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

// recipeFlags registers the training recipe's flags with defaults from def
// and returns a function that reads them back.
func recipeFlags(fs *flag.FlagSet, def train.Recipe, prefix string) func() train.Recipe {
	r := def
	p := prefix
	fs.IntVar(&r.Epochs, p+"epochs", def.Epochs, "training epochs")
	fs.IntVar(&r.BatchSize, p+"batch", def.BatchSize, "batch size")
	fs.StringVar(&r.Optimizer, p+"optimizer", def.Optimizer, "optimizer: sgd or adamw")
	fs.Float64Var(&r.LR, p+"lr", def.LR, "peak learning rate (one-cycle maximum, cosine start)")
	fs.Float64Var(&r.Momentum, p+"momentum", def.Momentum, "SGD momentum")
	fs.BoolVar(&r.Nesterov, p+"nesterov", def.Nesterov, "Nesterov momentum")
	fs.Float64Var(&r.WeightDecay, p+"wd", def.WeightDecay, "weight decay")
	fs.StringVar(&r.Schedule, p+"schedule", def.Schedule, "learning-rate schedule: onecycle, cosine or constant")
	fs.Float64Var(&r.LabelSmoothing, p+"label-smoothing", def.LabelSmoothing, "label smoothing")
	fs.BoolVar(&r.Flip, p+"flip", def.Flip, "random horizontal flips")
	fs.IntVar(&r.CropPad, p+"crop-pad", def.CropPad, "random crops after padding by this many pixels (0: off)")
	fs.Float64Var(&r.ClipNorm, p+"clip", def.ClipNorm, "clip the gradient norm to this (0: off)")
	return func() train.Recipe { return r }
}

// setThreads applies --threads (0: all cores) and returns the count used.
func setThreads(n int) int {
	if n > 0 {
		kernels.SetThreads(n)
	}
	return kernels.Threads()
}

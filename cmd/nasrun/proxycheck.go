package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/nasrun/nasrun/data"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/train"
)

func init() {
	register(command{name: "proxy-check", summary: "can the proxy tell architectures apart? its noise over training seeds against the spread between networks", run: runProxyCheck})
}

// Thresholds of proxy-check's verdict on ICC(1), the share of a proxy
// reading's variance due to the architecture.
const (
	iccRanks  = 0.75 // above: the proxy ranks these networks
	iccWeakly = 0.4  // above: it ranks them, with much noise
)

func runProxyCheck(args []string, stdout io.Writer) error {
	fs := newFlags("proxy-check", "[flags]",
		"Proxy-trains a few networks of the search space, each with the same few training seeds,\n"+
			"and reports how much one network's proxy accuracy varies over seeds against how much the\n"+
			"networks differ: the intraclass correlation (the share of a reading's variance due to the\n"+
			"architecture) and Kendall's τ between the rankings under two seeds. Where the noise is as\n"+
			"large as the differences, a search cannot select on accuracy: try more --proxy-images or\n"+
			"--proxy-epochs here before spending them on nasrun evolve (same flags and defaults).\n"+
			"It measures whether the proxy is consistent, not whether it agrees with full training: a\n"+
			"net that converges slowly can rank low on the proxy and high after 10 epochs.")
	dataDir := fs.String("data", "", "data directory with the IDX files (default $NASRUN_DATA or "+data.DefaultDir+")")
	def := defaultEvolveSettings()
	nets := fs.Int("nets", 6, "random networks drawn from the search space")
	refs := fs.String("references", "mbv3-like,ghost-like", "reference nets checked as well (comma-separated, or none)")
	seeds := fs.Int("seeds", 3, "training seeds per network (the same seeds for every network)")
	proxyImages := fs.Int("proxy-images", def.ProxyImages, "training images for each proxy training (a fixed seeded subset)")
	valImages := fs.Int("val-images", def.ValImages, "training images held out to validate (never the test set)")
	maxLayers := fs.Int("max-layers", def.Search.Space.Choices.MaxLayers, "most layers per stage in the search space")
	proxy := recipeFlags(fs, def.Proxy, "proxy-", "proxy training")
	seed := fs.Uint64("seed", 1, "random seed: the networks drawn, the data split and the training seeds")
	threads := fs.Int("threads", 0, "kernel threads for training (0: all cores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *seeds < 2 {
		return errors.New("--seeds must be at least 2: the noise is measured over seeds")
	}
	space := nas.DefaultSpace()
	space.Choices.MaxLayers = *maxLayers
	if err := space.Validate(); err != nil {
		return err
	}
	r := proxy()
	if err := r.Validate(); err != nil {
		return err
	}
	var genomes []nas.Genome
	var names []string
	if *refs != "" && *refs != "none" {
		for _, name := range strings.Split(*refs, ",") {
			g, err := nas.RefNet(name)
			if err != nil {
				return err
			}
			genomes, names = append(genomes, g), append(names, name)
		}
	}
	rng := rand.New(rand.NewPCG(*seed, 0x6e657473)) // "nets"
	for i := 0; i < *nets; i++ {
		genomes, names = append(genomes, space.Sample(rng)), append(names, fmt.Sprintf("random %d", i+1))
	}
	if len(genomes) < 2 {
		return errors.New("check at least 2 networks (--nets, --references)")
	}
	in := space.Input
	splits, proxyTrain, err := proxyData(data.Config{Dir: *dataDir, Validation: *valImages, Seed: *seed, H: in.H, W: in.W, SkipTest: true}, *proxyImages)
	if err != nil {
		return err
	}
	setThreads(*threads)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st := newStatus(stdout)
	st.println("proxy check: %d networks × %d training seeds; proxy %d images, %d epoch(s), %s lr %g, batch %d; validation on %d held-out training images",
		len(genomes), *seeds, *proxyImages, r.Epochs, r.Optimizer, r.LR, r.BatchSize, splits.Val.N)
	trainSeeds := make([]uint64, *seeds) // the same for every network
	for j := range trainSeeds {
		trainSeeds[j] = rng.Uint64()
	}
	acc := make([][]float64, len(genomes))
	for i, g := range genomes {
		line := fmt.Sprintf("  %-11s %-52s %6.2f M MACs ", names[i], g.Summary(), float64(g.Cost().MACs)/1e6)
		for j := 0; j < *seeds; j++ {
			r.Seed = trainSeeds[j]
			_, a, err := proxyAccuracy(ctx, g, r, proxyTrain, splits.Val, "", func(p train.Progress) {
				st.update(fmt.Sprintf("%s seed %d/%d %s", names[i], j+1, *seeds, bar(p.Step, p.Steps, 16)), false)
			})
			if err != nil {
				return fmt.Errorf("%s (%s), seed %d: %w", names[i], g.Summary(), j+1, err)
			}
			acc[i] = append(acc[i], a)
			line += fmt.Sprintf(" %6.2f", 100*a)
		}
		mean, sd := meanSD(acc[i])
		st.println("%s   mean %6.2f%%  sd %.2f", line, 100*mean, 100*sd)
	}
	rel, err := nas.ProxyReliability(acc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nnoise: one network's accuracy over seeds varies by %.2f points (sd, pooled)\n", 100*rel.WithinSD)
	fmt.Fprintf(stdout, "spread: the networks' mean accuracies vary by %.2f points (sd)\n", 100*rel.BetweenSD)
	fmt.Fprintf(stdout, "intraclass correlation ICC(1): %.2f of a single reading's variance is the architecture's\n", rel.ICC)
	fmt.Fprintf(stdout, "ranking agreement between two seeds: Kendall τ %.2f on average (%.2f … %.2f)\n", rel.TauMean, rel.TauMin, rel.TauMax)
	switch {
	case rel.ICC >= iccRanks:
		fmt.Fprintln(stdout, "verdict: the proxy ranks these networks; a search can select on its accuracy.")
	case rel.ICC >= iccWeakly:
		fmt.Fprintln(stdout, "verdict: the proxy ranks these networks, but with much noise; a search selects partly by chance.")
	default:
		fmt.Fprintln(stdout, "verdict: the proxy's noise is as large as the differences between networks; a search cannot select on its accuracy (more --proxy-images or --proxy-epochs may help; latency is still measured exactly).")
	}
	return nil
}

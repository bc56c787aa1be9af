package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nasrun/nasrun/data"
	"github.com/nasrun/nasrun/latency"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/train"
)

func init() {
	register(command{name: "evolve", summary: "search for the most accurate network under a latency target on this device (or a latency server)", run: runEvolve})
}

// evolveSettings is run.json: everything that determines a run. A resumed
// run reads it back, so it continues with exactly the settings it began
// with.
type evolveSettings struct {
	Version     int              `json:"version"`
	Search      nas.SearchConfig `json:"search"`
	TargetFrom  string           `json:"target_from"` // how the latency target was chosen
	Data        string           `json:"data"`
	ProxyImages int              `json:"proxy_images"` // training images of a proxy trial
	ValImages   int              `json:"val_images"`   // held-out validation images
	Proxy       train.Recipe     `json:"proxy"`
	Inherit     bool             `json:"inherit"`
	Latency     latencySettings  `json:"latency"`
	Table       bool             `json:"latency_table"` // predict each candidate from a per-block table
	FinalTop    int              `json:"final_top"`
	Final       train.Recipe     `json:"final"`
	References  []string         `json:"references"`
	Threads     int              `json:"threads"` // kernel threads for training
}

type latencySettings struct {
	Server string          `json:"server,omitempty"` // latency server URL; "" measures here
	Opt    latency.Options `json:"options"`
	// Calibrate pairs every measurement with one of mbv3-like (see
	// latency.Calibrated); RefMs is mbv3-like's baseline, measured once at
	// the start of the run and kept for a resumed one.
	Calibrate bool    `json:"calibrate,omitempty"`
	RefMs     float64 `json:"ref_ms,omitempty"`
}

// calibrationRef is the reference network latency is calibrated against,
// and calibrationBaselines how many measurements of it the baseline is the
// fastest of.
const (
	calibrationRef       = "mbv3-like"
	calibrationBaselines = 10
	// proxyBNBatches: a proxy run is too short for the running batch-norm
	// averages to settle, so they are recomputed on this many batches
	// (train.RecalibrateBatchNorm).
	proxyBNBatches = 20
)

const settingsVersion = 1

func runEvolve(args []string, stdout io.Writer) error {
	fs := newFlags("evolve", "[flags]",
		"Hardware-aware neural architecture search (MnasNet's reward, regularized evolution):\n"+
			"candidates are proxy-trained on a split of the training set, their batch-1 latency is\n"+
			"measured on this device (or a latency server), and the reward ACC×(LAT/T)^w steers the\n"+
			"search. At the end the best Pareto models and the reference nets are trained longer and\n"+
			"evaluated once on the test set. The run directory holds the append-only trial log\n"+
			"(trials.jsonl, the source of truth), run.json, final.json, pareto.json, best.json,\n"+
			"best.safetensors, report.md and pareto.png. A killed run continues with --resume DIR.")
	def := defaultEvolveSettings()
	out := fs.String("out", "", "run directory (default runs/evolve-TIME)")
	resume := fs.String("resume", "", "continue the run in `DIR` with its own settings (run.json); other flags are not allowed, except --trials to extend the search (a finished one too) and --threads")
	dataDir := fs.String("data", "", "data directory with the IDX files (default $NASRUN_DATA or "+data.DefaultDir+")")
	strategy := fs.String("strategy", def.Search.Strategy, "search strategy: evolution (regularized evolution) or random")
	trials := fs.Int("trials", def.Search.Trials, "number of trials (candidate networks)")
	pop := fs.Int("population", def.Search.Population, "population size P: the P most recent trials (the oldest dies); for 60 trials or more, 16 with --sample 4")
	sample := fs.Int("sample", def.Search.SampleSize, "tournament size S: a parent is the best of S random members")
	selection := fs.String("selection", nas.SelectReward, "what makes the best of the S members: reward (MnasNet's objective); pareto (NSGA-II's crowded comparison on accuracy and latency within the population, then reward: breeds the front's ends first); or hypervolume (non-domination level, then the area of the accuracy–latency front only that member dominates, SMS-EMOA, then reward: breeds the member the front would miss most)")
	initNet := fs.String("init", "", "start from a network you have: a reference net's name (mbv3-like, ghost-like) or a genome JSON `file` in the search space; it is trial 1, and under evolution the rest of the first population are its one-mutation children instead of random samples")
	seed := fs.Uint64("seed", def.Search.Seed, "random seed; a run is reproducible from it")
	target := fs.Float64("target-latency", 0, "latency target T in ms (default: the measured latency of the mbv3-like reference net)")
	hard := fs.Bool("hard", false, "hard latency constraint: α = 0, β = −1 (default soft: α = β = −0.07)")
	w := fs.Float64("w", 0, "reward exponent for both sides of the target (overrides the soft default −0.07)")
	maxLayers := fs.Int("max-layers", def.Search.Space.Choices.MaxLayers, "most layers per stage in the search space")
	proxyImages := fs.Int("proxy-images", def.ProxyImages, "training images for each proxy trial (a fixed seeded subset)")
	valImages := fs.Int("val-images", def.ValImages, "training images held out to validate proxy trials (never the test set)")
	proxy := recipeFlags(fs, def.Proxy, "proxy-", "proxy training")
	commonSeed := fs.Bool("common-seed", false, "train every candidate from one seed (the same batches, augmentation and weight-initialisation stream; common random numbers), so that accuracies differ less by luck")
	inherit := fs.Bool("inherit", false, "initialise a child from its parent's proxy-trained weights where shapes match")
	latServer := fs.String("latency-server", "", "measure latency on a device running 'nasrun latency-server' at this `URL`")
	latRuns := fs.Int("latency-runs", def.Latency.Opt.Runs, "timed runs per latency measurement (median)")
	latThreads := fs.Int("latency-threads", def.Latency.Opt.Threads, "threads for latency measurement (batch 1)")
	calibrate := fs.Bool("latency-calibrate", def.Latency.Calibrate, "measure mbv3-like with each candidate, their runs taking turns (here or on the latency server), and scale it by mbv3-like's latency at the start ÷ now, so that a device running slower for a while (thermal throttling, a busy neighbour) does not bias the search")
	table := fs.Bool("latency-table", def.Table, "build a per-block latency lookup table on the device (DIR/latency-table.json), log each candidate's predicted latency and report the table's error")
	prescreen := fs.Float64("prescreen", 0, "with the table: redraw candidates predicted slower than this × the target before training them (0: off; e.g. 1.5 with --hard)")
	finalTop := fs.Int("final-top", def.FinalTop, "Pareto models to retrain longer and test at the end (highest reward first)")
	final := recipeFlags(fs, def.Final, "final-", "final training")
	refs := fs.String("references", strings.Join(def.References, ","), "reference nets trained and measured the same way for the report (comma-separated, or none)")
	threads := fs.Int("threads", 0, "kernel threads for training (0: all cores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	var s evolveSettings
	var dir string
	if *resume != "" {
		var extra []string
		extend := false
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "resume", "threads":
			case "trials":
				extend = true
			default:
				extra = append(extra, "--"+f.Name)
			}
		})
		if len(extra) > 0 {
			return fmt.Errorf("--resume continues with the run's own settings (%s); drop %s",
				filepath.Join(*resume, "run.json"), strings.Join(extra, " "))
		}
		dir = *resume
		if err := nas.ReadJSON(filepath.Join(dir, "run.json"), &s); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		if s.Version != settingsVersion {
			return fmt.Errorf("resume: %s/run.json has settings version %d, this nasrun writes %d", dir, s.Version, settingsVersion)
		}
		if extend && *trials != s.Search.Trials {
			if err := extendRun(dir, &s, *trials); err != nil {
				return err
			}
		}
	} else {
		s = def
		s.Search.Strategy, s.Search.Trials, s.Search.Population, s.Search.SampleSize, s.Search.Seed, s.Search.Selection =
			*strategy, *trials, *pop, *sample, *seed, *selection
		s.Search.CommonSeed = *commonSeed
		s.Search.Space.Choices.MaxLayers = *maxLayers
		if *initNet != "" {
			g, err := genomeArg("init", *initNet)
			if err != nil {
				return err
			}
			s.Search.Init = &g
		}
		switch {
		case *hard:
			s.Search.Reward = nas.HardReward(*target)
		default:
			s.Search.Reward = nas.SoftReward(*target)
		}
		if *w != 0 {
			s.Search.Reward.Alpha, s.Search.Reward.Beta = *w, *w
		}
		s.Data = data.Dir(*dataDir)
		s.ProxyImages, s.ValImages = *proxyImages, *valImages
		s.Proxy, s.Final = proxy(), final()
		s.Proxy.Seed, s.Final.Seed = *seed, *seed
		s.Inherit = *inherit
		s.Latency = latencySettings{Server: *latServer, Opt: latency.Options{Runs: *latRuns, Threads: *latThreads}, Calibrate: *calibrate}
		s.Table, s.Search.Prescreen = *table, *prescreen
		s.FinalTop = *finalTop
		s.References = nil
		if *refs != "" && *refs != "none" {
			s.References = strings.Split(*refs, ",")
		}
		s.Threads = *threads
		dir = *out
		if dir == "" {
			dir = filepath.Join("runs", "evolve-"+time.Now().Format("20060102-150405"))
		}
	}
	if *threads > 0 {
		s.Threads = *threads
	}
	if err := s.validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := evolve(ctx, dir, s, *resume != "", stdout)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; nothing finished is lost: continue with  nasrun evolve --resume %s", dir)
	}
	return err
}

// extendRun raises a run's trial budget to n and records it in run.json.
// Trial i's choices depend only on the seed and the trials before it, so
// the extended run's log is the one a run started with n trials would
// have written. Its final stage then covers the front of all n trials;
// final models finished before that are reused where they are still on it.
func extendRun(dir string, s *evolveSettings, n int) error {
	if n < s.Search.Trials {
		return fmt.Errorf("--trials %d: the run in %s already plans %d trials; a search can be extended, not shortened (nasrun pareto --trials compares a run's first trials)",
			n, dir, s.Search.Trials)
	}
	s.Search.Trials = n
	if err := s.validate(); err != nil {
		return err
	}
	return nas.WriteJSON(filepath.Join(dir, "run.json"), *s)
}

func defaultEvolveSettings() evolveSettings {
	proxy := train.DefaultRecipe()
	proxy.Epochs, proxy.LR = 1, 0.2
	proxy.BNBatches = proxyBNBatches
	final := train.DefaultRecipe()
	// The defaults fit a search with its final stage into 15 minutes on a
	// 2-core machine; measured there (make evolve at 610c295, README): 12
	// proxy trials on 3,000 images in 1 min 21 s, then the best model and
	// mbv3-like trained for 2 epochs on the training split in 2 min 5 s and
	// 2 min 43 s, 6 min 18 s in all.
	final.Epochs = 2
	return evolveSettings{
		Version: settingsVersion,
		Search: nas.SearchConfig{Strategy: nas.StrategyEvolution, Trials: 12, Population: 6, SampleSize: 2, Seed: 1,
			Space: nas.DefaultSpace()},
		ProxyImages: 3000,
		ValImages:   1000,
		Proxy:       proxy,
		Latency:     latencySettings{Opt: latency.Options{Threads: 1, Runs: 30}, Calibrate: true},
		Table:       true,
		FinalTop:    1,
		Final:       final,
		References:  []string{"mbv3-like"},
	}
}

func (s evolveSettings) validate() error {
	if s.Search.Reward.TargetMs < 0 {
		return fmt.Errorf("--target-latency must be positive, got %v", s.Search.Reward.TargetMs)
	}
	r := s.Search.Reward
	if r.TargetMs == 0 {
		r.TargetMs = 1 // measured later
	}
	c := s.Search
	c.Reward = r
	if err := c.Validate(); err != nil {
		return err
	}
	if err := c.Space.Validate(); err != nil {
		return fmt.Errorf("search space: %w", err)
	}
	switch {
	case s.ProxyImages < s.Proxy.BatchSize:
		return fmt.Errorf("--proxy-images %d is less than one batch (%d)", s.ProxyImages, s.Proxy.BatchSize)
	case s.ValImages < 1:
		return fmt.Errorf("--val-images must be at least 1 (proxy accuracy is measured on them), got %d", s.ValImages)
	case s.Search.Prescreen > 0 && !s.Table:
		return errors.New("--prescreen needs the lookup table (--latency-table)")
	case s.FinalTop < 0:
		return fmt.Errorf("--final-top must not be negative, got %d", s.FinalTop)
	}
	if err := s.Proxy.Validate(); err != nil {
		return fmt.Errorf("proxy recipe: %w", err)
	}
	if err := s.Final.Validate(); err != nil {
		return fmt.Errorf("final recipe: %w", err)
	}
	for _, r := range s.References {
		if _, err := nas.RefNet(r); err != nil {
			return fmt.Errorf("--references: %w", err)
		}
	}
	return nil
}

// measurer returns where latency is measured.
func (s evolveSettings) measurer() latency.Measurer {
	if s.Latency.Server != "" {
		return latency.Client{URL: s.Latency.Server}
	}
	return latency.Local{}
}

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/nasrun/nasrun/internal/atomicfile"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nasrun/nasrun/data"
	"github.com/nasrun/nasrun/kernels"
	"github.com/nasrun/nasrun/latency"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/nn"
	"github.com/nasrun/nasrun/train"
)

// loadRunData loads a run's data: the seeded training/validation/test
// splits, and the fixed subset of the training split its proxy trains on.
func loadRunData(s evolveSettings) (*data.Splits, *data.Dataset, error) {
	in := s.Search.Space.Input
	return proxyData(data.Config{Dir: s.Data, Validation: s.ValImages, Seed: s.Search.Seed, H: in.H, W: in.W}, s.ProxyImages)
}

// proxyData loads the data's seeded splits and the fixed subset of
// proxyImages training images that every proxy training uses.
func proxyData(c data.Config, proxyImages int) (*data.Splits, *data.Dataset, error) {
	splits, err := data.Load(c)
	if err != nil {
		return nil, nil, err
	}
	if proxyImages > splits.Train.N {
		return nil, nil, fmt.Errorf("--proxy-images %d: the training split has only %d images", proxyImages, splits.Train.N)
	}
	perm := rand.New(rand.NewPCG(c.Seed, 0x9709)).Perm(splits.Train.N)[:proxyImages]
	return splits, splits.Train.Subset(perm), nil
}

// evolve runs (or continues) the search in dir and its final stage.
func evolve(ctx context.Context, dir string, s evolveSettings, resumed bool, stdout io.Writer) error {
	start := time.Now()
	settingsPath := filepath.Join(dir, "run.json")
	if !resumed {
		if _, err := os.Stat(settingsPath); err == nil {
			return fmt.Errorf("%s already holds a run: continue it with --resume %s, or choose another --out", dir, dir)
		}
	}
	// The data first: a missing data set fails before any measuring.
	splits, proxyTrain, err := loadRunData(s)
	if err != nil {
		return err
	}
	nt := setThreads(s.Threads)
	meas := s.measurer()
	dev, err := meas.Device(ctx)
	if err != nil {
		return fmt.Errorf("latency device: %w", err)
	}
	st := newStatus(stdout)
	ref, _ := nas.RefNet(calibrationRef)
	if s.Latency.Calibrate {
		if s.Latency.RefMs == 0 {
			c, err := latency.Calibrate(ctx, meas, ref, s.Latency.Opt, calibrationBaselines)
			if err != nil {
				return err
			}
			s.Latency.RefMs = c.BaseMs
		}
		meas = &latency.Calibrated{Measurer: meas, Ref: ref, BaseMs: s.Latency.RefMs}
	}
	if s.Search.Reward.TargetMs == 0 {
		if s.Latency.RefMs > 0 {
			s.Search.Reward.TargetMs = s.Latency.RefMs
		} else {
			lat, err := meas.Measure(ctx, ref, s.Latency.Opt)
			if err != nil {
				return fmt.Errorf("measuring the reference latency: %w", err)
			}
			s.Search.Reward.TargetMs = lat.MedianMs
		}
		s.TargetFrom = "the measured batch-1 latency of " + calibrationRef
	} else if s.TargetFrom == "" {
		s.TargetFrom = "--target-latency"
	}
	if !resumed {
		if err := nas.WriteJSON(settingsPath, s); err != nil {
			return err
		}
	}
	st.println("nasrun evolve: %s, %d trials, seed %d, target %.3f ms (%s), w = %g/%g",
		s.Search.Method(), s.Search.Trials, s.Search.Seed, s.Search.Reward.TargetMs, s.TargetFrom, s.Search.Reward.Alpha, s.Search.Reward.Beta)
	st.println("latency on %s/%s %s (%s kernels, %d thread), %s; training on %d threads, %s kernels; run directory %s",
		dev.OS, dev.Arch, dev.CPU, dev.Kernels, max(1, s.Latency.Opt.Threads), latencyWhere(s), nt, kernels.Active(), dir)

	ev := &proxyEval{s: s, dir: dir, train: proxyTrain, val: splits.Val, meas: meas, st: st}
	var search nas.Evaluator = ev
	if s.Table {
		tab, err := latency.OpenTable(ctx, filepath.Join(dir, "latency-table.json"), meas, s.Latency.Opt)
		if err != nil {
			return err
		}
		search = &tableEval{ev, tab}
	}

	log, done, err := nas.OpenTrialLog(dir)
	if err != nil {
		return err
	}
	defer log.Close()
	if len(done) > 0 {
		st.println("resuming after %d finished trials", len(done))
	}
	ev.best = bestOf(done)
	trials, err := nas.Search(ctx, s.Search, search, log, done, func(p nas.Progress) {
		ev.best, ev.eta = p.Best, p.ETA
		st.println("%s", trialLine(p.Last, s.Search))
	})
	if err != nil {
		return err
	}
	searchS := time.Since(start).Seconds()

	finals, err := finalStage(ctx, dir, s, trials, splits, meas, st)
	if err != nil {
		return err
	}
	return writeResults(dir, s, trials, finals, splits, time.Since(start), searchS, stdout)
}

// bestOf returns the ok trial with the highest reward.
func bestOf(ts []nas.Trial) nas.Trial {
	var best nas.Trial
	for _, t := range ts {
		if t.Status == nas.TrialOK && t.Reward > best.Reward {
			best = t
		}
	}
	return best
}

func trialLine(t nas.Trial, cfg nas.SearchConfig) string {
	head := fmt.Sprintf("trial %3d/%d  %-40s", t.Index+1, cfg.Trials, t.Genome.Summary())
	if t.Status != nas.TrialOK {
		return head + "  FAILED: " + t.Reason
	}
	from := "random"
	if t.Index == 0 && cfg.Init != nil {
		from = "the initial network"
	}
	if t.Mutation != nil {
		from = fmt.Sprintf("from %d: %s", t.Parent+1, t.Mutation)
	}
	if t.DupOf != nil {
		from += fmt.Sprintf(" (same as trial %d)", *t.DupOf+1)
	}
	return fmt.Sprintf("%s  acc %.2f%%  %.3f ms  %5.2f M MACs  reward %.4f  %s",
		head, 100*t.Acc, t.LatMs, float64(t.MACs)/1e6, t.Reward, from)
}

// proxyEval is the search's evaluator: proxy training on a fixed subset of
// the training split, validation on the held-out split, latency from the
// measurer.
type proxyEval struct {
	s          evolveSettings
	dir        string
	train, val *data.Dataset
	meas       latency.Measurer
	st         *status
	best       nas.Trial
	eta        time.Duration
}

func (e *proxyEval) weightsPath(trial int) string {
	return filepath.Join(e.dir, "weights", fmt.Sprintf("trial-%d.safetensors", trial))
}

// Accuracy proxy-trains g and returns its validation accuracy.
func (e *proxyEval) Accuracy(ctx context.Context, trial int, g nas.Genome, seed uint64, parent *nas.Trial) (float64, error) {
	from := ""
	if e.s.Inherit && parent != nil && parent.Status == nas.TrialOK { // a failed parent saved no weights
		from = e.weightsPath(parent.Index)
	}
	r := e.s.Proxy
	r.Seed = seed
	total := e.s.Search.Trials
	net, acc, err := proxyAccuracy(ctx, g, r, e.train, e.val, from, func(p train.Progress) {
		best := "none yet"
		if e.best.Status == nas.TrialOK {
			best = fmt.Sprintf("%.4f (acc %.2f%%, %.3f ms)", e.best.Reward, 100*e.best.Acc, e.best.LatMs)
		}
		eta := ""
		if e.eta > 0 {
			eta = "  search ETA " + dur(e.eta)
		}
		e.st.update(fmt.Sprintf("trial %d/%d training %s %d/%d  loss %.3f  %.0f img/s | best reward %s%s",
			trial+1, total, bar(p.Step, p.Steps, 12), (p.Epoch-1)*p.Steps+p.Step, p.Epochs*p.Steps, p.Loss, p.ImagesPerS, best, eta), false)
	})
	if err != nil || !e.s.Inherit {
		return acc, err
	}
	if err := os.MkdirAll(filepath.Dir(e.weightsPath(trial)), 0o755); err != nil {
		return 0, err
	}
	if err := net.Save(e.weightsPath(trial)); err != nil {
		return 0, err
	}
	// Only the population's weights can be inherited from.
	if old := trial - e.s.Search.Population; old >= 0 {
		os.Remove(e.weightsPath(old))
	}
	return acc, nil
}

// proxyAccuracy builds g from the recipe's seed (initialised from the
// network saved at inheritFrom where names and shapes match, when given),
// trains it with the recipe and returns it with its accuracy on val.
func proxyAccuracy(ctx context.Context, g nas.Genome, r train.Recipe, trainSet, val *data.Dataset, inheritFrom string,
	progress func(train.Progress)) (*nn.Network, float64, error) {
	net, err := nas.Build(g, rand.New(rand.NewPCG(r.Seed, 1)))
	if err != nil {
		return nil, 0, err
	}
	if inheritFrom != "" {
		if err := inherit(net, inheritFrom); err != nil {
			return nil, 0, fmt.Errorf("inheriting weights from %s: %w", inheritFrom, err)
		}
	}
	tr := &train.Trainer{Net: net, Recipe: r, Train: trainSet, Progress: progress}
	if _, err := tr.Run(ctx); err != nil {
		return nil, 0, err
	}
	acc, err := train.Evaluate(net, val, train.EvalBatch)
	return net, acc, err
}

// tableEval adds the lookup table's prediction to the proxy evaluator.
type tableEval struct {
	*proxyEval
	tab *latency.Table
}

// PredictLatency predicts g's latency from the table, measuring (and
// saving) the parts it does not know yet.
func (e *tableEval) PredictLatency(ctx context.Context, g nas.Genome) (float64, error) {
	e.st.update("predicting latency: measuring new blocks for the lookup table", false)
	ms, err := e.tab.Estimate(ctx, g)
	if err != nil {
		return 0, err
	}
	return ms, e.tab.Save()
}

// Latency measures g's batch-1 latency.
func (e *proxyEval) Latency(ctx context.Context, g nas.Genome) (float64, string, error) {
	st, err := e.meas.Measure(ctx, g, e.s.Latency.Opt)
	if err != nil {
		return 0, "", err
	}
	from := "measured"
	if e.s.Latency.Server != "" {
		from = "server"
	}
	return st.MedianMs, from, nil
}

// inheritNote describes --inherit for the report's settings.
func inheritNote(s evolveSettings) string {
	if !s.Inherit {
		return ""
	}
	return "; each child starts from its parent's proxy-trained weights where shapes match (--inherit), so a lineage's accuracy includes its ancestors' training"
}

// inherit copies every tensor of the network saved at path whose name and
// shape match one of net's (weight sharing in its cheapest form).
func inherit(net *nn.Network, path string) error {
	parent, _, err := nas.LoadNetwork(path)
	if err != nil {
		return err
	}
	have := map[string]nn.Entry{}
	for _, e := range parent.Entries() {
		have[e.Name] = e
	}
	for _, e := range net.Entries() {
		if p, ok := have[e.Name]; ok && slices.Equal(p.Value.Shape, e.Value.Shape) {
			copy(e.Value.Data, p.Value.Data)
		}
	}
	return nil
}

// finalJob is a model of the final stage: a search trial or a reference net.
type finalJob struct {
	name  string
	trial *nas.Trial // nil for a reference net
	g     nas.Genome
}

// finalJobs lists the final stage's models: the top Pareto trials by
// reward, then the reference nets. A reference net on the front (a search
// started from it with --init) is trained as the reference, so the next
// trial takes its place.
func finalJobs(trials []nas.Trial, top int, references []string) []finalJob {
	front := nas.Front(trials)
	slices.SortStableFunc(front, func(a, b nas.Trial) int { return cmp.Compare(b.Reward, a.Reward) })
	isRef := make(map[string]bool)
	var refs []finalJob
	for _, r := range references {
		g, _ := nas.RefNet(r)
		isRef[g.ID()] = true
		refs = append(refs, finalJob{r, nil, g})
	}
	var jobs []finalJob
	for i := 0; i < len(front) && len(jobs) < top; i++ {
		if t := front[i]; !isRef[t.ID] {
			jobs = append(jobs, finalJob{fmt.Sprintf("trial %d", t.Index+1), &t, t.Genome})
		}
	}
	return append(jobs, refs...)
}

// finalStage retrains the best Pareto models and the reference nets with the
// final recipe and tests each once. Every finished model is saved in
// final.json at once, so a resumed run skips the finished ones (also when
// more trials changed the front: a model still on it is not trained again);
// a model interrupted mid-training continues from its checkpoint. It
// returns the current jobs' results in the jobs' order.
func finalStage(ctx context.Context, dir string, s evolveSettings, trials []nas.Trial, splits *data.Splits,
	meas latency.Measurer, st *status) ([]nas.FinalModel, error) {
	jobs := finalJobs(trials, s.FinalTop, s.References)
	finalPath := filepath.Join(dir, "final.json")
	var finished []nas.FinalModel
	if err := nas.ReadJSON(finalPath, &finished); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "final"), 0o755); err != nil {
		return nil, err
	}
	var finals []nas.FinalModel
	for k, j := range jobs {
		if i := slices.IndexFunc(finished, func(f nas.FinalModel) bool { return f.Name == j.name && f.ID == j.g.ID() }); i >= 0 {
			finals = append(finals, finished[i]) // finished before a restart
			continue
		}
		file := strings.ReplaceAll(j.name, " ", "-")
		net, err := nas.Build(j.g, rand.New(rand.NewPCG(s.Final.Seed, 2)))
		if err != nil {
			return nil, err
		}
		st.println("final %d/%d: training %s (%s) for %d epochs on %d images", k+1, len(jobs), j.name, j.g.Summary(), s.Final.Epochs, splits.Train.N)
		tr := &train.Trainer{Net: net, Recipe: s.Final, Train: splits.Train,
			Checkpoint: filepath.Join(dir, "final", file+".ckpt.safetensors"), Resume: true,
			Progress: func(p train.Progress) {
				st.update(fmt.Sprintf("final %d/%d %s: epoch %d/%d %s loss %.3f  acc %.2f%%  %.0f img/s  ETA %s",
					k+1, len(jobs), j.name, p.Epoch, p.Epochs, bar(p.Step, p.Steps, 16), p.Loss, 100*p.TrainAcc, p.ImagesPerS, dur(p.ETA)), p.EpochDone)
			}}
		res, err := tr.Run(ctx)
		if err != nil {
			return nil, fmt.Errorf("final training of %s: %w", j.name, err)
		}
		acc, err := train.Evaluate(net, splits.Test, train.EvalBatch)
		if err != nil {
			return nil, err
		}
		if err := net.Save(filepath.Join(dir, "final", file+".safetensors")); err != nil {
			return nil, err
		}
		c := j.g.Cost()
		f := nas.FinalModel{Name: j.name, Trial: -1, ID: j.g.ID(), Genome: j.g, TestAcc: acc, MACs: c.MACs, Params: c.Params,
			Epochs: s.Final.Epochs, TrainS: res.TrainS, Weights: filepath.Join("final", file+".safetensors")}
		if j.trial != nil {
			f.Trial, f.ProxyAcc, f.LatMs = j.trial.Index, j.trial.Acc, j.trial.LatMs
		} else {
			f.Reference = true
			lat, err := meas.Measure(ctx, j.g, s.Latency.Opt)
			if err != nil {
				return nil, err
			}
			f.LatMs = lat.MedianMs
		}
		f.Reward = s.Search.Reward.Of(acc, f.LatMs)
		st.println("final %d/%d: %s  test acc %.2f%%  %.3f ms  reward %.4f  (%s of training at %.0f img/s)",
			k+1, len(jobs), j.name, 100*acc, f.LatMs, f.Reward, dur(time.Duration(res.TrainS*float64(time.Second))), res.ImagesPerS)
		finals, finished = append(finals, f), append(finished, f)
		if err := nas.WriteJSON(finalPath, finished); err != nil {
			return nil, err
		}
		os.Remove(tr.Checkpoint)
	}
	return finals, nil
}

// writeResults writes pareto.json, best.json and best.safetensors,
// report.md and pareto.png, and prints the front and the best model.
func writeResults(dir string, s evolveSettings, trials []nas.Trial, finals []nas.FinalModel, splits *data.Splits,
	total time.Duration, searchS float64, stdout io.Writer) error {
	front := nas.Front(trials)
	if err := nas.WriteJSON(filepath.Join(dir, "pareto.json"), front); err != nil {
		return err
	}
	var best *nas.FinalModel // a copy, not a pointer into finals
	for _, f := range finals {
		if !f.Reference && (best == nil || f.Reward > best.Reward) {
			best = &f
		}
	}
	if best != nil {
		if err := best.Genome.Save(filepath.Join(dir, "best.json")); err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, best.Weights))
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, "best.safetensors"), b); err != nil {
			return err
		}
	}
	var trainS, latS float64
	for _, t := range trials {
		trainS += t.Timing.TrainS
		latS += t.Timing.LatencyS
	}
	rep := nas.ReportInput{
		Title: "nasrun evolve report",
		Settings: []string{
			fmt.Sprintf("strategy %s, %d trials, seed %d", s.Search.Method(), s.Search.Trials, s.Search.Seed),
			fmt.Sprintf("reward ACC×(LAT/T)^w with T = %.3f ms (%s), α = %g, β = %g", s.Search.Reward.TargetMs, s.TargetFrom, s.Search.Reward.Alpha, s.Search.Reward.Beta),
			fmt.Sprintf("proxy training: %d images, %d epoch(s), %s lr %g, batch %d, batch-norm statistics recomputed on %d batches%s; validation on %d held-out training images",
				s.ProxyImages, s.Proxy.Epochs, s.Proxy.Optimizer, s.Proxy.LR, s.Proxy.BatchSize, s.Proxy.BNBatches, inheritNote(s), s.ValImages),
			fmt.Sprintf("latency: batch 1, %d thread(s), median of %d runs, %s", max(1, s.Latency.Opt.Threads), s.Latency.Opt.Runs, latencyWhere(s)),
			fmt.Sprintf("final training: %d epochs on %d images, %s lr %g %s, batch %d; test set (%d images) used once per model", s.Final.Epochs, splits.Train.N, s.Final.Optimizer, s.Final.LR, s.Final.Schedule, s.Final.BatchSize, splits.Test.N),
			fmt.Sprintf("data: %s", splits.Dir),
		},
		Trials: trials, Finals: finals,
		Notes: []string{
			tableNote(trials),
			fmt.Sprintf("total %s in this session (the search part %s); proxy training %.0f s and latency measurement %.0f s over all trials; peak RSS %s", dur(total), dur(time.Duration(searchS*float64(time.Second))), trainS, latS, mib(peakRSS())),
		},
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "report.md"), []byte(rep.Markdown())); err != nil {
		return err
	}
	if err := nas.PlotPareto(filepath.Join(dir, "pareto.png"), trials, finals); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nPareto front (%d of %d trials; proxy accuracy on %d validation images):\n", len(front), len(trials), s.ValImages)
	for _, t := range front {
		fmt.Fprintf(stdout, "  trial %3d  %-40s  acc %.2f%%  %.3f ms  reward %.4f\n", t.Index+1, t.Genome.Summary(), 100*t.Acc, t.LatMs, t.Reward)
	}
	fmt.Fprintln(stdout, tableNote(trials))
	if len(finals) > 0 {
		fmt.Fprintln(stdout, "\nFinal models (test accuracy, evaluated once):")
	}
	for _, f := range finals {
		fmt.Fprintf(stdout, "  %-12s  %-40s  test acc %.2f%%  %.3f ms  reward %.4f\n", f.Name, f.Genome.Summary(), 100*f.TestAcc, f.LatMs, f.Reward)
	}
	if best != nil {
		fmt.Fprintf(stdout, "\nbest: %s, test accuracy %.2f%% at %.3f ms (target %.3f ms): %s/best.json, %s/best.safetensors\n",
			best.Name, 100*best.TestAcc, best.LatMs, s.Search.Reward.TargetMs, dir, dir)
	}
	fmt.Fprintf(stdout, "report: %s/report.md, plot: %s/pareto.png (%s in all, peak RSS %s)\n", dir, dir, dur(total), mib(peakRSS()))
	return nil
}

func tableNote(trials []nas.Trial) string {
	mean, worst, n := nas.PredictionError(trials)
	if n == 0 {
		return "latency lookup table: off"
	}
	return fmt.Sprintf("latency lookup table (sum of per-block latencies measured in isolation) against the measured latency: mean error %.1f%%, worst %.1f%% over %d architectures", 100*mean, 100*worst, n)
}

func latencyWhere(s evolveSettings) string {
	where := "measured on this machine"
	if s.Latency.Server != "" {
		where = "on the latency server " + s.Latency.Server
	}
	if s.Latency.Calibrate {
		where += fmt.Sprintf(", calibrated against %s (baseline %.3f ms)", calibrationRef, s.Latency.RefMs)
	}
	return where
}

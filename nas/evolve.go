package nas

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Strategies of a search.
const (
	StrategyEvolution = "evolution" // regularized (aging) evolution
	StrategyRandom    = "random"    // random search, the baseline
)

// Selections: how evolution's tournament picks a parent among its S
// sampled members.
const (
	// SelectReward picks the member with the highest reward, MnasNet's
	// single objective (the default).
	SelectReward = "reward"
	// SelectPareto picks by NSGA-II's crowded comparison on accuracy and
	// latency within the population (non-domination level, then crowding
	// distance), then the highest reward: every part of the front breeds,
	// its two ends first, which widens it.
	SelectPareto = "pareto"
	// SelectHypervolume picks by non-domination level within the
	// population, then by the exclusive hypervolume each member adds to its
	// level's front (SMS-EMOA), then the highest reward: it breeds the
	// member the front would miss most, ends and gaps alike, and passes
	// over near-copies piled up at one end.
	SelectHypervolume = "hypervolume"
)

// SearchConfig is what determines a search's trials. Together with the
// evaluator's settings it must be the same when a run is resumed.
type SearchConfig struct {
	Strategy   string `json:"strategy"`
	Trials     int    `json:"trials"`     // total number of trials
	Population int    `json:"population"` // P: the population is the P most recent trials
	SampleSize int    `json:"sample"`     // S: tournament size for picking a parent
	// Selection is SelectReward, SelectPareto or SelectHypervolume; empty
	// means SelectReward
	// (the runs logged before the choice existed).
	Selection string `json:"selection,omitempty"`
	Seed      uint64 `json:"seed"`
	Reward    Reward `json:"reward"`
	Space     *Space `json:"space"`
	// Prescreen, when > 0 and the evaluator is a Predictor, redraws a
	// candidate whose predicted latency exceeds Prescreen × the target
	// before any training is spent on it. (A candidate whose architecture
	// an earlier trial had is always redrawn.)
	Prescreen float64 `json:"prescreen,omitempty"`
	// Init, when set, starts the search from a known network: it is
	// trial 0, and under evolution the rest of the first population are
	// its one-mutation children instead of random samples (a local search
	// around a design the user already has). Random search only adds it
	// as trial 0.
	Init *Genome `json:"init,omitempty"`
	// CommonSeed trains every trial from one seed, CommonTrainSeed(Seed),
	// instead of a seed of its own: common random numbers. The batches'
	// order, their augmentation and the random stream that initialises the
	// weights are then the same for every candidate (layers a child shares
	// with its parent draw alike up to the first that differs), so that
	// two candidates' proxy accuracies differ less by luck.
	CommonSeed bool `json:"common_seed,omitempty"`
}

// CommonTrainSeed is the training seed every trial of a CommonSeed run
// uses. It depends on the run's seed alone, so runs of different
// strategies with one --seed train their candidates alike too.
func CommonTrainSeed(seed uint64) uint64 {
	return rand.New(rand.NewPCG(seed, 0x636f6d6d6f6e)).Uint64() // "common"
}

// MaxRedraws bounds how often a trial's candidate is redrawn (prescreened
// away, or an architecture tried before); the last draw is taken whatever
// its prediction, and a repeat then reuses the earlier trial's results.
const MaxRedraws = 20

// ParentSelection returns the selection evolution uses: Selection, or
// SelectReward when it is empty.
func (c SearchConfig) ParentSelection() string {
	if c.Selection == "" {
		return SelectReward
	}
	return c.Selection
}

// Method describes how the search picks its candidates, e.g. "evolution
// (P=8, S=3, parents by reward)", "random" or "evolution (P=8, S=3,
// parents by pareto), starting from mbv3-like".
func (c SearchConfig) Method() string {
	m := c.Strategy
	if c.Strategy == StrategyEvolution {
		m = fmt.Sprintf("%s (P=%d, S=%d, parents by %s)", c.Strategy, c.Population, c.SampleSize, c.ParentSelection())
	}
	if c.Init != nil {
		from := c.Init.Name
		if from == "" {
			from = c.Init.Summary()
		}
		m += ", starting from " + from
	}
	if c.CommonSeed {
		m += ", one training seed"
	}
	return m
}

// Predictor is implemented by evaluators that can predict a genome's
// latency cheaply (from a per-block lookup table). The search logs each
// trial's prediction next to its measurement, so the report can give the
// predictor's error, and uses it to prescreen candidates.
type Predictor interface {
	PredictLatency(ctx context.Context, g Genome) (float64, error)
}

// Validate reports the first setting that cannot work, naming it.
func (c SearchConfig) Validate() error {
	switch {
	case c.Strategy != StrategyEvolution && c.Strategy != StrategyRandom:
		return fmt.Errorf("strategy %q: want %q or %q", c.Strategy, StrategyEvolution, StrategyRandom)
	case c.Selection != "" && c.Selection != SelectReward && c.Selection != SelectPareto && c.Selection != SelectHypervolume:
		return fmt.Errorf("selection %q: want %q, %q or %q", c.Selection, SelectReward, SelectPareto, SelectHypervolume)
	case c.Trials < 1:
		return fmt.Errorf("trials must be at least 1, got %d", c.Trials)
	case c.Population < 2:
		return fmt.Errorf("population must be at least 2, got %d", c.Population)
	case c.SampleSize < 1 || c.SampleSize > c.Population:
		return fmt.Errorf("sample must be between 1 and the population (%d), got %d", c.Population, c.SampleSize)
	case c.Space == nil:
		return errors.New("no search space")
	case c.Prescreen < 0:
		return fmt.Errorf("prescreen factor must not be negative, got %v", c.Prescreen)
	}
	if err := c.Reward.Validate(); err != nil {
		return err
	}
	if err := c.Space.Validate(); err != nil {
		return err
	}
	if c.Init != nil {
		if err := c.Space.Contains(*c.Init); err != nil {
			return fmt.Errorf("initial network: %w", err)
		}
	}
	return nil
}

// Evaluator estimates a candidate network. Both methods must be
// deterministic functions of their arguments (for a fixed machine and
// settings) for a resumed run to repeat an uninterrupted one; Latency is
// called only after Accuracy has returned, so measurement never shares the
// cores with training.
type Evaluator interface {
	// Accuracy proxy-trains g from a seed (and from the parent's weights
	// when the evaluator inherits them; parent is nil for random samples)
	// and returns its validation accuracy in [0, 1]. An error fails the
	// trial (a diverged run, say), except a context error, which stops
	// the search.
	Accuracy(ctx context.Context, trial int, g Genome, seed uint64, parent *Trial) (float64, error)
	// Latency returns g's batch-1 latency in milliseconds and how it was
	// obtained (e.g. "measured", "server", "table").
	Latency(ctx context.Context, g Genome) (ms float64, from string, err error)
}

// Progress is reported after each finished trial.
type Progress struct {
	Done, Total int
	Last        Trial
	Best        Trial // highest reward so far (zero before the first ok trial)
	Elapsed     time.Duration
	ETA         time.Duration // estimate for the remaining trials of this session
}

// Search runs trials from len(done) up to cfg.Trials, appending each to log
// as soon as it finishes, and returns all trials. done must be the trials
// already in the log (see OpenTrialLog): the search continues exactly where
// they end. Every random choice of trial i derives from (cfg.Seed, i) and
// the earlier trials, so a resumed search makes the same choices as an
// uninterrupted one.
func Search(ctx context.Context, cfg SearchConfig, ev Evaluator, log *TrialLog, done []Trial, progress func(Progress)) ([]Trial, error) {
	if err := cfg.Validate(); err != nil {
		return done, err
	}
	trials := append([]Trial(nil), done...)
	start, startN := time.Now(), len(trials)
	for i := len(trials); i < cfg.Trials; i++ {
		t, err := runTrial(ctx, cfg, ev, trials, i)
		if err != nil {
			return trials, err
		}
		if err := log.Append(t); err != nil {
			return trials, err
		}
		trials = append(trials, t)
		if progress != nil {
			el := time.Since(start)
			n := len(trials) - startN
			progress(Progress{Done: len(trials), Total: cfg.Trials, Last: t, Best: bestTrial(trials),
				Elapsed: el, ETA: el / time.Duration(n) * time.Duration(cfg.Trials-len(trials))})
		}
	}
	return trials, nil
}

// TrialRand returns the random source of trial i of a run with the given
// seed: the only randomness a trial's choices use.
func TrialRand(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(i)^0x6e617372756e)) // "nasrun"
}

// runTrial chooses trial i's genome and evaluates it. It returns an error
// only when the search must stop (the context ended); a failing candidate
// becomes a failed trial.
func runTrial(ctx context.Context, cfg SearchConfig, ev Evaluator, trials []Trial, i int) (Trial, error) {
	rng := TrialRand(cfg.Seed, i)
	t := Trial{Index: i, Parent: -1}
	var parent *Trial
	pred, _ := ev.(Predictor)
	seen := make(map[string]bool, len(trials))
	for k := range trials {
		seen[trials[k].ID] = true
	}
	own := cfg.Init != nil && i == 0 // the user's own network: never redrawn
	for draw := 0; ; draw++ {
		switch {
		case own:
			t.Genome = cfg.Init.Clone()
		case cfg.Init != nil && cfg.Strategy == StrategyEvolution && i < cfg.Population:
			parent = &trials[0]
			child, m := cfg.Space.Mutate(parent.Genome, rng)
			t.Genome, t.Parent, t.Mutation = child, 0, &m
		case cfg.Strategy == StrategyRandom || i < cfg.Population:
			t.Genome = cfg.Space.Sample(rng)
		default:
			parent = tournament(trials[i-cfg.Population:i], cfg.SampleSize, cfg.Selection, rng)
			child, m := cfg.Space.Mutate(parent.Genome, rng)
			t.Genome, t.Parent, t.Mutation = child, parent.Index, &m
		}
		// An architecture tried before would spend the trial on a second
		// estimate of a known point (a child often reverts its parent's
		// last mutation): draw again.
		if seen[t.Genome.ID()] && draw < MaxRedraws {
			t.Redraws++
			continue
		}
		if pred == nil {
			break
		}
		ms, err := pred.PredictLatency(ctx, t.Genome)
		if ctx.Err() != nil {
			return t, ctx.Err()
		}
		if err != nil {
			return t, fmt.Errorf("trial %d: predicting latency: %w", i, err)
		}
		t.PredMs = ms
		if own || cfg.Prescreen <= 0 || ms <= cfg.Prescreen*cfg.Reward.TargetMs || draw == MaxRedraws {
			break
		}
		t.Redraws++
	}
	trainSeed := rng.Uint64()
	if cfg.CommonSeed {
		trainSeed = CommonTrainSeed(cfg.Seed)
	}
	t.ID = t.Genome.ID()
	c := t.Genome.Cost()
	t.MACs, t.Params = c.MACs, c.Params

	// The same architecture again after MaxRedraws draws (a population
	// that has converged): reuse its results rather than train it again.
	for k := range trials {
		if prev := &trials[k]; prev.ID == t.ID && prev.Status == TrialOK {
			dup := prev.Index
			t.DupOf = &dup
			t.Status, t.Acc, t.LatMs, t.LatFrom = TrialOK, prev.Acc, prev.LatMs, "cached"
			t.Reward = cfg.Reward.Of(t.Acc, t.LatMs)
			return t, nil
		}
	}

	t0 := time.Now()
	acc, err := ev.Accuracy(ctx, i, t.Genome, trainSeed, parent)
	t.Timing.TrainS = time.Since(t0).Seconds()
	if ctx.Err() != nil {
		return t, ctx.Err()
	}
	if err != nil {
		t.Status, t.Reason = TrialFailed, err.Error()
		return t, nil
	}
	t1 := time.Now()
	lat, from, err := ev.Latency(ctx, t.Genome)
	t.Timing.LatencyS = time.Since(t1).Seconds()
	if ctx.Err() != nil {
		return t, ctx.Err()
	}
	if err != nil {
		t.Status, t.Reason = TrialFailed, "latency: "+err.Error()
		return t, nil
	}
	t.Status, t.Acc, t.LatMs, t.LatFrom = TrialOK, acc, lat, from
	t.Reward = cfg.Reward.Of(acc, lat)
	return t, nil
}

// tournament samples s distinct members of pop uniformly and returns the
// best of them by the selection (SelectReward when empty): the highest
// reward (failed trials have reward 0); or, by SelectPareto and
// SelectHypervolume, the lowest non-domination level within pop, then the
// largest crowding distance or hypervolume contribution within that level,
// then the highest reward. Ties go to the earliest trial.
func tournament(pop []Trial, s int, selection string, rng *rand.Rand) *Trial {
	perm := rng.Perm(len(pop))[:s]
	level, score := make([]int, len(pop)), make([]float64, len(pop))
	switch selection {
	case SelectPareto:
		level, score = paretoLevels(pop)
	case SelectHypervolume:
		var fronts [][]int
		level, fronts = nonDominatedLevels(pop)
		score = hvContributions(pop, fronts)
	}
	b := perm[0]
	for _, j := range perm[1:] {
		switch {
		case level[j] != level[b]:
			if level[j] < level[b] {
				b = j
			}
		case score[j] != score[b]:
			if score[j] > score[b] {
				b = j
			}
		case pop[j].Reward != pop[b].Reward:
			if pop[j].Reward > pop[b].Reward {
				b = j
			}
		case pop[j].Index < pop[b].Index:
			b = j
		}
	}
	return &pop[b]
}

// nonDominatedLevels sorts pop into non-domination levels on accuracy and
// latency (0: the members no other dominates; 1: those only level 0
// dominates; …; failed trials after every ok one, in no front) and returns
// each member's level and the levels' members, each sorted by latency
// (along a front, accuracy rises as latency does).
func nonDominatedLevels(pop []Trial) (level []int, fronts [][]int) {
	level = make([]int, len(pop))
	var left []int
	for i := range pop {
		if pop[i].Status == TrialOK {
			left = append(left, i)
		} else {
			level[i] = len(pop)
		}
	}
	pt := func(i int) Point { return Point{pop[i].Acc, pop[i].LatMs} }
	for l := 0; len(left) > 0; l++ {
		var front, rest []int
		for _, i := range left {
			dominated := false
			for _, j := range left {
				if pt(j).Dominates(pt(i)) {
					dominated = true
					break
				}
			}
			if dominated {
				rest = append(rest, i)
			} else {
				front = append(front, i)
				level[i] = l
			}
		}
		slices.SortFunc(front, func(a, b int) int { return cmp.Compare(pop[a].LatMs, pop[b].LatMs) })
		fronts = append(fronts, front)
		left = rest
	}
	return level, fronts
}

// paretoLevels returns each member's non-domination level and its crowding
// distance within its level: the normalized gap between its neighbours on
// both objectives, infinite at the level's two ends, so that the ends and
// the sparse parts of a front win ties (NSGA-II).
func paretoLevels(pop []Trial) (level []int, crowd []float64) {
	level, fronts := nonDominatedLevels(pop)
	crowd = make([]float64, len(pop))
	for _, front := range fronts {
		n := len(front)
		crowd[front[0]], crowd[front[n-1]] = math.Inf(1), math.Inf(1)
		latSpan := pop[front[n-1]].LatMs - pop[front[0]].LatMs
		accSpan := pop[front[n-1]].Acc - pop[front[0]].Acc
		for k := 1; k < n-1; k++ {
			prev, next := &pop[front[k-1]], &pop[front[k+1]]
			if latSpan > 0 {
				crowd[front[k]] += (next.LatMs - prev.LatMs) / latSpan
			}
			if accSpan > 0 {
				crowd[front[k]] += (next.Acc - prev.Acc) / accSpan
			}
		}
	}
	return level, crowd
}

// hvContributions returns each ok member's exclusive hypervolume
// contribution within its non-domination level (SMS-EMOA): the area of the
// accuracy–latency rectangle that only it dominates, between its
// neighbours on the front. The reference point lies a tenth of pop's span
// beyond its worst accuracy and latency, so that a front's two ends
// contribute a finite area that can lose to a large gap in its middle.
// Unlike the crowding distance, which always favours the ends, this
// breeds the member whose loss would shrink the front most: where a
// lineage has piled up near-copies at one end, they contribute little.
func hvContributions(pop []Trial, fronts [][]int) []float64 {
	hv := make([]float64, len(pop))
	if len(fronts) == 0 {
		return hv
	}
	minAcc, maxAcc := math.Inf(1), math.Inf(-1)
	minLat, maxLat := math.Inf(1), math.Inf(-1)
	for _, f := range fronts {
		for _, i := range f {
			minAcc, maxAcc = min(minAcc, pop[i].Acc), max(maxAcc, pop[i].Acc)
			minLat, maxLat = min(minLat, pop[i].LatMs), max(maxLat, pop[i].LatMs)
		}
	}
	// A margin that is never zero, so that one lone member still has area.
	refAcc := minAcc - max(0.1*(maxAcc-minAcc), 1e-3)
	refLat := maxLat + max(0.1*(maxLat-minLat), 1e-3*maxLat+1e-9)
	for _, front := range fronts {
		for k, i := range front {
			below, right := refAcc, refLat
			if k > 0 {
				below = pop[front[k-1]].Acc
			}
			if k+1 < len(front) {
				right = pop[front[k+1]].LatMs
			}
			hv[i] = max(right-pop[i].LatMs, 0) * max(pop[i].Acc-below, 0)
		}
	}
	return hv
}

// bestTrial returns the ok trial with the highest reward, the earliest on
// ties, or a zero Trial.
func bestTrial(trials []Trial) Trial {
	var best Trial
	found := false
	for _, t := range trials {
		if t.Status == TrialOK && (!found || t.Reward > best.Reward) {
			best, found = t, true
		}
	}
	return best
}

package main

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/nasrun/nasrun/bench/cost"
	"github.com/nasrun/nasrun/bench/suite"
)

type key struct {
	row     string
	threads int
	engine  string
}

// table collects every engine's time per row, thread count and round.
type table struct {
	rows    []suite.Row
	threads []int
	engines []string          // engines[0] is nasrun
	ms      map[key][]float64 // by round; NaN where the engine skipped the row
	skip    map[key]string
	rounds  int
}

func newTable(rows []suite.Row, threads []int, engines []*engine) *table {
	t := &table{rows: rows, threads: threads, ms: map[key][]float64{}, skip: map[key]string{}}
	for _, e := range engines {
		t.engines = append(t.engines, e.name)
	}
	return t
}

func (t *table) add(round int, row string, threads int, engine string, r result) {
	k := key{row, threads, engine}
	for len(t.ms[k]) <= round {
		t.ms[k] = append(t.ms[k], math.NaN())
	}
	t.rounds = max(t.rounds, round+1)
	if r.Skip != "" || r.Ms <= 0 {
		t.skip[k] = r.Skip
		return
	}
	t.ms[k][round] = r.Ms
	if *flagClock == "cpu" && r.CPUMs > 0 {
		t.ms[k][round] = r.CPUMs
	}
}

// median of the values that are not NaN; NaN if there are none.
func median(v []float64) float64 {
	var s []float64
	for _, x := range v {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// bestPeer returns the median over rounds of (fastest peer's ms / nasrun's
// ms) within each round, and the peer that was fastest most often.
func (t *table) bestPeer(row string, threads int) (float64, string) {
	nas := t.ms[key{row, threads, t.engines[0]}]
	var ratios []float64
	wins := map[string]int{}
	for round := range nas {
		best, who := math.Inf(1), ""
		for _, e := range t.engines[1:] {
			if v := t.ms[key{row, threads, e}]; round < len(v) && v[round] < best {
				best, who = v[round], e
			}
		}
		if who != "" && !math.IsNaN(nas[round]) {
			ratios = append(ratios, best/nas[round])
			wins[who]++
		}
	}
	who := ""
	for e, n := range wins {
		if who == "" || n > wins[who] || n == wins[who] && e < who {
			who = e
		}
	}
	return median(ratios), who
}

func fmtMs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v < 0.01:
		return fmt.Sprintf("%.4f", v)
	case v < 10:
		return fmt.Sprintf("%.3f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// markdown renders the table, the machine and command lines and the notes.
func (t *table) markdown(rf *roofline, machine, command string, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s  \nCommand: `%s`  \n", machine, command)
	fmt.Fprintf(&b, "Method: each engine a server process; rows interleaved row by row, engine by engine, over %d rounds; "+
		"a cell is the median over rounds of the engine's median of %d samples of ~%g ms (at least 3 for rows slower than a %g s budget); "+
		"the best-peer ratio (fastest peer ms ÷ nasrun ms, > 1: nasrun is faster) is taken within each round, median shown; "+
		"rows nasrun cannot run yet are timed on the peers in the first round only.  \n",
		t.rounds, *flagSamples, *flagSample, *flagBudget/1e3)
	if *flagClock == "cpu" {
		b.WriteString("Clock: single-thread cells are the thread CPU time per call (the engine's own time, without the time " +
			"other processes of the machine took from it; the same as wall time on an idle machine); cells at more threads are wall time.  \n")
	}
	if rf != nil {
		fmt.Fprintf(&b, "Roofline (bench/peers/roofline): %s. The roofline column is max(FLOPs ÷ FMA peak, bytes ÷ bandwidth of the level the working set fits in) ÷ nasrun's time.\n", rf.summary(t.threads))
	}
	b.WriteString("\n| row | shape | threads |")
	for _, e := range t.engines {
		fmt.Fprintf(&b, " %s ms |", e)
	}
	b.WriteString(" best peer ÷ nasrun | roofline |\n|---|---|--:|")
	b.WriteString(strings.Repeat("--:|", len(t.engines)+2) + "\n")
	skips := map[string][]string{} // "engine: reason" → rows
	disturbed := false
	for _, r := range t.rows {
		shape := strings.TrimPrefix(r.Name(), r.ID+"/")
		for _, th := range t.threads {
			fmt.Fprintf(&b, "| %s | %s | %d |", r.ID, shape, th)
			for _, e := range t.engines {
				k := key{r.ID, th, e}
				m := median(t.ms[k])
				cell := fmtMs(m)
				if r.Op == "model-train" && !math.IsNaN(m) { // training throughput, too
					cell += fmt.Sprintf(" (%.0f img/s)", float64(r.N)/m*1e3)
				}
				if th > t.threads[0] && m > median(t.ms[key{r.ID, t.threads[0], e}]) {
					cell += " †"
					disturbed = true
				}
				fmt.Fprintf(&b, " %s |", cell)
				if why, ok := t.skip[k]; ok {
					n := e + ": " + why
					if !slices.Contains(skips[n], r.ID) {
						skips[n] = append(skips[n], r.ID)
					}
				}
			}
			ratio, who := t.bestPeer(r.ID, th)
			if math.IsNaN(ratio) {
				b.WriteString(" – |")
			} else {
				fmt.Fprintf(&b, " %.2f (%s) |", ratio, who)
			}
			nas := median(t.ms[key{r.ID, th, t.engines[0]}])
			if rf == nil || math.IsNaN(nas) || cost.Bytes(r) == 0 {
				b.WriteString(" – |\n")
			} else {
				bound, limit := rf.bound(r, th)
				fmt.Fprintf(&b, " %.0f%% %s |\n", 100*bound/nas, limit)
			}
		}
	}
	var sk []string
	for n, ids := range skips {
		sk = append(sk, fmt.Sprintf("- %s (%s)", n, strings.Join(ids, ", ")))
	}
	slices.Sort(sk)
	if disturbed {
		notes = append(notes, fmt.Sprintf("† slower on more threads than on %d: the engine's threading costs more than it gains "+
			"at this size, or other processes disturbed it (a thread pool waits for a thread that was preempted).", t.threads[0]))
	}
	if len(sk)+len(notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range notes {
			b.WriteString("- " + n + "\n")
		}
		b.WriteString(strings.Join(sk, "\n") + "\n")
	}
	return b.String()
}

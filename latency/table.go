package latency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nasrun/nasrun/internal/atomicfile"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/nasrun/nasrun/nas"
)

// TableVersion is the version of the table file format.
const TableVersion = 1

// Entry is one part's latency in a lookup table.
type Entry struct {
	MedianMs float64 `json:"median_ms"`
	P90Ms    float64 `json:"p90_ms"`
	// ThreadMedianMs is the median thread CPU time (see Stats), 0 where
	// the device does not report it.
	ThreadMedianMs float64 `json:"thread_median_ms,omitempty"`
	Runs           int     `json:"runs"`
}

// tableFile is the on-disk form: entries per device key ([Device.Key]),
// then per part key, so one file serves several devices and thread counts.
type tableFile struct {
	Version int                         `json:"version"`
	Devices map[string]map[string]Entry `json:"devices"`
}

// Table is a per-block latency lookup table for one device and thread
// count: it predicts a genome's latency as the sum of its parts' latencies
// ([Parts]), each measured once in isolation on the device by its
// [Measurer]. It is safe for concurrent use.
type Table struct {
	m      Measurer
	opt    Options
	path   string
	device string

	mu      sync.Mutex
	entries map[string]Entry
}

// OpenTable returns the table of m's device at opt's thread count, with
// the entries cached at path for that device (none when the file does not
// exist; path "" keeps the table in memory). New entries are measured with
// opt.
func OpenTable(ctx context.Context, path string, m Measurer, opt Options) (*Table, error) {
	opt = opt.Normalize()
	d, err := m.Device(ctx)
	if err != nil {
		return nil, err
	}
	t := &Table{m: m, opt: opt, path: path, device: d.Key(opt.Threads), entries: map[string]Entry{}}
	if path == "" {
		return t, nil
	}
	f, err := readTableFile(path)
	if err != nil {
		return nil, err
	}
	for k, e := range f.Devices[t.device] {
		t.entries[k] = e
	}
	return t, nil
}

// readTableFile reads a table file; a missing file is an empty table.
func readTableFile(path string) (tableFile, error) {
	f := tableFile{Version: TableVersion, Devices: map[string]map[string]Entry{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("%s: not a latency table: %w", path, err)
	}
	if f.Version != TableVersion {
		return f, fmt.Errorf("%s: table version %d, this build reads %d", path, f.Version, TableVersion)
	}
	if f.Devices == nil {
		f.Devices = map[string]map[string]Entry{}
	}
	return f, nil
}

// Device returns the key of the device and thread count the table is for.
func (t *Table) Device() string { return t.device }

// Len returns the number of parts in the table.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// Missing returns the distinct keys of g's parts that the table lacks.
func (t *Table) Missing(g nas.Genome) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var miss []string
	for _, p := range Parts(g) {
		if _, ok := t.entries[p.Key]; !ok && !slices.Contains(miss, p.Key) {
			miss = append(miss, p.Key)
		}
	}
	return miss
}

// Predict returns g's predicted latency in milliseconds: the sum of its
// parts' median latencies. It fails, listing them, when parts are missing
// (see [Table.Fill]).
func (t *Table) Predict(g nas.Genome) (float64, error) {
	return t.predict(g, func(e Entry) float64 { return e.MedianMs })
}

// PredictThread is Predict on the median thread CPU times (see [Stats]),
// the figure that preemption by other processes does not inflate; it is 0
// when the device does not report them.
func (t *Table) PredictThread(g nas.Genome) (float64, error) {
	return t.predict(g, func(e Entry) float64 { return e.ThreadMedianMs })
}

// predict sums one figure of g's parts.
func (t *Table) predict(g nas.Genome, figure func(Entry) float64) (float64, error) {
	if miss := t.Missing(g); len(miss) > 0 {
		return 0, fmt.Errorf("latency: table lacks %d part(s) of %s: %s", len(miss), g.ID(), strings.Join(miss, ", "))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	sum := 0.0
	for _, p := range Parts(g) {
		sum += figure(t.entries[p.Key])
	}
	return sum, nil
}

// Fill measures the parts of g that the table lacks, on its device.
func (t *Table) Fill(ctx context.Context, g nas.Genome) error {
	miss := t.Missing(g)
	if len(miss) == 0 {
		return nil
	}
	ps, err := t.m.MeasureParts(ctx, g, miss, t.opt)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range ps {
		if key := p.Stats.Device.Key(p.Stats.Threads); key != t.device {
			return fmt.Errorf("latency: the measurer answered for %q, the table is for %q", key, t.device)
		}
		t.entries[p.Key] = Entry{MedianMs: p.Stats.MedianMs, P90Ms: p.Stats.P90Ms, ThreadMedianMs: p.Stats.ThreadMedianMs, Runs: p.Stats.Runs}
	}
	return nil
}

// Estimate fills the table for g when needed and predicts its latency.
func (t *Table) Estimate(ctx context.Context, g nas.Genome) (float64, error) {
	if err := t.Fill(ctx, g); err != nil {
		return 0, err
	}
	return t.Predict(g)
}

// Save writes the table into its file (a no-op for an in-memory table),
// keeping the other devices' entries already there. The write is atomic.
func (t *Table) Save() error {
	if t.path == "" {
		return nil
	}
	f, err := readTableFile(t.path)
	if err != nil {
		return err
	}
	t.mu.Lock()
	es := make(map[string]Entry, len(t.entries))
	for k, e := range t.entries {
		es[k] = e
	}
	t.mu.Unlock()
	f.Devices[t.device] = es
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(t.path, append(data, '\n'))
}

// Comparison is one genome's predicted against measured latency.
type Comparison struct {
	ID          string  `json:"id"`
	Name        string  `json:"name,omitempty"`
	PredictedMs float64 `json:"predicted_ms"`
	MeasuredMs  float64 `json:"measured_ms"`
	// ErrPct is (predicted − measured) / measured in percent.
	ErrPct float64 `json:"err_pct"`
	// The same on thread CPU time (see Stats), where the device reports it.
	PredictedThreadMs float64 `json:"predicted_thread_ms,omitempty"`
	MeasuredThreadMs  float64 `json:"measured_thread_ms,omitempty"`
	ThreadErrPct      float64 `json:"thread_err_pct,omitempty"`
}

// ErrSummary summarises prediction errors in percent.
type ErrSummary struct {
	MeanAbsErrPct float64 `json:"mean_abs_err_pct"`
	MaxAbsErrPct  float64 `json:"max_abs_err_pct"`
	// BiasPct is the mean signed error (positive: the table over-predicts).
	BiasPct float64 `json:"bias_pct"`
}

// summarizeErrs summarises errors in percent.
func summarizeErrs(errs []float64) ErrSummary {
	var s ErrSummary
	for _, e := range errs {
		s.MeanAbsErrPct += math.Abs(e)
		s.BiasPct += e
		s.MaxAbsErrPct = max(s.MaxAbsErrPct, math.Abs(e))
	}
	if n := float64(len(errs)); n > 0 {
		s.MeanAbsErrPct /= n
		s.BiasPct /= n
	}
	return s
}

// Report is a table's error against measured latency on a set of genomes.
type Report struct {
	Device string       `json:"device"`
	Rows   []Comparison `json:"rows"`
	// Wall is the error on wall-clock medians; Thread on thread CPU time
	// medians (nil where the device does not report them).
	Wall   ErrSummary  `json:"wall"`
	Thread *ErrSummary `json:"thread,omitempty"`
}

// String formats the report as a small text table.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %12s %12s %8s", "genome", "predicted ms", "measured ms", "error")
	if r.Thread != nil {
		fmt.Fprintf(&b, "   %10s %10s %8s", "thread: pred", "meas", "error")
	}
	b.WriteByte('\n')
	for _, c := range r.Rows {
		id := c.ID
		if c.Name != "" {
			id = c.Name
		}
		fmt.Fprintf(&b, "%-14s %12.3f %12.3f %+7.1f%%", id, c.PredictedMs, c.MeasuredMs, c.ErrPct)
		if r.Thread != nil {
			fmt.Fprintf(&b, "   %12.3f %10.3f %+7.1f%%", c.PredictedThreadMs, c.MeasuredThreadMs, c.ThreadErrPct)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "wall clock:  mean |error| %.1f%%, max |error| %.1f%%, bias %+.1f%% over %d genomes\n", r.Wall.MeanAbsErrPct, r.Wall.MaxAbsErrPct, r.Wall.BiasPct, len(r.Rows))
	if r.Thread != nil {
		fmt.Fprintf(&b, "thread time: mean |error| %.1f%%, max |error| %.1f%%, bias %+.1f%%\n", r.Thread.MeanAbsErrPct, r.Thread.MaxAbsErrPct, r.Thread.BiasPct)
	}
	return b.String()
}

// Evaluate fills the table for each genome, measures each one whole on the
// table's device with the table's options, and reports the prediction
// error.
func (t *Table) Evaluate(ctx context.Context, gs []nas.Genome) (Report, error) {
	r := Report{Device: t.device}
	for _, g := range gs {
		pred, err := t.Estimate(ctx, g)
		if err != nil {
			return r, err
		}
		predThread, _ := t.PredictThread(g)
		st, err := t.m.Measure(ctx, g, t.opt)
		if err != nil {
			return r, err
		}
		r.Rows = append(r.Rows, compare(g, pred, st.MedianMs, predThread, st.ThreadMedianMs))
	}
	r.summarize()
	return r, nil
}

// compare makes a row from predicted and measured figures.
func compare(g nas.Genome, pred, meas, predThread, measThread float64) Comparison {
	c := Comparison{ID: g.ID(), Name: g.Name, PredictedMs: pred, MeasuredMs: meas, ErrPct: 100 * (pred - meas) / meas}
	if predThread > 0 && measThread > 0 {
		c.PredictedThreadMs, c.MeasuredThreadMs = predThread, measThread
		c.ThreadErrPct = 100 * (predThread - measThread) / measThread
	}
	return c
}

// summarize computes the error summaries from the rows.
func (r *Report) summarize() {
	var wall, thread []float64
	for _, c := range r.Rows {
		wall = append(wall, c.ErrPct)
		if c.MeasuredThreadMs > 0 {
			thread = append(thread, c.ThreadErrPct)
		}
	}
	r.Wall, r.Thread = summarizeErrs(wall), nil
	if len(thread) == len(r.Rows) && len(thread) > 0 {
		s := summarizeErrs(thread)
		r.Thread = &s
	}
}

package nas

import (
	"cmp"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/nasrun/nasrun/internal/atomicfile"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// FinalModel is a model of the final stage: a Pareto-front architecture or a
// reference network, trained longer and evaluated once on the test set.
type FinalModel struct {
	Name      string  `json:"name"`  // "trial 17" or the reference net's name
	Trial     int     `json:"trial"` // −1 for a reference net
	ID        string  `json:"id"`
	Genome    Genome  `json:"genome"`
	Reference bool    `json:"reference,omitempty"`
	ProxyAcc  float64 `json:"proxy_acc,omitempty"` // the search's estimate
	TestAcc   float64 `json:"test_acc"`
	LatMs     float64 `json:"latency_ms"`
	MACs      int64   `json:"macs"`
	Params    int64   `json:"params"`
	Reward    float64 `json:"reward"`
	Epochs    int     `json:"epochs"`
	TrainS    float64 `json:"train_s"`
	Weights   string  `json:"weights,omitempty"` // file name in the run directory
}

// Front returns the ok trials on the accuracy–latency Pareto front, fastest
// first; a repeated architecture appears once.
func Front(trials []Trial) []Trial {
	var ok []Trial
	var pts []Point
	for _, t := range trials {
		if t.Status == TrialOK && t.DupOf == nil {
			ok = append(ok, t)
			pts = append(pts, Point{t.Acc, t.LatMs})
		}
	}
	var out []Trial
	for _, i := range ParetoFront(pts) {
		out = append(out, ok[i])
	}
	return out
}

// PredictionError returns the mean and worst relative error of the logged
// latency predictions against the measured latencies, over the n ok trials
// that have both (a repeated architecture counts once).
func PredictionError(trials []Trial) (mean, worst float64, n int) {
	for _, t := range trials {
		if t.Status != TrialOK || t.DupOf != nil || t.PredMs <= 0 || t.LatMs <= 0 {
			continue
		}
		e := math.Abs(t.PredMs-t.LatMs) / t.LatMs
		mean += e
		worst = math.Max(worst, e)
		n++
	}
	if n > 0 {
		mean /= float64(n)
	}
	return mean, worst, n
}

// WriteJSON writes v as indented JSON to path atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// ReadJSON reads a JSON file into v strictly: unknown fields and trailing
// data are errors that name the file.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := strictUnmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ReportInput is everything the final report shows.
type ReportInput struct {
	Title    string
	Settings []string // "name: value" lines, in order
	Trials   []Trial
	Finals   []FinalModel
	Notes    []string // timings and other lines for the end
}

// Markdown renders the report.
func (r ReportInput) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	ok, failed := 0, 0
	for _, t := range r.Trials {
		if t.Status == TrialOK {
			ok++
		} else {
			failed++
		}
	}
	fmt.Fprintf(&b, "%d trials (%d ok, %d failed).\n\n", len(r.Trials), ok, failed)
	if len(r.Finals) > 0 {
		b.WriteString("## Final models (trained longer, evaluated once on the test set)\n\n")
		b.WriteString("| model | architecture | test acc | latency ms | MACs | params | reward | proxy acc | epochs | train s |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
		for _, f := range r.Finals {
			proxy := "–"
			if !f.Reference {
				proxy = fmt.Sprintf("%.2f%%", 100*f.ProxyAcc)
			}
			fmt.Fprintf(&b, "| %s | `%s` | %.2f%% | %.3f | %.2f M | %.0f K | %.4f | %s | %d | %.0f |\n",
				f.Name, f.Genome.Summary(), 100*f.TestAcc, f.LatMs, float64(f.MACs)/1e6, float64(f.Params)/1e3,
				f.Reward, proxy, f.Epochs, f.TrainS)
		}
		b.WriteString("\n")
	}
	front := Front(r.Trials)
	if len(front) > 0 {
		b.WriteString("## Pareto front of the search (proxy accuracy on the validation split)\n\n")
		b.WriteString("| trial | architecture | proxy acc | latency ms | MACs | params | reward |\n|---|---|---|---|---|---|---|\n")
		for _, t := range front {
			fmt.Fprintf(&b, "| %d | `%s` | %.2f%% | %.3f | %.2f M | %.0f K | %.4f |\n",
				t.Index+1, t.Genome.Summary(), 100*t.Acc, t.LatMs, float64(t.MACs)/1e6, float64(t.Params)/1e3, t.Reward)
		}
		b.WriteString("\n")
	}
	if len(r.Settings) > 0 {
		b.WriteString("## Settings\n\n")
		for _, s := range r.Settings {
			fmt.Fprintf(&b, "- %s\n", s)
		}
		b.WriteString("\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("## Timings and notes\n\n")
		for _, s := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", s)
		}
		b.WriteString("\n")
	}
	b.WriteString("Architecture key: per stage `mb`|`gh` (MBConv or Ghost bottleneck), kernel, `/e` expansion, `/out×layers`, `/se` with squeeze-excitation, `/hs` hardswish (else ReLU).\n")
	return b.String()
}

// PlotPareto draws accuracy against latency: every ok trial, the front, and
// the final models (reference nets labelled), and saves a PNG.
func PlotPareto(path string, trials []Trial, finals []FinalModel) error {
	p := plot.New()
	p.Title.Text = "nasrun evolve: accuracy vs latency"
	p.X.Label.Text = "batch-1 latency (ms)"
	p.Y.Label.Text = "accuracy (%)"
	p.Add(plotter.NewGrid())

	var all plotter.XYs
	for _, t := range trials {
		if t.Status == TrialOK {
			all = append(all, plotter.XY{X: t.LatMs, Y: 100 * t.Acc})
		}
	}
	if len(all) > 0 {
		s, err := plotter.NewScatter(all)
		if err != nil {
			return err
		}
		s.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(2), Color: color.RGBA{150, 150, 150, 255}}
		p.Add(s)
		p.Legend.Add("trials (proxy acc)", s)
	}
	front := Front(trials)
	if len(front) > 0 {
		xy := make(plotter.XYs, len(front))
		for i, t := range front {
			xy[i] = plotter.XY{X: t.LatMs, Y: 100 * t.Acc}
		}
		l, s, err := plotter.NewLinePoints(xy)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{30, 100, 220, 255}
		s.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(3), Color: l.Color}
		p.Add(l, s)
		p.Legend.Add("Pareto front (proxy acc)", l, s)
	}
	var searched, refs plotter.XYs
	var refNames []string
	// A sorted copy: the caller's order (and pointers into it) must survive.
	byLat := slices.Clone(finals)
	slices.SortStableFunc(byLat, func(a, b FinalModel) int { return cmp.Compare(a.LatMs, b.LatMs) })
	for _, f := range byLat {
		pt := plotter.XY{X: f.LatMs, Y: 100 * f.TestAcc}
		if f.Reference {
			refs = append(refs, pt)
			refNames = append(refNames, f.Name)
		} else {
			searched = append(searched, pt)
		}
	}
	if len(searched) > 0 {
		s, err := plotter.NewScatter(searched)
		if err != nil {
			return err
		}
		s.GlyphStyle = draw.GlyphStyle{Shape: draw.PyramidGlyph{}, Radius: vg.Points(4), Color: color.RGBA{220, 50, 50, 255}}
		p.Add(s)
		p.Legend.Add("searched, final (test acc)", s)
	}
	if len(refs) > 0 {
		s, err := plotter.NewScatter(refs)
		if err != nil {
			return err
		}
		s.GlyphStyle = draw.GlyphStyle{Shape: draw.BoxGlyph{}, Radius: vg.Points(4), Color: color.RGBA{20, 150, 60, 255}}
		p.Add(s)
		p.Legend.Add("reference nets (test acc)", s)
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: refs, Labels: refNames})
		if err != nil {
			return err
		}
		p.Add(labels)
	}
	p.Legend.Top = false
	p.Legend.Left = false
	tmp := path + ".tmp.png"
	if err := p.Save(7*vg.Inch, 5*vg.Inch, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

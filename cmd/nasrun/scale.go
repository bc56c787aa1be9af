package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/nasrun/nasrun/internal/atomicfile"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nasrun/nasrun/data"
	"github.com/nasrun/nasrun/latency"
	"github.com/nasrun/nasrun/nas"
	"github.com/nasrun/nasrun/train"
)

func init() {
	register(command{name: "scale", summary: "EfficientNet compound scaling of a genome: grid search of α, β, γ, then the φ = 1..K family", run: runScale})
}

// scalePoint is one network of `nasrun scale`: a base genome scaled in
// depth, width and resolution, with its cost, latency and proxy accuracy.
type scalePoint struct {
	Phi    int        `json:"phi"`        // the family member; 1 for the grid candidates
	Depth  float64    `json:"depth"`      // layer multiplier (α^φ)
	Width  float64    `json:"width"`      // channel multiplier (β^φ)
	Res    float64    `json:"resolution"` // input-size multiplier (γ^φ)
	Genome nas.Genome `json:"genome"`
	MACs   int64      `json:"macs"`
	Params int64      `json:"params"`
	LatMs  float64    `json:"latency_ms"`
	Acc    float64    `json:"acc"`
	Error  string     `json:"error,omitempty"`
}

// scaleResult is scale.json.
type scaleResult struct {
	Base       nas.Genome   `json:"base"`
	Candidates []scalePoint `json:"candidates"` // the α, β, γ grid at φ = 1
	Alpha      float64      `json:"alpha"`
	Beta       float64      `json:"beta"`
	Gamma      float64      `json:"gamma"`
	Family     []scalePoint `json:"family"` // φ = 0..K
}

func runScale(args []string, stdout io.Writer) error {
	fs := newFlags("scale", "(--arch FILE.json | --refnet NAME) [flags]",
		"EfficientNet compound scaling: depth d = α^φ, width w = β^φ, resolution r = γ^φ with\n"+
			"α·β²·γ² ≈ 2, so each step of φ about doubles the MACs. First a small grid of (α, β, γ)\n"+
			"on the constraint is proxy-trained at φ = 1 (input images resized to the scaled size)\n"+
			"and measured; the most accurate wins. Then the family φ = 0..K is built, proxy-trained\n"+
			"and measured, and printed as a table (also OUT/scale.md and OUT/scale.json).")
	var arch archFlags
	arch.register(fs)
	dataDir := fs.String("data", "", "data directory with the IDX files (default $NASRUN_DATA or "+data.DefaultDir+")")
	out := fs.String("out", "", "output directory (default runs/scale-NAME-TIME)")
	phiMax := fs.Int("phi", 3, "largest φ of the family")
	candidates := fs.Int("candidates", 6, "(α, β, γ) grid candidates to try at φ = 1")
	proxyImages := fs.Int("proxy-images", 6000, "training images for each proxy training")
	valImages := fs.Int("val-images", 2000, "held-out training images for validation (never the test set)")
	def := train.DefaultRecipe()
	def.Epochs, def.BNBatches = 1, proxyBNBatches
	proxy := recipeFlags(fs, def, "proxy-", "proxy training")
	seed := fs.Uint64("seed", 1, "random seed")
	latRuns := fs.Int("latency-runs", 30, "timed runs per latency measurement (median)")
	latServer := fs.String("latency-server", "", "measure on a device running 'nasrun latency-server' at this `URL`")
	threads := fs.Int("threads", 0, "kernel threads for training (0: all cores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base, err := arch.load()
	if err != nil {
		return err
	}
	r := proxy()
	r.Seed = *seed
	if err := r.Validate(); err != nil {
		return err
	}
	if *phiMax < 1 || *candidates < 1 {
		return errors.New("--phi and --candidates must be at least 1")
	}
	name := base.Name
	if name == "" {
		name = base.ID()
	}
	if *out == "" {
		*out = filepath.Join("runs", "scale-"+name+"-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	setThreads(*threads)
	var meas latency.Measurer = latency.Local{}
	if *latServer != "" {
		meas = latency.Client{URL: *latServer}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st := newStatus(stdout)
	sets := map[[2]int][2]*data.Dataset{}
	evaluate := func(p *scalePoint) error {
		g, err := base.Scale(p.Depth, p.Width, p.Res)
		if err != nil {
			p.Error = err.Error()
			return nil
		}
		p.Genome = g
		c := g.Cost()
		p.MACs, p.Params = c.MACs, c.Params
		key := [2]int{g.Input.H, g.Input.W}
		ds, ok := sets[key]
		if !ok {
			sp, sub, err := proxyData(data.Config{Dir: *dataDir, Validation: *valImages, Seed: *seed, H: g.Input.H, W: g.Input.W, SkipTest: true}, *proxyImages)
			if err != nil {
				return err
			}
			ds = [2]*data.Dataset{sub, sp.Val}
			sets[key] = ds
		}
		label := fmt.Sprintf("φ=%d d=%.2f w=%.2f r=%.2f (%dx%d)", p.Phi, p.Depth, p.Width, p.Res, g.Input.H, g.Input.W)
		_, acc, err := proxyAccuracy(ctx, g, r, ds[0], ds[1], "", func(tp train.Progress) {
			st.update(fmt.Sprintf("%s training %s %d/%d loss %.3f", label, bar(tp.Step, tp.Steps, 16), tp.Step, tp.Steps, tp.Loss), false)
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.Error = err.Error()
			return nil
		}
		lat, err := meas.Measure(ctx, g, latency.Options{Runs: *latRuns})
		if err != nil {
			return err
		}
		p.Acc, p.LatMs = acc, lat.MedianMs
		st.println("%s  %.2f M MACs  %.3f ms  acc %.2f%%", label, float64(p.MACs)/1e6, p.LatMs, 100*p.Acc)
		return nil
	}

	res := scaleResult{Base: base}
	for _, abg := range scaleGrid(*candidates) {
		p := scalePoint{Phi: 1, Depth: abg[0], Width: abg[1], Res: abg[2]}
		if err := evaluate(&p); err != nil {
			return err
		}
		res.Candidates = append(res.Candidates, p)
	}
	best := -1
	for i, c := range res.Candidates {
		if c.Error == "" && (best < 0 || c.Acc > res.Candidates[best].Acc) {
			best = i
		}
	}
	if best < 0 {
		return errors.New("no grid candidate could be trained")
	}
	b := res.Candidates[best]
	res.Alpha, res.Beta, res.Gamma = b.Depth, b.Width, b.Res
	st.println("chosen α = %.2f, β = %.2f, γ = %.2f (α·β²·γ² = %.2f)", res.Alpha, res.Beta, res.Gamma, res.Alpha*res.Beta*res.Beta*res.Gamma*res.Gamma)
	for phi := 0; phi <= *phiMax; phi++ {
		if phi == 1 {
			res.Family = append(res.Family, b)
			continue
		}
		f := float64(phi)
		p := scalePoint{Phi: phi, Depth: math.Pow(res.Alpha, f), Width: math.Pow(res.Beta, f), Res: math.Pow(res.Gamma, f)}
		if err := evaluate(&p); err != nil {
			return err
		}
		res.Family = append(res.Family, p)
	}
	if err := nas.WriteJSON(filepath.Join(*out, "scale.json"), res); err != nil {
		return err
	}
	table := scaleTable(res)
	if err := atomicfile.WriteFile(filepath.Join(*out, "scale.md"), []byte(table)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s\nwrote %s/scale.json and %s/scale.md\n", table, *out, *out)
	return nil
}

// scaleGrid returns up to n (α, β, γ) triples on α·β²·γ² = 2 with each
// factor ≥ 1: α and β from coarse grids, γ solved and rounded to 0.05,
// kept when the product stays within 10% of 2, evenly thinned to n.
func scaleGrid(n int) [][3]float64 {
	var all [][3]float64
	for _, a := range []float64{1.0, 1.2, 1.4, 1.6, 1.8, 2.0} {
		for _, b := range []float64{1.0, 1.1, 1.2, 1.3, 1.4} {
			g := math.Round(math.Sqrt(2/(a*b*b))*20) / 20
			if g < 1 {
				continue
			}
			if prod := a * b * b * g * g; math.Abs(prod-2) <= 0.2 {
				all = append(all, [3]float64{a, b, g})
			}
		}
	}
	if len(all) <= n {
		return all
	}
	out := make([][3]float64, 0, n)
	for i := range n {
		out = append(out, all[i*(len(all)-1)/max(1, n-1)])
	}
	return slices.CompactFunc(out, func(x, y [3]float64) bool { return x == y })
}

func scaleTable(res scaleResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Compound scaling of %s: α = %.2f, β = %.2f, γ = %.2f\n\n", res.Base.Summary(), res.Alpha, res.Beta, res.Gamma)
	b.WriteString("| φ | depth | width | resolution | input | MACs | params | latency ms | proxy acc |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range res.Family {
		if p.Error != "" {
			fmt.Fprintf(&b, "| %d | %.2f | %.2f | %.2f | – | – | – | – | %s |\n", p.Phi, p.Depth, p.Width, p.Res, p.Error)
			continue
		}
		fmt.Fprintf(&b, "| %d | %.2f | %.2f | %.2f | %d×%d | %.2f M | %.0f K | %.3f | %.2f%% |\n", p.Phi, p.Depth, p.Width, p.Res,
			p.Genome.Input.H, p.Genome.Input.W, float64(p.MACs)/1e6, float64(p.Params)/1e3, p.LatMs, 100*p.Acc)
	}
	b.WriteString("\nGrid at φ = 1 (α·β²·γ² ≈ 2):\n\n| α | β | γ | MACs | latency ms | proxy acc |\n|---|---|---|---|---|---|\n")
	for _, p := range res.Candidates {
		if p.Error != "" {
			fmt.Fprintf(&b, "| %.2f | %.2f | %.2f | – | – | %s |\n", p.Depth, p.Width, p.Res, p.Error)
			continue
		}
		fmt.Fprintf(&b, "| %.2f | %.2f | %.2f | %.2f M | %.3f | %.2f%% |\n", p.Depth, p.Width, p.Res, float64(p.MACs)/1e6, p.LatMs, 100*p.Acc)
	}
	return b.String()
}

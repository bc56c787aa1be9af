package nas

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Limits of the universal space: every genome [Parse] accepts stays within
// them, which also keeps [Genome.Cost] far from int64 overflow.
const (
	MaxStages   = 16   // stages per genome
	MaxLayers   = 16   // layers per stage
	MaxSize     = 4096 // input height and width
	MaxChannels = 4096 // input channels, stem, head and stage base channels
	MaxClasses  = 100000
)

// Choices are the per-stage decisions of a search space: each stage picks
// one value of each list and a layer count in [MinLayers, MaxLayers].
type Choices struct {
	Blocks    []Block   `json:"blocks"`
	Kernels   []int     `json:"kernels"`
	Expands   []int     `json:"expands"`
	SE        []float64 `json:"se"`
	Widths    []float64 `json:"widths"`
	Acts      []Act     `json:"acts"`
	MinLayers int       `json:"min_layers"`
	MaxLayers int       `json:"max_layers"`
}

// Universe returns every choice a genome may make: the sets of DESIGN.md
// and 1..[MaxLayers] layers. A [Space]'s choices are subsets of these.
func Universe() Choices {
	return Choices{
		Blocks:    []Block{MBConv, Ghost},
		Kernels:   []int{3, 5},
		Expands:   []int{1, 3, 6},
		SE:        []float64{0, 0.25},
		Widths:    []float64{0.75, 1, 1.25},
		Acts:      []Act{ReLU, HSwish},
		MinLayers: 1,
		MaxLayers: MaxLayers,
	}
}

// StageBase is the fixed part of a stage in a search space.
type StageBase struct {
	C      int `json:"c"`      // base output channels, before the width multiplier
	Stride int `json:"stride"` // stride of the stage's first layer
}

// Space is a MnasNet-style search space factorized per stage: the input,
// classes, stem, head and each stage's base channels and stride are fixed;
// every stage chooses its decisions from Choices independently.
type Space struct {
	Input   Input       `json:"input"`
	Classes int         `json:"classes"`
	Stem    Stem        `json:"stem"`
	Stages  []StageBase `json:"stages"`
	Head    Head        `json:"head"`
	Choices Choices     `json:"choices"`
}

// DefaultSpace returns the space around the reference networks
// (REFNETS.md): 28×28×1 input, 10 classes, stem 16 hswish, stages of base
// channels 16-24-40-80-96 with strides 1,2,1,2,1, head 192 hswish with
// dropout 0.2, every universal choice and 1..4 layers per stage.
func DefaultSpace() *Space {
	ch := Universe()
	ch.MaxLayers = 4
	return &Space{
		Input:   Input{H: 28, W: 28, C: 1},
		Classes: 10,
		Stem:    Stem{C: 16, K: 3, Stride: 1, Act: HSwish},
		Stages:  []StageBase{{16, 1}, {24, 2}, {40, 1}, {80, 2}, {96, 1}},
		Head:    Head{C: 192, Act: HSwish, Dropout: 0.2},
		Choices: ch,
	}
}

// decision is one per-stage decision, with accessors shared by sampling,
// mutation and validation.
type decision struct {
	name    string
	count   func(c *Choices) int
	index   func(c *Choices, s *Stage) int // of the stage's value; -1 if not a choice
	set     func(c *Choices, s *Stage, i int)
	value   func(s *Stage) string
	choices func(c *Choices) string // for messages
}

func choice[T comparable](name string, opts func(c *Choices) []T, field func(s *Stage) *T) decision {
	return decision{
		name:    name,
		count:   func(c *Choices) int { return len(opts(c)) },
		index:   func(c *Choices, s *Stage) int { return slices.Index(opts(c), *field(s)) },
		set:     func(c *Choices, s *Stage, i int) { *field(s) = opts(c)[i] },
		value:   func(s *Stage) string { return show(*field(s)) },
		choices: func(c *Choices) string { return setString(opts(c)) },
	}
}

// layerRange lists MinLayers..MaxLayers (empty when inverted).
func layerRange(c *Choices) []int {
	var r []int
	for n := c.MinLayers; n <= c.MaxLayers; n++ {
		r = append(r, n)
	}
	return r
}

// decisions in the fixed order Sample draws them.
var decisions = []decision{
	choice("block", func(c *Choices) []Block { return c.Blocks }, func(s *Stage) *Block { return &s.Block }),
	choice("k", func(c *Choices) []int { return c.Kernels }, func(s *Stage) *int { return &s.K }),
	choice("expand", func(c *Choices) []int { return c.Expands }, func(s *Stage) *int { return &s.Expand }),
	choice("se", func(c *Choices) []float64 { return c.SE }, func(s *Stage) *float64 { return &s.SE }),
	choice("width", func(c *Choices) []float64 { return c.Widths }, func(s *Stage) *float64 { return &s.Width }),
	choice("act", func(c *Choices) []Act { return c.Acts }, func(s *Stage) *Act { return &s.Act }),
	choice("layers", layerRange, func(s *Stage) *int { return &s.Layers }),
}

// Decisions returns the names of the per-stage decisions, which are also
// their JSON field names, in the order [Space.Sample] draws them.
func Decisions() []string {
	names := make([]string, len(decisions))
	for i, d := range decisions {
		names[i] = d.name
	}
	return names
}

// setString formats choices as "{3, 5}", or "1..4" for a run of three or
// more consecutive integers.
func setString[T any](opts []T) string {
	if ints, ok := any(opts).([]int); ok && len(ints) > 2 && consecutive(ints) {
		return fmt.Sprintf("%d..%d", ints[0], ints[len(ints)-1])
	}
	parts := make([]string, len(opts))
	for i, v := range opts {
		parts[i] = fmt.Sprint(v)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func consecutive(ints []int) bool {
	for i, v := range ints {
		if v != ints[0]+i {
			return false
		}
	}
	return true
}

// show formats a value for a message; strings are quoted so that odd
// input stays readable.
func show(v any) string {
	if reflect.ValueOf(v).Kind() == reflect.String {
		return strconv.Quote(reflect.ValueOf(v).String())
	}
	return fmt.Sprint(v)
}

// checkStage reports the first decision of s outside c.
func checkStage(c *Choices, s *Stage, path string) error {
	for _, d := range decisions {
		if d.index(c, s) < 0 {
			return &FieldError{path + "." + d.name, fmt.Sprintf("%s is not in the search space %s", d.value(s), d.choices(c))}
		}
	}
	return nil
}

// Validate checks g against the universal space: the version, the choices
// of [Universe], the limits above, channel counts (stem and head multiples
// of 8) and shapes (no stride-2 layer on a 1×1 map). It returns the first
// problem found as a [*FieldError].
func (g Genome) Validate() error {
	if err := g.finite(); err != nil {
		return err
	}
	u := Universe()
	var first error
	fail := func(path, format string, args ...any) {
		if first == nil {
			first = &FieldError{path, fmt.Sprintf(format, args...)}
		}
	}
	in := func(path string, v, lo, hi int) {
		if v < lo || v > hi {
			fail(path, "%d is out of range %d..%d", v, lo, hi)
		}
	}
	of := func(path string, v int, opts ...int) {
		if !slices.Contains(opts, v) {
			fail(path, "%d is not in the search space %s", v, setString(opts))
		}
	}
	act := func(path string, a Act) {
		if !slices.Contains(u.Acts, a) {
			fail(path, "%s is not in the search space %s", show(a), setString(u.Acts))
		}
	}
	mult8 := func(path string, v int) {
		in(path, v, 8, MaxChannels)
		if v%8 != 0 {
			fail(path, "%d is not a multiple of 8", v)
		}
	}
	h, w := g.Input.H, g.Input.W
	stride := func(path string, s int) {
		of(path, s, 1, 2)
		if s == 2 && h == 1 && w == 1 {
			fail(path, "2 cannot downsample the 1×1 feature map it gets")
		}
		if first == nil {
			h, w = (h-1)/s+1, (w-1)/s+1
		}
	}

	of("version", g.Version, Version)
	in("input.h", g.Input.H, 1, MaxSize)
	in("input.w", g.Input.W, 1, MaxSize)
	in("input.c", g.Input.C, 1, MaxChannels)
	in("classes", g.Classes, 2, MaxClasses)
	mult8("stem.c", g.Stem.C)
	of("stem.k", g.Stem.K, 1, 3, 5, 7)
	stride("stem.stride", g.Stem.Stride)
	act("stem.act", g.Stem.Act)
	in("stages", len(g.Stages), 1, MaxStages)
	for i := range g.Stages {
		s, p := &g.Stages[i], fmt.Sprintf("stages[%d]", i)
		if err := checkStage(&u, s, p); err != nil && first == nil {
			first = err
		}
		in(p+".c", s.C, 1, MaxChannels)
		stride(p+".stride", s.Stride)
	}
	mult8("head.c", g.Head.C)
	act("head.act", g.Head.Act)
	if d := g.Head.Dropout; d < 0 || d >= 1 {
		fail("head.dropout", "%v is out of range [0, 1)", d)
	}
	return first
}

// Validate checks that s is a usable space: choices non-empty, without
// duplicates and within [Universe]; at least one decision with two options;
// and the fixed parts form valid genomes.
func (s *Space) Validate() error {
	u := Universe()
	c := &s.Choices
	if c.MinLayers < u.MinLayers || c.MaxLayers > u.MaxLayers || c.MinLayers > c.MaxLayers {
		return &FieldError{"choices.layers", fmt.Sprintf("%d..%d is not within %d..%d", c.MinLayers, c.MaxLayers, u.MinLayers, u.MaxLayers)}
	}
	mutable := false
	for _, d := range decisions {
		n := d.count(c)
		if n == 0 {
			return &FieldError{"choices." + d.name, "no choice"}
		}
		mutable = mutable || n > 1
		for i := range n {
			var st Stage
			d.set(c, &st, i)
			if d.index(c, &st) != i {
				return &FieldError{"choices." + d.name, d.value(&st) + " is listed twice"}
			}
			if d.index(&u, &st) < 0 {
				return &FieldError{"choices." + d.name, fmt.Sprintf("%s is not in the search space %s", d.value(&st), d.choices(&u))}
			}
		}
	}
	if !mutable {
		return &FieldError{"choices", "every decision has a single option: nothing to search"}
	}
	// The last option of each decision; every genome of s has the same
	// spatial shapes, since only the first layer of a stage strides.
	g := s.genome(func(n int) int { return n - 1 })
	return g.Validate()
}

// genome builds a genome of s, taking choice pick(n) of each decision with
// n options, in [decisions] order, stage by stage.
func (s *Space) genome(pick func(n int) int) Genome {
	g := Genome{Version: Version, Input: s.Input, Classes: s.Classes, Stem: s.Stem, Head: s.Head}
	for _, b := range s.Stages {
		st := Stage{C: b.C, Stride: b.Stride}
		for _, d := range decisions {
			d.set(&s.Choices, &st, pick(d.count(&s.Choices)))
		}
		g.Stages = append(g.Stages, st)
	}
	return g
}

// Sample draws a genome uniformly from s (each decision of each stage
// independently), using only rng. s must be valid (see [Space.Validate]);
// then so is the genome.
func (s *Space) Sample(rng *rand.Rand) Genome {
	return s.genome(rng.IntN)
}

// Size returns the number of genomes in s.
func (s *Space) Size() float64 {
	perStage := 1.0
	for _, d := range decisions {
		perStage *= float64(d.count(&s.Choices))
	}
	n := 1.0
	for range s.Stages {
		n *= perStage
	}
	return n
}

// Contains reports whether g belongs to s: valid, with the fixed parts of s
// and every decision among its choices. The error names the first field
// that differs.
func (s *Space) Contains(g Genome) error {
	if err := g.Validate(); err != nil {
		return err
	}
	differs := func(path string, got, want any) error {
		return &FieldError{path, fmt.Sprintf("%+v differs from the search space's %+v", got, want)}
	}
	switch {
	case g.Input != s.Input:
		return differs("input", g.Input, s.Input)
	case g.Classes != s.Classes:
		return differs("classes", g.Classes, s.Classes)
	case g.Stem != s.Stem:
		return differs("stem", g.Stem, s.Stem)
	case len(g.Stages) != len(s.Stages):
		return differs("stages", fmt.Sprintf("%d stages", len(g.Stages)), fmt.Sprintf("%d stages", len(s.Stages)))
	case g.Head != s.Head:
		return differs("head", g.Head, s.Head)
	}
	for i := range g.Stages {
		st, p := &g.Stages[i], fmt.Sprintf("stages[%d]", i)
		if st.C != s.Stages[i].C {
			return differs(p+".c", st.C, s.Stages[i].C)
		}
		if st.Stride != s.Stages[i].Stride {
			return differs(p+".stride", st.Stride, s.Stages[i].Stride)
		}
		if err := checkStage(&s.Choices, st, p); err != nil {
			return err
		}
	}
	return nil
}

// Mutation describes the one decision [Space.Mutate] changed.
type Mutation struct {
	Stage int    `json:"stage"` // index into Genome.Stages
	Field string `json:"field"` // the decision, one of [Decisions]
	Old   string `json:"old"`   // old and new value, as in JSON
	New   string `json:"new"`
}

func (m Mutation) String() string {
	return fmt.Sprintf("stages[%d].%s: %s → %s", m.Stage, m.Field, m.Old, m.New)
}

// Mutate returns a copy of g with exactly one decision of one stage re-drawn
// to a different value: the (stage, decision) pair is uniform among those
// with another option in s, the new value uniform among the other options.
// The child has no name. It uses only rng; g should belong to s. It panics
// if no decision can change (never for a valid s).
func (s *Space) Mutate(g Genome, rng *rand.Rand) (Genome, Mutation) {
	type site struct{ stage, dec int }
	var sites []site
	for i := range g.Stages {
		for j, d := range decisions {
			n, cur := d.count(&s.Choices), d.index(&s.Choices, &g.Stages[i])
			if n > 1 || (n == 1 && cur < 0) {
				sites = append(sites, site{i, j})
			}
		}
	}
	if len(sites) == 0 {
		panic("nas: Mutate: no decision of the genome can change in this space")
	}
	at := sites[rng.IntN(len(sites))]
	d := decisions[at.dec]
	child := g.Clone()
	child.Name = ""
	st := &child.Stages[at.stage]
	m := Mutation{Stage: at.stage, Field: d.name, Old: d.value(st)}
	n, cur := d.count(&s.Choices), d.index(&s.Choices, st)
	if cur < 0 {
		d.set(&s.Choices, st, rng.IntN(n))
	} else {
		i := rng.IntN(n - 1)
		if i >= cur {
			i++
		}
		d.set(&s.Choices, st, i)
	}
	m.New = d.value(st)
	return child, m
}

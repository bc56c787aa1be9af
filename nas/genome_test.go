package nas

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func mbv3Text(t testing.TB) string {
	data, err := os.ReadFile("refnets/mbv3-like.json")
	require.NoError(t, err)
	return string(data)
}

func TestRefNets(t *testing.T) {
	require.Equal(t, []string{"ghost-like", "mbv3-like"}, RefNetNames())
	for _, name := range RefNetNames() {
		g, err := RefNet(name)
		require.NoError(t, err)
		require.Equal(t, name, g.Name)
		file, err := os.ReadFile("refnets/" + name + ".json")
		require.NoError(t, err)
		require.Equal(t, string(file), string(g.Encode()), "%s is not canonical", name)
		require.NoError(t, DefaultSpace().Contains(g))
		loaded, err := Load("refnets/" + name + ".json")
		require.NoError(t, err)
		require.Equal(t, g, loaded)
	}
	_, err := RefNet("resnet50")
	require.ErrorContains(t, err, `no reference network "resnet50" (have ghost-like, mbv3-like)`)
}

// TestParseErrors checks every kind of rejection and that the message
// names the field.
func TestParseErrors(t *testing.T) {
	stage := func(i int) string { // the i-th stage line of mbv3-like
		return strings.Split(mbv3Text(t), "\n")[7+i]
	}
	for _, tc := range []struct{ old, new, want string }{
		{`"classes": 10,`, `"classes": 10, "extra": 1,`, `extra: unknown field (want one of version, name, input, classes, stem, stages, head)`},
		{`"k": 3, "expand": 6`, `"kernel": 3, "expand": 6`, `stages[4].kernel: unknown field`},
		{`"h": 28,`, `"h": 28, "d": 1,`, `input.d: unknown field`},
		{`"dropout": 0.2`, `"dropout": 0.2, "x": {}`, `head.x: unknown field`},
		{`"classes": 10,`, ``, `classes: missing`},
		{`"name": "mbv3-like",`, `"name": "x", "name": "y",`, `name: duplicate field`},
		{`"c": 1}`, `"c": 1, "c": 1}`, `input.c: duplicate field`},
		{`"version": 1,`, `"version": 2,`, `version: 2 is not supported (this build reads version 1)`},
		{`"version": 1,`, `"version": "1",`, `version: want an integer, got "1"`},
		{`"classes": 10,`, `"classes": 10.5,`, `classes: want an integer, got 10.5`},
		{`"classes": 10,`, `"classes": null,`, `classes: want an integer, got null`},
		{`"classes": 10,`, `"classes": 1e99,`, `classes: want an integer, got 1e99`},
		{`"dropout": 0.2`, `"dropout": "0.2"`, `head.dropout: want a number, got "0.2"`},
		{`"name": "mbv3-like",`, `"name": 7,`, `name: want a string, got 7`},
		{`"input": {"h": 28, "w": 28, "c": 1}`, `"input": [28, 28, 1]`, `input: want an object, got [28, 28, 1]`},
		{`"stem": {"c": 16, "k": 3, "stride": 1, "act": "hswish"}`, `"stem": null`, `stem: want an object, got null`},
		{`"stages": [`, `"stages": {"a": [`, `not a JSON document`},
		{stage(2), `{"block": "mbconv", "k": 7, "expand": 3, "c": 40, "width": 1, "layers": 2, "stride": 1, "se": 0.25, "act": "hswish"},`, `stages[2].k: 7 is not in the search space {3, 5}`},
		{stage(0), `{"block": "resnet", "k": 3, "expand": 1, "c": 16, "width": 1, "layers": 1, "stride": 1, "se": 0, "act": "relu"},`, `stages[0].block: "resnet" is not in the search space {mbconv, ghost}`},
		{stage(0), `{"block": "mbconv", "k": 3, "expand": 4, "c": 16, "width": 1, "layers": 1, "stride": 1, "se": 0, "act": "relu"},`, `stages[0].expand: 4 is not in the search space {1, 3, 6}`},
		{stage(0), `{"block": "mbconv", "k": 3, "expand": 1, "c": 16, "width": 1, "layers": 1, "stride": 1, "se": 0.5, "act": "relu"},`, `stages[0].se: 0.5 is not in the search space {0, 0.25}`},
		{stage(0), `{"block": "mbconv", "k": 3, "expand": 1, "c": 16, "width": 2, "layers": 1, "stride": 1, "se": 0, "act": "relu"},`, `stages[0].width: 2 is not in the search space {0.75, 1, 1.25}`},
		{stage(0), `{"block": "mbconv", "k": 3, "expand": 1, "c": 16, "width": 1, "layers": 1, "stride": 1, "se": 0, "act": "gelu"},`, `stages[0].act: "gelu" is not in the search space {relu, hswish}`},
		{stage(0), `{"block": "mbconv", "k": 3, "expand": 1, "c": 16, "width": 1, "layers": 0, "stride": 1, "se": 0, "act": "relu"},`, `stages[0].layers: 0 is not in the search space 1..16`},
		{stage(0), `{"block": "mbconv", "k": 3, "expand": 1, "c": 16, "width": 1, "layers": 17, "stride": 1, "se": 0, "act": "relu"},`, `stages[0].layers: 17 is not in the search space 1..16`},
		{stage(0), `{"block": "mbconv", "k": 3, "expand": 1, "c": 16, "width": 1, "layers": 1, "stride": 3, "se": 0, "act": "relu"},`, `stages[0].stride: 3 is not in the search space {1, 2}`},
		{stage(0), `{"block": "mbconv", "k": 3, "expand": 1, "c": 0, "width": 1, "layers": 1, "stride": 1, "se": 0, "act": "relu"},`, `stages[0].c: 0 is out of range 1..4096`},
		{stage(0), `{"block": "mbconv", "k": 3, "expand": 1, "c": 16, "width": 1, "layers": 1, "stride": 1, "se": 0, "act": "relu", "extra": true},`, `stages[0].extra: unknown field`},
		{`"stem": {"c": 16,`, `"stem": {"c": 12,`, `stem.c: 12 is not a multiple of 8`},
		{`"stem": {"c": 16, "k": 3,`, `"stem": {"c": 16, "k": 4,`, `stem.k: 4 is not in the search space {1, 3, 5, 7}`},
		{`"stride": 1, "act": "hswish"}`, `"stride": 0, "act": "hswish"}`, `stem.stride: 0 is not in the search space {1, 2}`},
		{`{"c": 192, "act": "hswish"`, `{"c": 0, "act": "hswish"`, `head.c: 0 is out of range 8..4096`},
		{`"act": "hswish", "dropout": 0.2`, `"act": "elu", "dropout": 0.2`, `head.act: "elu" is not in the search space {relu, hswish}`},
		{`"dropout": 0.2`, `"dropout": 1`, `head.dropout: 1 is out of range [0, 1)`},
		{`"classes": 10,`, `"classes": 1,`, `classes: 1 is out of range 2..100000`},
		{`"h": 28,`, `"h": 0,`, `input.h: 0 is out of range 1..4096`},
		{`"h": 28, "w": 28,`, `"h": 2, "w": 2,`, `stages[3].stride: 2 cannot downsample the 1×1 feature map it gets`},
	} {
		doc := strings.Replace(mbv3Text(t), tc.old, tc.new, 1)
		require.NotEqual(t, mbv3Text(t), doc, "bad test case %q", tc.old)
		_, err := Parse([]byte(doc))
		require.ErrorContains(t, err, tc.want)
		var fe *FieldError
		require.True(t, errors.As(err, &fe))
	}
	for doc, want := range map[string]string{
		``:                `not a JSON document`,
		`{} {}`:           `not a JSON document`,
		`[]`:              `want an object, got []`,
		`{"version": 1}`:  `input: missing`,
		mbv3Text(t) + `x`: `not a JSON document`,
		strings.Replace(mbv3Text(t), `"stages": [`, `"stages": [], "x": [`, 1): `x: unknown field`,
	} {
		_, err := Parse([]byte(doc))
		require.ErrorContains(t, err, want, doc)
	}
	empty := strings.Join(strings.Split(mbv3Text(t), "\n")[:6], "\n") + "\n  \"stages\": [],\n" + `  "head": {"c": 192, "act": "hswish", "dropout": 0.2}}`
	_, err := Parse([]byte(empty))
	require.ErrorContains(t, err, `stages: 0 is out of range 1..16`)
}

// TestCanonical: any spelling of a genome encodes to the canonical bytes;
// encoding round-trips; the ID ignores the name.
func TestCanonical(t *testing.T) {
	g, err := RefNet("mbv3-like")
	require.NoError(t, err)
	compact, err := json.Marshal(g)
	require.NoError(t, err)
	require.NotContains(t, string(compact), "\n")
	// Reordered keys, extra spaces, 1.0 for 1, -0 for 0.
	odd := strings.NewReplacer(`"width": 1,`, `"width": 1.000,`, `"se": 0,`, `"se": -0,`,
		`{"h": 28, "w": 28, "c": 1}`, `{ "c":1,"w":28 , "h" : 28 }`).Replace(mbv3Text(t))
	for _, doc := range []string{mbv3Text(t), string(compact), odd} {
		p, err := Parse([]byte(doc))
		require.NoError(t, err)
		require.Equal(t, mbv3Text(t), string(p.Encode()))
		require.Equal(t, g, p)
	}
	var wrapped struct{ G Genome }
	require.NoError(t, json.Unmarshal([]byte(`{"G":`+string(compact)+`}`), &wrapped))
	require.Equal(t, g, wrapped.G)
	require.Error(t, json.Unmarshal([]byte(`{"G":{"version":1}}`), &wrapped))

	id := g.ID()
	require.Len(t, id, 12)
	renamed := g.Clone()
	renamed.Name = "other"
	require.Equal(t, id, renamed.ID())
	renamed.Stages[0].K = 5
	require.NotEqual(t, id, renamed.ID())
	require.Equal(t, 3, g.Stages[0].K, "Clone shares stages")

	path := t.TempDir() + "/g.json"
	require.NoError(t, g.Save(path))
	loaded, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, g, loaded)
	_, err = Load(t.TempDir() + "/missing.json")
	require.Error(t, err)
}

func TestMakeDiv(t *testing.T) {
	for v, want := range map[float64]int{1: 8, 11.9: 8, 12: 16, 15: 16, 16: 16, 30: 32, 45: 48, 75: 72, 100: 104, 120: 120} {
		require.Equal(t, want, MakeDiv(v), "MakeDiv(%v)", v)
	}
}

func testSpaces() []*Space {
	return append(fixtureSpaces(), DefaultSpace())
}

func TestSampleValid(t *testing.T) {
	for si, s := range testSpaces() {
		require.NoError(t, s.Validate())
		rng := rand.New(rand.NewPCG(1, uint64(si)))
		seen := map[string]bool{}
		for range 500 {
			g := s.Sample(rng)
			require.NoError(t, s.Contains(g))
			p, err := Parse(g.Encode())
			require.NoError(t, err)
			require.Equal(t, g, p)
			seen[g.ID()] = true
			for _, l := range g.Layers() {
				require.Zero(t, l.In%8+l.Mid%8+l.Out%8, "%+v", l)
				if l.Expand == 1 {
					require.Equal(t, l.In, l.Mid)
				}
			}
			c := g.Cost()
			require.Positive(t, c.MACs)
			require.Positive(t, c.Params)
		}
		require.Greater(t, len(seen), 490, "samples repeat")
	}
	require.Equal(t, 576.0*576*576*576*576, DefaultSpace().Size())
}

// stageValues lists every decision's value of every stage.
func stageValues(g Genome) [][]string {
	var vs [][]string
	for i := range g.Stages {
		var row []string
		for _, d := range decisions {
			row = append(row, d.value(&g.Stages[i]))
		}
		vs = append(vs, row)
	}
	return vs
}

func TestMutate(t *testing.T) {
	for si, s := range testSpaces() {
		rng := rand.New(rand.NewPCG(2, uint64(si)))
		g := s.Sample(rng)
		g.Name = "parent"
		hit := map[[2]int]bool{}
		for range 2000 {
			before := g.Encode()
			child, m := s.Mutate(g, rng)
			require.Equal(t, string(before), string(g.Encode()), "Mutate changed its input")
			require.NoError(t, s.Contains(child))
			require.Empty(t, child.Name)
			old, cur := stageValues(g), stageValues(child)
			changed := 0
			for i := range old {
				for j := range old[i] {
					if old[i][j] != cur[i][j] {
						changed++
						require.Equal(t, Mutation{Stage: i, Field: decisions[j].name, Old: old[i][j], New: cur[i][j]}, m)
						hit[[2]int{i, j}] = true
					}
				}
			}
			require.Equal(t, 1, changed, "mutation %v", m)
			g = child
		}
		for i := range g.Stages {
			for j, d := range decisions {
				if d.count(&s.Choices) > 1 {
					require.True(t, hit[[2]int{i, j}], "space %d never mutated stages[%d].%s", si, i, d.name)
				}
			}
		}
	}
	m := Mutation{Stage: 2, Field: "act", Old: `"relu"`, New: `"hswish"`}
	require.Equal(t, `stages[2].act: "relu" → "hswish"`, m.String())
}

// A genome outside the space still mutates into it, one decision at a time.
func TestMutateOutside(t *testing.T) {
	s := DefaultSpace()
	s.Choices.Kernels = []int{5}
	g, err := RefNet("mbv3-like") // has k = 3 in stages 0, 1, 4
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 0))
	for range 100 {
		child, m := s.Mutate(g, rng)
		require.NoError(t, child.Validate())
		if m.Field == "k" {
			require.Equal(t, "5", m.New)
			require.Equal(t, "3", m.Old)
		}
	}
}

func TestReproducible(t *testing.T) {
	run := func(seed uint64) string {
		s := DefaultSpace()
		rng := rand.New(rand.NewPCG(seed, 7))
		var b strings.Builder
		g := s.Sample(rng)
		for range 50 {
			b.Write(g.Encode())
			var m Mutation
			g, m = s.Mutate(g, rng)
			b.WriteString(m.String())
		}
		return b.String()
	}
	require.Equal(t, run(1), run(1))
	require.NotEqual(t, run(1), run(2))
}

func TestSpaceValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(s *Space)
		want string
	}{
		{func(s *Space) { s.Choices.Kernels = nil }, "choices.k: no choice"},
		{func(s *Space) { s.Choices.Kernels = []int{3, 3} }, "choices.k: 3 is listed twice"},
		{func(s *Space) { s.Choices.Kernels = []int{3, 7} }, "choices.k: 7 is not in the search space {3, 5}"},
		{func(s *Space) { s.Choices.Acts = []Act{"gelu"} }, `choices.act: "gelu" is not in the search space {relu, hswish}`},
		{func(s *Space) { s.Choices.MinLayers = 0 }, "choices.layers: 0..4 is not within 1..16"},
		{func(s *Space) { s.Choices.MinLayers = 5 }, "choices.layers: 5..4 is not within 1..16"},
		{func(s *Space) { s.Stages = nil }, "stages: 0 is out of range 1..16"},
		{func(s *Space) { s.Stem.C = 10 }, "stem.c: 10 is not a multiple of 8"},
		{func(s *Space) {
			s.Choices = Choices{Blocks: []Block{MBConv}, Kernels: []int{3}, Expands: []int{1}, SE: []float64{0},
				Widths: []float64{1}, Acts: []Act{ReLU}, MinLayers: 1, MaxLayers: 1}
		}, "nothing to search"},
	} {
		s := DefaultSpace()
		tc.edit(s)
		require.ErrorContains(t, s.Validate(), tc.want)
	}
	s := DefaultSpace()
	g, err := RefNet("ghost-like")
	require.NoError(t, err)
	for _, tc := range []struct {
		edit func(g *Genome)
		want string
	}{
		{func(g *Genome) { g.Classes = 100 }, "classes: 100 differs from the search space's 10"},
		{func(g *Genome) { g.Input.H = 32 }, "input: {H:32 W:28 C:1} differs"},
		{func(g *Genome) { g.Stem.Act = ReLU }, "stem: "},
		{func(g *Genome) { g.Head.Dropout = 0.5 }, "head: "},
		{func(g *Genome) { g.Stages = g.Stages[:4] }, "stages: 4 stages differs from the search space's 5 stages"},
		{func(g *Genome) { g.Stages[1].C = 32 }, "stages[1].c: 32 differs from the search space's 24"},
		{func(g *Genome) { g.Stages[1].Stride = 1 }, "stages[1].stride: 1 differs from the search space's 2"},
		{func(g *Genome) { g.Stages[3].Layers = 5 }, "stages[3].layers: 5 is not in the search space 1..4"},
		{func(g *Genome) { g.Stages[3].K = 7 }, "stages[3].k: 7 is not in the search space {3, 5}"},
	} {
		g := g.Clone()
		tc.edit(&g)
		require.ErrorContains(t, s.Contains(g), tc.want)
	}
}

func TestDecisions(t *testing.T) {
	require.Equal(t, []string{"block", "k", "expand", "se", "width", "act", "layers"}, Decisions())
	require.Equal(t, "1..4", setString([]int{1, 2, 3, 4}))
	require.Equal(t, "{1, 3, 4, 5}", setString([]int{1, 3, 4, 5}))
	require.Equal(t, "{1, 2}", setString([]int{1, 2}))
	require.Equal(t, "{0.75, 1, 1.25}", setString([]float64{0.75, 1, 1.25}))
}

// FuzzParse: Parse never panics, and what it accepts re-encodes to bytes
// that parse to the same genome and encode identically.
func FuzzParse(f *testing.F) {
	f.Add([]byte(mbv3Text(f)))
	ghost, _ := os.ReadFile("refnets/ghost-like.json")
	f.Add(ghost)
	compact, _ := json.Marshal(DefaultSpace().Sample(rand.New(rand.NewPCG(1, 1))))
	f.Add(compact)
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			var fe *FieldError
			require.True(t, errors.As(err, &fe))
			return
		}
		enc := g.Encode()
		p, err := Parse(enc)
		require.NoError(t, err)
		require.Equal(t, string(enc), string(p.Encode()))
		require.Equal(t, g.ID(), p.ID())
		c := g.Cost()
		require.Positive(t, c.MACs)
		require.Positive(t, c.Params)
	})
}

func TestSummary(t *testing.T) {
	g, err := RefNet("mbv3-like")
	require.NoError(t, err)
	require.Equal(t, "mb3/e1/16x1 mb3/e3/24x2 mb5/e3/40x2/se/hs mb5/e6/80x2/se/hs mb3/e6/96x1/se/hs", g.Summary())
	g, err = RefNet("ghost-like")
	require.NoError(t, err)
	require.Equal(t, "gh3/e1/16x1 gh3/e3/24x2 gh5/e3/40x2/se gh5/e6/80x2/se gh3/e6/96x1/se", g.Summary())
}

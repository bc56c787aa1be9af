package nas

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// Version is the genome format version this package reads and writes.
const Version = 1

// Block is a stage's block type.
type Block string

// The block types.
const (
	MBConv Block = "mbconv" // MobileNetV2/V3 inverted residual
	Ghost  Block = "ghost"  // GhostNet bottleneck
)

// Act is an activation function.
type Act string

// The activations.
const (
	ReLU   Act = "relu"
	HSwish Act = "hswish" // hardswish, x·relu6(x+3)/6
)

// Genome fully determines a network; see the package documentation for the
// network it describes. Fields are in canonical order. A Genome is a value:
// use [Genome.Clone] before changing the stages of a copy.
type Genome struct {
	Version int     `json:"version"`
	Name    string  `json:"name,omitempty"` // informal; not part of the ID
	Input   Input   `json:"input"`
	Classes int     `json:"classes"`
	Stem    Stem    `json:"stem"`
	Stages  []Stage `json:"stages"`
	Head    Head    `json:"head"`
}

// Input is the input image size, height × width × channels.
type Input struct {
	H int `json:"h"`
	W int `json:"w"`
	C int `json:"c"`
}

// Stem is the first convolution: k×k with the stride, to C channels, BN, act.
type Stem struct {
	C      int `json:"c"`
	K      int `json:"k"`
	Stride int `json:"stride"`
	Act    Act `json:"act"`
}

// Stage is a run of Layers blocks of one kind; the first takes the stride.
// C and Stride come from the search space; the other fields are decisions.
type Stage struct {
	Block  Block   `json:"block"`
	K      int     `json:"k"`      // depthwise kernel size
	Expand int     `json:"expand"` // expansion ratio of the middle channels
	C      int     `json:"c"`      // base output channels, before Width
	Width  float64 `json:"width"`  // width multiplier
	Layers int     `json:"layers"`
	Stride int     `json:"stride"`
	SE     float64 `json:"se"` // squeeze-excitation ratio, 0 = none
	Act    Act     `json:"act"`
}

// Out returns the stage's output channels, MakeDiv(C·Width).
func (s Stage) Out() int { return MakeDiv(float64(s.C) * s.Width) }

// Head is the classifier: 1×1 conv to C, BN, act, global average pool,
// dropout, linear to the classes.
type Head struct {
	C       int     `json:"c"`
	Act     Act     `json:"act"`
	Dropout float64 `json:"dropout"`
}

// MakeDiv rounds a channel count to the nearest multiple of 8, at least 8
// (MobileNet's make-divisible rule: max(8, int(v+4)/8·8)).
func MakeDiv(v float64) int { return max(8, int(v+4)/8*8) }

// Clone returns a deep copy of g.
func (g Genome) Clone() Genome {
	g.Stages = slices.Clone(g.Stages)
	return g
}

// Encode returns g's canonical JSON: fixed field order, one stage per line,
// a final newline. Equal genomes encode to equal bytes. It panics on a NaN
// or infinite float, which no valid genome has.
func (g Genome) Encode() []byte {
	var b bytes.Buffer
	line := func(key string, v any, last bool) {
		fmt.Fprintf(&b, "  %q: %s", key, spaced(v))
		if !last {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("{\n")
	line("version", g.Version, false)
	if g.Name != "" {
		line("name", g.Name, false)
	}
	line("input", g.Input, false)
	line("classes", g.Classes, false)
	line("stem", g.Stem, false)
	b.WriteString("  \"stages\": [")
	for i, s := range g.Stages {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		b.Write(spaced(s))
	}
	if len(g.Stages) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("],\n")
	line("head", g.Head, true)
	b.WriteString("}\n")
	return b.Bytes()
}

// spaced marshals v compactly, then puts a space after each ':' and ','
// outside strings: `{"h": 28, "w": 28}`.
func spaced(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err) // the genome types always marshal, but NaN floats do not
	}
	out := make([]byte, 0, len(raw)+len(raw)/4)
	inStr, esc := false, false
	for _, c := range raw {
		out = append(out, c)
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && (c == ':' || c == ','):
			out = append(out, ' ')
		}
	}
	return out
}

// MarshalJSON returns the canonical encoding (json.Marshal compacts it).
func (g Genome) MarshalJSON() ([]byte, error) {
	if err := g.finite(); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(g.Encode(), []byte("\n")), nil
}

// UnmarshalJSON parses strictly and validates, like [Parse].
func (g *Genome) UnmarshalJSON(data []byte) error {
	p, err := Parse(data)
	if err != nil {
		return err
	}
	*g = p
	return nil
}

// ID returns a short stable identifier of the architecture: 12 hex digits
// of the SHA-256 of the canonical encoding without the name. Genomes that
// build the same network have the same ID.
func (g Genome) ID() string {
	g.Name = ""
	sum := sha256.Sum256(g.Encode())
	return hex.EncodeToString(sum[:6])
}

// finite reports NaN or infinite floats, which JSON cannot carry.
func (g Genome) finite() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if bad(g.Head.Dropout) {
		return &FieldError{"head.dropout", "not a finite number"}
	}
	for i, s := range g.Stages {
		if bad(s.Width) || bad(s.SE) {
			return &FieldError{fmt.Sprintf("stages[%d]", i), "width or se is not a finite number"}
		}
	}
	return nil
}

// Load reads and parses a genome file; errors carry the file name.
func Load(path string) (Genome, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Genome{}, err
	}
	g, err := Parse(data)
	if err != nil {
		return Genome{}, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Save writes g's canonical encoding to path.
func (g Genome) Save(path string) error {
	if err := g.finite(); err != nil {
		return err
	}
	return os.WriteFile(path, g.Encode(), 0o644)
}

// Summary describes the stages in one short line for tables and progress
// output, e.g. "mb3/e1/16x1 mb3/e3/24x2 mb5/e3/40x2/se/hs …": block (mb or
// gh) and kernel, expansion, output channels × layers, "/se" with SE, "/hs"
// with hardswish.
func (g Genome) Summary() string {
	parts := make([]string, len(g.Stages))
	for i, s := range g.Stages {
		b := "mb"
		if s.Block == Ghost {
			b = "gh"
		}
		parts[i] = fmt.Sprintf("%s%d/e%d/%dx%d", b, s.K, s.Expand, s.Out(), s.Layers)
		if s.SE > 0 {
			parts[i] += "/se"
		}
		if s.Act == HSwish {
			parts[i] += "/hs"
		}
	}
	return strings.Join(parts, " ")
}

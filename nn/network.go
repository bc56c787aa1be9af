package nn

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nasrun/nasrun/autograd"
	"github.com/nasrun/nasrun/safetensors"
	"github.com/nasrun/nasrun/tensor"
)

// Network is a whole model: a root module under a name prefix (PyTorch's
// attribute name, e.g. "net"), the input it takes and metadata saved with
// its weights (nas.Build stores the genome JSON under "genome").
type Network struct {
	Root   Module
	Prefix string
	// InputH, InputW and InputC are the image size (NHWC, per image).
	InputH, InputW, InputC int
	Classes                int
	// Meta is written into the safetensors metadata by Save.
	Meta map[string]string

	entries []Entry
}

// NewNetwork wraps root; Entries are collected once here, so the module
// tree must not change afterwards.
func NewNetwork(root Module, prefix string, h, w, c, classes int) *Network {
	n := &Network{Root: root, Prefix: prefix, InputH: h, InputW: w, InputC: c, Classes: classes, Meta: map[string]string{}}
	root.Visit(prefix, func(e Entry) { n.entries = append(n.entries, e) })
	return n
}

// Forward runs the network on x [N,H,W,C] and returns the logits [N,Classes].
func (n *Network) Forward(c *Ctx, x *autograd.Var) *autograd.Var { return n.Root.Forward(c, x) }

// Entries returns every state tensor in PyTorch's state_dict order.
func (n *Network) Entries() []Entry { return n.entries }

// Params returns the trainable parameters in state_dict order.
func (n *Network) Params() []Entry {
	var ps []Entry
	for _, e := range n.entries {
		if e.Param != nil {
			ps = append(ps, e)
		}
	}
	return ps
}

// ParamVars returns the trainable parameters as Vars (for optimizers).
func (n *Network) ParamVars() []*autograd.Var {
	var ps []*autograd.Var
	for _, e := range n.entries {
		if e.Param != nil {
			ps = append(ps, e.Param)
		}
	}
	return ps
}

// NumParams counts the trainable parameter elements (what PyTorch's
// sum(p.numel() for p in model.parameters()) reports).
func (n *Network) NumParams() int {
	t := 0
	for _, e := range n.entries {
		if e.Param != nil {
			t += len(e.Value.Data)
		}
	}
	return t
}

// ZeroGrad zeroes every parameter's gradient.
func (n *Network) ZeroGrad() {
	for _, e := range n.entries {
		if e.Param != nil {
			e.Param.ZeroGrad()
		}
	}
}

// torchShape returns the PyTorch shape of a tensor stored here with shape s.
func torchShape(l Layout, s []int) []int {
	switch l {
	case LayoutConv: // [KH,KW,Cin,Cout] → [Cout,Cin,KH,KW]
		return []int{s[3], s[2], s[0], s[1]}
	case LayoutDepthwise: // [K,K,C] → [C,1,K,K]
		return []int{s[2], 1, s[0], s[1]}
	case LayoutLinear: // [In,Out] → [Out,In]
		return []int{s[1], s[0]}
	case LayoutPointwise: // [In,Out] → [Out,In,1,1]
		return []int{s[1], s[0], 1, 1}
	}
	return slices.Clone(s)
}

// Every weight layout is a permutation of three axes: ours is [P, I, O]
// (P the kernel positions, or the input features of a linear layer), and
// PyTorch's is [O, I, P]. permuteDims gives P, I and O for a layout; false
// means the layouts agree.
func permuteDims(l Layout, s []int) (p, i, o int, ok bool) {
	switch l {
	case LayoutConv: // [KH,KW,Cin,Cout] ↔ [Cout,Cin,KH,KW]
		return s[0] * s[1], s[2], s[3], true
	case LayoutDepthwise: // [KH,KW,C] ↔ [C,1,KH,KW]
		return s[0] * s[1], 1, s[2], true
	case LayoutLinear, LayoutPointwise: // [In,Out] ↔ [Out,In]
		return s[0], 1, s[1], true
	}
	return 0, 0, 0, false
}

// convertLayout copies src into dst, from our layout (shape s) to
// PyTorch's when toTorch, else back.
func convertLayout(l Layout, s []int, src, dst []float32, toTorch bool) {
	np, ni, no, ok := permuteDims(l, s)
	if !ok {
		copy(dst, src)
		return
	}
	for p := range np {
		for i := range ni {
			for o := range no {
				ours, theirs := (p*ni+i)*no+o, (o*ni+i)*np+p
				if toTorch {
					dst[theirs] = src[ours]
				} else {
					dst[ours] = src[theirs]
				}
			}
		}
	}
}

// toTorch converts src (our layout, shape s) into dst in PyTorch's layout.
func toTorch(l Layout, s []int, src, dst []float32) { convertLayout(l, s, src, dst, true) }

// fromTorch is the inverse of toTorch.
func fromTorch(l Layout, s []int, src, dst []float32) { convertLayout(l, s, src, dst, false) }

// StateDict returns every state tensor in PyTorch's layout and names
// (copies): conv weights OIHW, depthwise [C,1,K,K], linear [Out,In],
// num_batches_tracked as an int64 scalar. It is what Save writes, so
// safetensors.torch.load_file + load_state_dict(strict=True) reads it into
// the equivalent PyTorch module.
func (n *Network) StateDict() map[string]safetensors.Tensor {
	out := make(map[string]safetensors.Tensor, len(n.entries))
	for _, e := range n.entries {
		out[e.Name] = ToTorch(e.Layout, e.Value)
	}
	return out
}

// GradDict returns the gradient of every parameter, named and laid out as
// PyTorch's (for parity checks and debugging).
func (n *Network) GradDict() map[string]safetensors.Tensor {
	out := map[string]safetensors.Tensor{}
	for _, e := range n.entries {
		if e.Param != nil {
			out[e.Name] = ToTorch(e.Layout, e.Param.Grad)
		}
	}
	return out
}

// ToTorch returns a copy of t, stored here with layout l, in PyTorch's
// layout (a counter as an int64 on disk).
func ToTorch(l Layout, t *tensor.Tensor) safetensors.Tensor {
	out := safetensors.Tensor{Shape: torchShape(l, t.Shape), Data: make([]float32, len(t.Data))}
	toTorch(l, t.Shape, t.Data, out.Data)
	if l == LayoutCount {
		out.DType = safetensors.I64
	}
	return out
}

// FromNCHW converts a PyTorch activation [N,C,H,W] to NHWC; tensors of
// another rank are copied unchanged.
func FromNCHW(t safetensors.Tensor) *tensor.Tensor {
	if len(t.Shape) != 4 {
		return &tensor.Tensor{Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
	}
	n, c, h, w := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	out := tensor.Zeros(n, h, w, c)
	for i := range n {
		for ch := range c {
			for p := range h * w {
				out.Data[(i*h*w+p)*c+ch] = t.Data[(i*c+ch)*h*w+p]
			}
		}
	}
	return out
}

// ToNCHW converts an NHWC activation to PyTorch's [N,C,H,W]; tensors of
// another rank are copied unchanged.
func ToNCHW(t *tensor.Tensor) safetensors.Tensor {
	if len(t.Shape) != 4 {
		return safetensors.Tensor{Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
	}
	n, h, w, c := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	out := safetensors.Tensor{Shape: []int{n, c, h, w}, Data: make([]float32, len(t.Data))}
	for i := range n {
		for ch := range c {
			for p := range h * w {
				out.Data[(i*c+ch)*h*w+p] = t.Data[(i*h*w+p)*c+ch]
			}
		}
	}
	return out
}

// LoadStateDict copies tensors in PyTorch's layout (a StateDict, or a
// PyTorch state_dict saved as safetensors) into the network. Every name
// must be present with its shape and no other name may appear; otherwise
// nothing is changed and the error lists each name that is missing,
// unexpected or of another shape.
func (n *Network) LoadStateDict(sd map[string]safetensors.Tensor) error {
	var diffs []string
	seen := make(map[string]bool, len(n.entries))
	for _, e := range n.entries {
		seen[e.Name] = true
		want := torchShape(e.Layout, e.Value.Shape)
		t, ok := sd[e.Name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("missing %s %v", e.Name, want))
		case !slices.Equal(t.Shape, want) || len(t.Data) != len(e.Value.Data):
			diffs = append(diffs, fmt.Sprintf("%s: file has %v, network wants %v", e.Name, t.Shape, want))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(sd)) {
		if !seen[name] {
			diffs = append(diffs, fmt.Sprintf("unexpected %s %v", name, sd[name].Shape))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("nn: weights do not match the architecture (%d differences):\n  %s", len(diffs), strings.Join(diffs, "\n  "))
	}
	for _, e := range n.entries {
		fromTorch(e.Layout, e.Value.Shape, sd[e.Name].Data, e.Value.Data)
	}
	return nil
}

// Save writes the state (StateDict) and n.Meta to a safetensors file,
// atomically (temporary file, fsync, rename).
func (n *Network) Save(path string) error {
	if err := safetensors.Save(path, n.StateDict(), n.Meta); err != nil {
		return fmt.Errorf("nn: saving weights: %w", err)
	}
	return nil
}

// Load reads a safetensors file written by Save (or by PyTorch from the
// equivalent module's state_dict) into n, and returns the file's metadata.
// A file for another architecture fails with the names and shapes that
// differ, leaving n unchanged.
func (n *Network) Load(path string) (map[string]string, error) {
	sd, meta, err := safetensors.Load(path)
	if err != nil {
		return nil, err
	}
	if err := n.LoadStateDict(sd); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return meta, nil
}

// CopyFrom copies every state tensor of src, a network of the same
// architecture, into n.
func (n *Network) CopyFrom(src *Network) error {
	if len(src.entries) != len(n.entries) {
		return fmt.Errorf("nn.CopyFrom: %d state tensors, want %d", len(src.entries), len(n.entries))
	}
	for i, e := range n.entries {
		if err := e.Value.CopyFrom(src.entries[i].Value); err != nil {
			return fmt.Errorf("nn.CopyFrom: %s: %w", e.Name, err)
		}
	}
	return nil
}

// Input wraps an image batch [N,H,W,C] for the forward pass, checking its
// shape against the network's input.
func (n *Network) Input(tp *autograd.Tape, x *tensor.Tensor) (*autograd.Var, error) {
	s := x.Shape
	if len(s) != 4 || s[1] != n.InputH || s[2] != n.InputW || s[3] != n.InputC {
		return nil, fmt.Errorf("nn: input %v, want [N %d %d %d]", s, n.InputH, n.InputW, n.InputC)
	}
	return tp.Input(x), nil
}

// ReadMeta returns the metadata of a safetensors file without reading its
// tensors.
func ReadMeta(path string) (map[string]string, error) {
	_, meta, err := safetensors.Inspect(path)
	return meta, err
}

package nas

import "fmt"

// Layer is one block of a genome resolved to concrete shapes: what nn
// builds, what [Genome.Cost] counts, and what a per-block latency table is
// keyed on ([Layer.Key]). In, Mid and Out are multiples of 8 in a valid
// genome.
type Layer struct {
	Stage  int // index into Genome.Stages
	Index  int // layer within the stage; 0 takes the stage's stride
	Block  Block
	H, W   int // input spatial size
	In     int // input channels
	Expand int // expansion ratio (an MBConv with 1 has no expand conv)
	Mid    int // middle channels, MakeDiv(In·Expand); = In when Expand is 1
	Out    int // output channels
	K      int // depthwise kernel size
	Stride int
	SE     int // SE hidden channels, MakeDiv(Mid·se); 0 = no SE
	Act    Act // activation (see the package doc for where each block applies it)
}

// OutHW returns the output spatial size.
func (l Layer) OutHW() (h, w int) { return convOut(l.H, l.K, l.Stride), convOut(l.W, l.K, l.Stride) }

// Residual reports whether the block adds its input unchanged (stride 1 and
// In = Out); otherwise an MBConv has no skip and a ghost block a conv
// shortcut.
func (l Layer) Residual() bool { return l.Stride == 1 && l.In == l.Out }

// Key identifies the block's computation, e.g.
// "mbconv_h14w14_c24-72-40_e3_k5s1_se16_hswish"; blocks with equal keys
// compute the same thing (and take the same time on a device).
func (l Layer) Key() string {
	return fmt.Sprintf("%s_h%dw%d_c%d-%d-%d_e%d_k%ds%d_se%d_%s",
		l.Block, l.H, l.W, l.In, l.Mid, l.Out, l.Expand, l.K, l.Stride, l.SE, l.Act)
}

// convOut is the output size of a k×k convolution with padding k/2.
func convOut(n, k, stride int) int { return (n+2*(k/2)-k)/stride + 1 }

// Layers resolves g into its blocks, in order. g must be valid.
func (g Genome) Layers() []Layer {
	var ls []Layer
	h, w := convOut(g.Input.H, g.Stem.K, g.Stem.Stride), convOut(g.Input.W, g.Stem.K, g.Stem.Stride)
	in := g.Stem.C
	for si, s := range g.Stages {
		out := s.Out()
		for i := range s.Layers {
			l := Layer{Stage: si, Index: i, Block: s.Block, H: h, W: w, In: in, Expand: s.Expand,
				Mid: MakeDiv(float64(in * s.Expand)), Out: out, K: s.K, Stride: 1, Act: s.Act}
			if i == 0 {
				l.Stride = s.Stride
			}
			if s.SE > 0 {
				l.SE = MakeDiv(float64(l.Mid) * s.SE)
			}
			ls = append(ls, l)
			h, w = l.OutHW()
			in = out
		}
	}
	return ls
}

// Cost is a network's multiply-accumulates per image and parameter count,
// counted as PyTorch would: conv and linear MACs (BN, pooling, activations
// and the SE scale are free); every weight, bias and BN weight and bias.
type Cost struct {
	MACs   int64 `json:"macs"`
	Params int64 `json:"params"`
}

// add accumulates the cost of layers.
func (c *Cost) add(o Cost) { c.MACs += o.MACs; c.Params += o.Params }

// conv is a bias-free convolution of cin→cout channels (groups: 1 or
// depthwise) with k×k kernels producing an oh×ow map, followed by BN.
func conv(cin, cout, k, groups, oh, ow int) Cost {
	w := int64(cout) * int64(cin/groups) * int64(k*k)
	return Cost{MACs: int64(oh*ow) * w, Params: w + 2*int64(cout)}
}

// ghostModule is a Ghost module c→d (ratio 2, cheap depthwise 3×3) on an
// h×w map.
func ghostModule(c, d, h, w int) Cost {
	init := (d + 1) / 2
	cost := conv(c, init, 1, 1, h, w)
	cost.add(conv(init, init, 3, init, h, w))
	return cost
}

// Cost returns the block's MACs and parameters.
func (l Layer) Cost() Cost {
	var c Cost
	oh, ow := l.OutHW()
	if l.SE > 0 { // two biased 1×1 convs on the pooled vector
		c.add(Cost{MACs: 2 * int64(l.Mid*l.SE), Params: 2*int64(l.Mid*l.SE) + int64(l.SE+l.Mid)})
	}
	switch l.Block {
	case MBConv:
		if l.Expand != 1 {
			c.add(conv(l.In, l.Mid, 1, 1, l.H, l.W))
		}
		c.add(conv(l.Mid, l.Mid, l.K, l.Mid, oh, ow))
		c.add(conv(l.Mid, l.Out, 1, 1, oh, ow))
	case Ghost:
		c.add(ghostModule(l.In, l.Mid, l.H, l.W))
		if l.Stride > 1 {
			c.add(conv(l.Mid, l.Mid, l.K, l.Mid, oh, ow))
		}
		c.add(ghostModule(l.Mid, l.Out, oh, ow))
		if !l.Residual() {
			c.add(conv(l.In, l.In, l.K, l.In, oh, ow))
			c.add(conv(l.In, l.Out, 1, 1, oh, ow))
		}
	}
	return c
}

// Cost returns the whole network's MACs per image and parameters, computed
// from the genome alone. g must be valid.
func (g Genome) Cost() Cost {
	h, w := convOut(g.Input.H, g.Stem.K, g.Stem.Stride), convOut(g.Input.W, g.Stem.K, g.Stem.Stride)
	c := conv(g.Input.C, g.Stem.C, g.Stem.K, 1, h, w)
	in := g.Stem.C
	for _, l := range g.Layers() {
		c.add(l.Cost())
		h, w = l.OutHW()
		in = l.Out
	}
	c.add(conv(in, g.Head.C, 1, 1, h, w))
	lin := int64(g.Head.C) * int64(g.Classes)
	c.add(Cost{MACs: lin, Params: lin + int64(g.Classes)})
	return c
}

package nas

import (
	"fmt"
	"math/rand/v2"

	"github.com/nasrun/nasrun/nn"
)

// MetaGenome is the safetensors metadata key under which Build's networks
// save their genome (canonical JSON), so a weights file describes its own
// architecture.
const MetaGenome = "genome"

// act maps a genome activation to the nn one.
func (a Act) nn() nn.Act {
	if a == HSwish {
		return nn.ActHardswish
	}
	return nn.ActReLU
}

// Build constructs the network g describes (see the package doc),
// initialised from rng as PyTorch initialises a fresh module. Its state
// names are those of refnet_torch.py's Net: everything sits in one
// Sequential "net" — 0 stem conv, 1 BN, 2 act, then one entry per block
// (MBConv: body.i; ghost: g1, dw, se, g2, short), then the head conv,
// BN, act, pool, flatten, dropout and linear — so Network.Save writes a
// file that Net(...).load_state_dict reads. The genome is stored in the
// network's metadata under MetaGenome.
func Build(g Genome, rng *rand.Rand) (*nn.Network, error) {
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("nas.Build: %w", err)
	}
	seq := nn.Sequential{
		nn.NewConv2d(rng, g.Input.C, g.Stem.C, g.Stem.K, g.Stem.Stride, false),
		nn.NewBatchNorm2d(g.Stem.C),
		&nn.Activation{Act: g.Stem.Act.nn()},
	}
	in := g.Stem.C
	for _, l := range g.Layers() {
		seq = append(seq, l.Build(rng))
		in = l.Out
	}
	seq = append(seq,
		nn.NewConv2d(rng, in, g.Head.C, 1, 1, false),
		nn.NewBatchNorm2d(g.Head.C),
		&nn.Activation{Act: g.Head.Act.nn()},
		nn.GlobalAvgPool{},
		nn.Flatten{},
		&nn.Dropout{P: float32(g.Head.Dropout)},
		nn.NewLinear(rng, g.Head.C, g.Classes, true),
	)
	net := nn.NewNetwork(seq, "net", g.Input.H, g.Input.W, g.Input.C, g.Classes)
	net.Meta[MetaGenome] = string(g.Encode())
	return net, nil
}

// Spec returns the block's shapes in nn's terms.
func (l Layer) Spec() nn.BlockSpec {
	return nn.BlockSpec{In: l.In, Mid: l.Mid, Out: l.Out, K: l.K, Stride: l.Stride, Expand: l.Expand, SE: l.SE, Act: l.Act.nn()}
}

// Build constructs the block alone (an *nn.MBConv or *nn.GhostBottleneck),
// e.g. to time it for a per-block latency table:
// nn.NewNetwork(l.Build(rng), "", l.H, l.W, l.In, 0).Inference().
func (l Layer) Build(rng *rand.Rand) nn.Module {
	if l.Block == Ghost {
		return nn.NewGhostBottleneck(rng, l.Spec())
	}
	return nn.NewMBConv(rng, l.Spec())
}

// LoadNetwork reads a weights file written by Network.Save for a network
// from Build: it builds the genome stored in the file's metadata and
// loads the weights into it.
func LoadNetwork(path string) (*nn.Network, Genome, error) {
	meta, err := nn.ReadMeta(path)
	if err != nil {
		return nil, Genome{}, err
	}
	js, ok := meta[MetaGenome]
	if !ok {
		return nil, Genome{}, fmt.Errorf("%s: no genome in the metadata (not saved by nasrun?)", path)
	}
	g, err := Parse([]byte(js))
	if err != nil {
		return nil, Genome{}, fmt.Errorf("%s: genome in the metadata: %w", path, err)
	}
	net, err := Build(g, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, Genome{}, err
	}
	if _, err := net.Load(path); err != nil {
		return nil, Genome{}, err
	}
	return net, g, nil
}

// Package nas is the neural architecture search: the search space, the
// genome that describes one network of it, and (built on these) the
// evolution, reward, latency and run store.
//
// # Genome
//
// A [Genome] is a small versioned JSON document that fully determines a
// network; it is what `nasrun train --arch FILE.json` reads and what the
// trial log stores. Its canonical form ([Genome.Encode]):
//
//	{
//	  "version": 1,
//	  "name": "mbv3-like",
//	  "input": {"h": 28, "w": 28, "c": 1},
//	  "classes": 10,
//	  "stem": {"c": 16, "k": 3, "stride": 1, "act": "hswish"},
//	  "stages": [
//	    {"block": "mbconv", "k": 3, "expand": 1, "c": 16, "width": 1, "layers": 1, "stride": 1, "se": 0, "act": "relu"},
//	    …
//	  ],
//	  "head": {"c": 192, "act": "hswish", "dropout": 0.2}
//	}
//
// The network it describes (NHWC, batch dimension omitted):
//
//   - stem: conv k×k with the stride, padding k/2, no bias, input c → stem c,
//     BN, act. stem.c is a multiple of 8.
//   - stages, in order; each stage is `layers` blocks, the first takes the
//     stage's stride, the others stride 1. Every block of a stage outputs
//     [MakeDiv](c·width) channels, where c is the stage's base channel count
//     (fixed by the search space) and width its multiplier. A block with
//     input channels In expands to Mid = MakeDiv(In·expand).
//   - block "mbconv": 1×1 In→Mid + BN + act (omitted when expand is 1),
//     depthwise k×k with the stride + BN + act, SE on Mid when se > 0,
//     1×1 Mid→Out + BN; identity residual when stride is 1 and In = Out.
//   - block "ghost" (GhostBottleneck): Ghost module In→Mid with act;
//     depthwise k×k stride 2 + BN only when the stride is 2; SE on Mid when
//     se > 0; Ghost module Mid→Out without activation; plus a shortcut:
//     identity when stride is 1 and In = Out, else depthwise k×k with the
//     stride + BN + 1×1 In→Out + BN. A Ghost module C→D (ratio 2): primary
//     1×1 C→ceil(D/2) + BN (+act), cheap depthwise 3×3 on those channels +
//     BN (+act), concatenated and cut to D channels. GhostNet and
//     refnet_torch.py use ReLU there; here the stage's act decides, so that
//     every decision changes the network (with "relu" it is GhostNet's).
//     A ghost block that neither strides nor changes width has no k×k
//     convolution: there, k changes nothing.
//   - SE on C channels: global average pool, 1×1 C→MakeDiv(C·se) with bias,
//     ReLU, 1×1 →C with bias, hardsigmoid, scale.
//   - head: 1×1 conv → head c (no bias), BN, act, global average pool,
//     dropout, linear → classes (with bias).
//
// Activations are "relu" or "hswish" (hardswish). Convolutions use padding
// k/2, so a stride-2 layer maps a size n to (n-1)/2+1.
//
// Parsing ([Parse]) is strict: unknown fields, missing fields, wrong types,
// another version, choices outside the universal search space (see
// [Universe]) and impossible shapes are rejected with a [*FieldError] that
// names the field path, e.g. `stages[2].k: 7 is not in the search space
// {3, 5}`. A particular [Space] may be narrower; [Space.Contains] checks a
// genome against it.
//
// # Search space
//
// A [Space] is MnasNet-style and factorized per stage: the input, classes,
// stem and head are fixed, each stage has a fixed base channel count and
// stride, and every stage independently chooses block, kernel, expansion,
// SE ratio, width multiplier, activation and layer count from the space's
// choice sets. [DefaultSpace] is the space around the reference networks.
// [Space.Sample] draws a genome and [Space.Mutate] re-draws one decision of
// one stage; both take every random choice from the given *rand.Rand.
//
// # Cost
//
// [Genome.Layers] resolves a genome into its blocks with concrete shapes
// ([Layer]), the form nn builds from and a per-block latency table keys
// on; [Genome.Cost] counts multiply-accumulates and parameters without
// building anything, exactly as PyTorch counts them for the same network
// (BN weight and bias are parameters; BN, pooling, activations and the SE
// scale are not MACs). testdata/torch_cost.py produced the fixture that
// proves it.
package nas

"""Counts MACs and parameters of genomes with PyTorch, for cost_test.go.

Builds each genome of a JSON list with the block classes of the PyTorch
reference script (peers/refnet_torch.py: MBConv, GhostBottleneck, SE) and
counts with its macs() (the ghost block takes the stage's activation); for the reference networks it also checks that the
genome builds exactly refnet_torch.Net. Regenerate the fixture with

  go test ./nas -run TestCostFixtureGenomes -update
  /usr/bin/python3 nas/testdata/torch_cost.py nas/testdata/cost_genomes.json \
      > nas/testdata/cost_torch.json

REFNET_TORCH overrides the directory of refnet_torch.py (default
/work/shared/peers).
"""
import json, os, sys

sys.path.insert(0, os.environ.get("REFNET_TORCH", "/work/shared/peers"))
import refnet_torch as R  # noqa: E402
import torch.nn as nn  # noqa: E402


def ghost(cin, cout, k, e, s, se, a):
    """R.GhostBottleneck with the stage's activation in its first Ghost module
    (refnet_torch always uses ReLU there, which is act "relu")."""
    b = R.GhostBottleneck(cin, cout, k, e, s, se, a)
    for seq in (b.g1.primary, b.g1.cheap):
        assert isinstance(seq[2], nn.ReLU)
        seq[2] = R.act(a)
    return b


def build(g):
    st, hd = g["stem"], g["head"]
    layers = [nn.Conv2d(g["input"]["c"], st["c"], st["k"], st["stride"], st["k"] // 2, bias=False),
              nn.BatchNorm2d(st["c"]), R.act(st["act"])]
    cin = st["c"]
    for s in g["stages"]:
        assert s["se"] in (0, 0.25), "refnet_torch's SE has ratio 1/4"
        cout = R.make_div(s["c"] * s["width"])
        block = {"mbconv": R.MBConv, "ghost": ghost}[s["block"]]
        for i in range(s["layers"]):
            layers.append(block(cin, cout, s["k"], s["expand"], s["stride"] if i == 0 else 1, s["se"] > 0, s["act"]))
            cin = cout
    layers += [nn.Conv2d(cin, hd["c"], 1, bias=False), nn.BatchNorm2d(hd["c"]), R.act(hd["act"]),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(hd["dropout"]), nn.Linear(hd["c"], g["classes"])]
    return nn.Sequential(*layers)


def main():
    genomes = json.load(open(sys.argv[1]))
    out = []
    for g in genomes:
        model = build(g).eval()
        if g.get("name") in R.REFNETS:
            ref = R.Net(R.REFNETS[g["name"]]).net
            assert repr(model) == repr(ref), g["name"] + " does not build refnet_torch.Net"
        i = g["input"]
        out.append({"genome": g, "macs": R.macs(model, (1, i["c"], i["h"], i["w"])),
                    "params": sum(p.numel() for p in model.parameters())})
    print("[\n" + ",\n".join(json.dumps(o) for o in out) + "\n]")


if __name__ == "__main__":
    main()

"""Writes the PyTorch parity fixtures of package nn (and nas.Build).

Run from the repository root with Debian's python3-torch:

  /usr/bin/python3 nn/testdata/make_fixtures.py

Blocks come from the PyTorch reference script (peers/refnet_torch.py: SE,
Ghost, MBConv, GhostBottleneck, Net), with the ghost block's first Ghost
module taking the stage's activation as nas decided (refnet_torch always
uses ReLU there, which is act "relu"). REFNET_TORCH overrides the directory
of refnet_torch.py (default /work/shared/peers).

Each case is one safetensors file (F32, written by the small writer below,
as python3-safetensors is not packaged): its metadata holds "kind" and the
block's "spec" (or the "genome" of a whole network); its tensors are, in
PyTorch's layouts (NCHW activations, OIHW weights):

  x                      the input
  state.NAME             the state_dict before the forward passes
  MODE.y, MODE.dy        output and the upstream gradient (loss = sum(y·dy))
  MODE.grad.x            d loss / d x
  MODE.grad.NAME         d loss / d parameter, every parameter
  train.after.NAME       BN running statistics after the training forward

for MODE eval (running statistics; computed first) and train (batch
statistics). Inputs and weights are drawn in float32 and the math runs in
float64, so the fixtures hold the float32 rounding of the exact result.

It also writes optim.safetensors: a few steps of SGD (Nesterov, weight
decay) and AdamW (with gradient clipping), both driven by OneCycleLR, on a
tiny linear classifier with label-smoothed cross-entropy; it stores the
weights after every step.
"""
import json, math, os, struct, sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.environ.get("REFNET_TORCH", "/work/shared/peers"))
import refnet_torch as R  # noqa: E402

OUT = os.path.dirname(os.path.abspath(__file__))


def save(path, tensors, meta):
    """Minimal safetensors writer: F32 (I64 for num_batches_tracked)."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach()
        if t.dtype == torch.int64:
            b, dt = t.numpy().astype("<i8").tobytes(), "I64"
        else:
            b, dt = t.to(torch.float32).contiguous().numpy().astype("<f4").tobytes(), "F32"
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def act(a):
    return nn.Hardswish() if a == "hswish" else nn.ReLU()


def ghost_act(g, a):
    """Gives a R.Ghost built with relu=True the activation a."""
    for seq in (g.primary, g.cheap):
        assert isinstance(seq[2], nn.ReLU)
        seq[2] = act(a)
    return g


def randomize(model, gen):
    """Float32 weights and non-trivial BN parameters and running statistics."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.4 - 0.2)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            elif isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (1.0 / math.sqrt(m.weight[0].numel())))
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)


def case(name, model, x_shape, meta, seed):
    gen = torch.Generator().manual_seed(seed)
    randomize(model, gen)
    out = {"state." + k: v.clone() for k, v in model.state_dict().items()}
    x32 = torch.randn(x_shape, generator=gen)
    out["x"] = x32
    model = model.double()
    for mode in ("eval", "train"):
        model.train(mode == "train")
        model.zero_grad()
        x = x32.double().requires_grad_(True)
        y = model(x)
        dy = torch.randn(y.shape, generator=gen).double()
        (y * dy).sum().backward()
        out[mode + ".y"], out[mode + ".dy"], out[mode + ".grad.x"] = y, dy, x.grad
        for k, p in model.named_parameters():
            out[mode + ".grad." + k] = p.grad.clone()
    for k, v in model.state_dict().items():
        if "running" in k:
            out["train.after." + k] = v
    save(os.path.join(OUT, name + ".safetensors"), out, meta)


def spec(cin, mid, cout, k, s, e, se, a):
    return json.dumps({"in": cin, "mid": mid, "out": cout, "k": k, "stride": s, "expand": e, "se": se, "act": a})


def blocks():
    n = 0
    # SE on 24 channels (hidden make_div(24/4) = 8).
    case("se_c24", R.SE(24), (3, 24, 5, 5), {"kind": "se", "spec": spec(24, 24, 24, 1, 1, 1, 8, "relu")}, n)
    # Ghost modules: with ReLU, with hardswish, and without activation to
    # an odd width (concat then cut).
    for cin, cout, a in ((16, 24, "relu"), (8, 16, "hswish"), (8, 21, "none")):
        n += 1
        g = R.Ghost(cin, cout, relu=a != "none")
        if a == "hswish":
            ghost_act(g, a)
        case(f"ghostmodule_{cin}_{cout}_{a}", g, (2, cin, 6, 6),
             {"kind": "ghostmodule", "spec": spec(cin, cout, cout, 3, 1, 1, 0, a)}, n)
    # MBConv and GhostBottleneck: (in, expand, out, k, stride, se, act).
    mb = [(16, 1, 16, 3, 1, 0, "relu"), (16, 3, 16, 5, 1, 1, "hswish"), (16, 3, 24, 3, 2, 0, "hswish"),
          (16, 6, 24, 5, 2, 1, "relu"), (16, 3, 24, 3, 1, 1, "relu"), (8, 1, 16, 5, 2, 1, "hswish")]
    gh = [(16, 3, 16, 3, 1, 0, "relu"), (16, 3, 24, 5, 2, 1, "hswish"), (16, 6, 24, 3, 1, 1, "relu"),
          (16, 1, 16, 5, 2, 0, "hswish"), (8, 3, 8, 5, 1, 1, "hswish")]
    for kind, cases in (("mbconv", mb), ("ghost", gh)):
        for cin, e, cout, k, s, se, a in cases:
            n += 1
            mid = R.make_div(cin * e)
            hidden = R.make_div(mid // 4) if se else 0
            if kind == "mbconv":
                m = R.MBConv(cin, cout, k, e, s, se, a)
            else:
                m = R.GhostBottleneck(cin, cout, k, e, s, se, a)
                ghost_act(m.g1, a)
            name = f"{kind}_i{cin}e{e}o{cout}_k{k}s{s}_se{se}_{a}"
            case(name, m, (2, cin, 7, 7), {"kind": kind, "spec": spec(cin, mid, cout, k, s, e, hidden, a)}, n)


# A small genome through nas.Build: every block type, both activations,
# SE, strides, an odd input size.
GENOME = {
    "version": 1, "name": "fixture", "input": {"h": 11, "w": 11, "c": 1}, "classes": 4,
    "stem": {"c": 8, "k": 3, "stride": 1, "act": "hswish"},
    "stages": [
        {"block": "mbconv", "k": 3, "expand": 1, "c": 8, "width": 1, "layers": 1, "stride": 1, "se": 0, "act": "relu"},
        {"block": "ghost", "k": 5, "expand": 3, "c": 16, "width": 1, "layers": 2, "stride": 2, "se": 0.25, "act": "hswish"},
        {"block": "mbconv", "k": 5, "expand": 6, "c": 24, "width": 1, "layers": 1, "stride": 2, "se": 0.25, "act": "hswish"},
    ],
    "head": {"c": 16, "act": "hswish", "dropout": 0},
}


def network():
    stages = [("mb" if s["block"] == "mbconv" else "gh", s["k"], s["expand"], s["c"], s["layers"], s["stride"],
               int(s["se"] > 0), s["act"]) for s in GENOME["stages"]]
    net = R.Net(stages, stem=GENOME["stem"]["c"], head=GENOME["head"]["c"], classes=GENOME["classes"])
    for m in net.net:
        if isinstance(m, R.GhostBottleneck):
            ghost_act(m.g1, "hswish")
        if isinstance(m, nn.Dropout):
            m.p = GENOME["head"]["dropout"]
    i = GENOME["input"]
    case("net_fixture", net, (3, i["c"], i["h"], i["w"]), {"kind": "net", "genome": json.dumps(GENOME)}, 100)


def optim():
    """SGD and AdamW with OneCycleLR on a linear classifier, float64."""
    gen = torch.Generator().manual_seed(7)
    lin = nn.Linear(6, 4)
    randomize(lin, gen)
    x = torch.randn(5, 6, generator=gen)
    labels = torch.tensor([0, 3, 1, 2, 3])
    out = {"x": x, "labels": labels.to(torch.float32),
           "state.weight": lin.weight.detach().clone(), "state.bias": lin.bias.detach().clone()}
    steps = 6
    for name in ("sgd", "adamw"):
        m = nn.Linear(6, 4).double()
        with torch.no_grad():
            m.weight.copy_(out["state.weight"]); m.bias.copy_(out["state.bias"])
        if name == "sgd":
            opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=4e-5)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=steps)
        else:
            opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=steps)
        for s in range(steps):
            loss = F.cross_entropy(m(x.double()), labels, label_smoothing=0.1)
            opt.zero_grad(); loss.backward()
            if name == "adamw":
                torch.nn.utils.clip_grad_norm_(m.parameters(), 0.5)
            opt.step(); sched.step()
            out[f"{name}.{s}.weight"] = m.weight.detach().clone()
            out[f"{name}.{s}.bias"] = m.bias.detach().clone()
    save(os.path.join(OUT, "optim.safetensors"), out,
         {"kind": "optim", "steps": str(steps), "sgd": "lr=0.1 momentum=0.9 nesterov wd=4e-5 onecycle max_lr=0.2",
          "adamw": "lr=1e-3 wd=0.01 clip=0.5 onecycle max_lr=0.05", "smoothing": "0.1"})


if __name__ == "__main__":
    torch.manual_seed(0)
    blocks()
    network()
    optim()

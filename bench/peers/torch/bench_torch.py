#!/usr/bin/python3
"""bench_torch.py - times the rows of nasrun's benchmark suite
(bench/suite/suite.txt) with PyTorch on the CPU (Debian python3-torch).

  /usr/bin/python3 bench_torch.py --suite FILE [--threads 1,2] [--rows id,id] [--samples N] [--sample-ms MS]
                                  [--budget-ms MS] [--layout best|nchw|nhwc]
  /usr/bin/python3 bench_torch.py --suite FILE --serve   (reads "ID THREADS" lines, answers one line each)

Output: one JSON line per row and thread count, as bench_xnnpack.c prints:
  {"row": "dw3s1", "impl": "pytorch", "threads": 1, "ms": 0.158, "min_ms": ..., "reps": ..., "samples": ...}
The first line describes the build ({"info": ...}: version, BLAS library).

Tensors are NCHW (PyTorch's default) or channels_last: the first time a row
and thread count is asked for, both layouts are timed and the faster one is
kept (printed in the "layout" field), so PyTorch is measured at its best.
--layout nchw (or nhwc) times that layout only. NCHW is how PyTorch runs a
script that never asks for channels_last, such as the one behind issue #3's
reference figures (364 and 552 images/s).
Forward rows run under torch.no_grad(); train-* rows run the forward and the
backward to the input and the weight (torch.autograd.grad). Model rows build
a reference network from its genome (nas/refnets/NET.json, REFNETS.md):
model-train times one SGD step on a batch (forward, cross-entropy, backward,
update), model-latency one inference pass. Timing is the
method of bench/peers/peer.h: calibrate calls per sample (the warm-up), then
N samples, median and minimum per call.

torch.mm goes to the system BLAS (libblas.so.3). OpenBLAS keeps its own
thread count, so the script sets it to the row's thread count too.
"""
import argparse
import ctypes
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
INT_FIELDS = ("n", "h", "w", "c", "co", "k", "s", "p", "m", "kk", "nn", "elems", "r")


def read_suite(path):
    """Returns {id: row}, row a dict of op and the integer fields (0 if unset)."""
    rows = {}
    with open(path) as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            row = dict.fromkeys(INT_FIELDS, 0)
            row["id"] = fields[0]
            for kv in fields[1:]:
                k, v = kv.split("=", 1)
                row[k] = v if k in ("op", "net") else int(v)
            rows[row["id"]] = row
    return rows


def blas_library():
    """The BLAS shared library torch.mm resolves to, from this process's maps."""
    with open("/proc/self/maps") as f:
        libs = {l.split()[-1] for l in f if "blas" in l.lower() and "/" in l}
    return sorted(libs)


def openblas_threads_setter():
    for lib in blas_library():
        try:
            return ctypes.CDLL(lib).openblas_set_num_threads
        except (OSError, AttributeError):
            pass
    return None


class Skip(Exception):
    """The row has no PyTorch equivalent here."""


SPATIAL_OPS = ("dwconv", "conv", "train-dw", "train-conv", "maxpool", "avgpool", "gap", "se",
               "model-train", "model-latency")


# ---- the reference networks (REFNETS.md), built from their genome files ----

def make_div(v):
    return max(8, int(v + 4) // 8 * 8)


def conv_bn(cin, cout, k, stride=1, groups=1, act=None):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.Hardswish() if act == "hswish" else nn.ReLU())
    return layers


class SE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, make_div(c / 4), 1), nn.Conv2d(make_div(c / 4), c, 1)

    def forward(self, x):
        return x * F.hardsigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))


class MBConv(nn.Module):
    """expand 1×1 (skipped at e = 1), depthwise k×k with the stride, SE, project 1×1."""

    def __init__(self, cin, cout, k, e, stride, se, act):
        super().__init__()
        mid = make_div(cin * e)
        layers = conv_bn(cin, mid, 1, act=act) if e != 1 else []
        layers += conv_bn(mid, mid, k, stride, mid, act) + ([SE(mid)] if se else []) + conv_bn(mid, cout, 1)
        self.body, self.residual = nn.Sequential(*layers), stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class GhostModule(nn.Module):
    """1×1 conv to half the channels, a cheap depthwise 3×3 makes the other half."""

    def __init__(self, cin, cout, act):
        super().__init__()
        init = -(-cout // 2)
        self.cout = cout
        self.primary = nn.Sequential(*conv_bn(cin, init, 1, act=act))
        self.cheap = nn.Sequential(*conv_bn(init, init, 3, 1, init, act))

    def forward(self, x):
        a = self.primary(x)
        return torch.cat([a, self.cheap(a)], 1)[:, :self.cout]


class GhostBottleneck(nn.Module):
    def __init__(self, cin, cout, k, e, stride, se, act):
        super().__init__()
        mid = make_div(cin * e)
        layers = [GhostModule(cin, mid, act)]
        layers += conv_bn(mid, mid, k, stride, mid) if stride > 1 else []
        layers += ([SE(mid)] if se else []) + [GhostModule(mid, cout, None)]
        self.body = nn.Sequential(*layers)
        self.short = None if stride == 1 and cin == cout else nn.Sequential(
            *conv_bn(cin, cin, k, stride, cin), *conv_bn(cin, cout, 1))

    def forward(self, x):
        return self.body(x) + (x if self.short is None else self.short(x))


def build_net(g):
    """The network of genome g (a nas/refnets/*.json document)."""
    st, hd = g["stem"], g["head"]
    layers, cin = conv_bn(g["input"]["c"], st["c"], st["k"], st["stride"], act=st["act"]), st["c"]
    for s in g["stages"]:
        block = {"mbconv": MBConv, "ghost": GhostBottleneck}[s["block"]]
        cout = make_div(s["c"] * s["width"])
        for i in range(s["layers"]):
            layers.append(block(cin, cout, s["k"], s["expand"], s["stride"] if i == 0 else 1, s["se"] > 0, s["act"]))
            cin = cout
    layers += conv_bn(cin, hd["c"], 1, act=hd["act"])
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(hd["dropout"]), nn.Linear(hd["c"], g["classes"])]
    return nn.Sequential(*layers)


def model_case(r, fmt, rnd):
    """One training step (SGD, batch n) or one inference pass of a reference net."""
    with open(os.path.join(ROOT, "nas", "refnets", r["net"] + ".json")) as f:
        g = json.load(f)
    net = build_net(g).to(memory_format=fmt)
    i = g["input"]
    x = rnd(r["n"], i["c"], i["h"], i["w"])
    if r["op"] == "model-latency":
        net.eval()
        return (lambda: net(x)), False
    y = torch.randint(0, g["classes"], (r["n"],))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=4e-5)

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y, label_smoothing=0.1).backward()
        opt.step()

    return step, True


def make_case(r, layout):
    """Returns (fn, needs_grad): fn runs the row once; 4-d tensors in layout."""
    g = torch.Generator().manual_seed(1)
    fmt = torch.channels_last if layout == "nhwc" else torch.contiguous_format

    def rnd(*shape, scale=1.0):
        t = torch.randn(*shape, generator=g) * scale
        return t.contiguous(memory_format=fmt) if len(shape) == 4 else t

    op, n, h, w, c = r["op"], r["n"], r["h"], r["w"], r["c"]
    if op in ("dwconv", "conv", "train-dw", "train-conv"):
        groups = c if op in ("dwconv", "train-dw") else 1
        cout = c if groups > 1 else r["co"]
        x, wt = rnd(n, c, h, w), rnd(cout, c // groups, r["k"], r["k"], scale=0.1)
        s, p = r["s"], r["p"]
        if op.startswith("train-"):
            x.requires_grad_(True)
            wt.requires_grad_(True)
            ho, wo = (h + 2 * p - r["k"]) // s + 1, (w + 2 * p - r["k"]) // s + 1
            gy = rnd(n, cout, ho, wo)
            return (lambda: torch.autograd.grad(F.conv2d(x, wt, None, s, p, 1, groups), (x, wt), gy)), True
        return (lambda: F.conv2d(x, wt, None, s, p, 1, groups)), False
    if op in ("model-train", "model-latency"):
        return model_case(r, fmt, rnd)
    if op == "gemm":
        a, b = rnd(r["m"], r["kk"]), rnd(r["kk"], r["nn"])
        return (lambda: torch.mm(a, b)), False
    if op == "maxpool":
        x = rnd(n, c, h, w)
        return (lambda: F.max_pool2d(x, r["k"], r["s"], r["p"])), False
    if op == "avgpool":
        x = rnd(n, c, h, w)
        return (lambda: F.avg_pool2d(x, r["k"], r["s"], r["p"])), False
    if op == "gap":
        x = rnd(n, c, h, w)
        return (lambda: F.adaptive_avg_pool2d(x, 1)), False
    if op in ("hardsigmoid", "hardswish", "sigmoid"):
        x = rnd(r["elems"], scale=4) if r["elems"] else rnd(n, c, h, w, scale=4)
        f = {"hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish, "sigmoid": torch.sigmoid}[op]
        return (lambda: f(x)), False
    if op == "se":
        cr = c // r["r"]
        x = rnd(n, c, h, w)
        w1, b1, w2, b2 = rnd(cr, c, scale=0.1), rnd(cr, scale=0.1), rnd(c, cr, scale=0.1), rnd(c, scale=0.1)

        def se():
            s = F.adaptive_avg_pool2d(x, 1).flatten(1)
            s = F.hardsigmoid(F.linear(F.relu(F.linear(s, w1, b1)), w2, b2))
            return x * s[:, :, None, None]

        return se, False
    raise Skip(f"op {op} not covered by the PyTorch peer")


def sample(fn, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return time.perf_counter() - t0


class TooSlow(Exception):
    """Calls take longer than the budget of a measurement."""


def measure(fn, reps, nsamp, sample_s, budget_s):
    """peer.h's method: reps <= 0 calibrates; returns (median s, min s, reps, samples,
    median thread CPU s per call)."""
    if reps <= 0:
        t0, i, fastest = time.perf_counter(), 0, float("inf")
        while i < 2 or time.perf_counter() - t0 < sample_s:  # warm-up
            fastest = min(fastest, sample(fn, 1))
            if i >= 1 and fastest > budget_s:  # two calls over it (the first may pay for setup)
                raise TooSlow(fastest)
            i += 1
        reps = max(1, round(sample_s / max(fastest, 1e-9)))
    warm = sample(fn, reps)  # warm-up sample
    if warm / reps > budget_s:
        raise TooSlow(warm / reps)
    nsamp = min(nsamp, max(3, int(budget_s / max(warm, 1e-9)) - 1))
    s, cpu = [], []
    for _ in range(nsamp):
        c0 = time.thread_time()
        s.append(sample(fn, reps) / reps)
        cpu.append((time.thread_time() - c0) / reps)
    return median(s), min(s), reps, nsamp, median(cpu)


def median(v):
    v, n = sorted(v), len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


class Bench:
    def __init__(self, rows, impl, nsamp, sample_s, budget_s, layout="best"):
        self.rows, self.impl, self.nsamp, self.sample_s, self.budget_s = rows, impl, nsamp, sample_s, budget_s
        self.fixed_layout = None if layout == "best" else layout
        self.reps = {}  # (row id, threads) -> calibrated calls per sample
        self.layout = {}  # (row id, threads) -> the layout kept: the faster, or the one asked for
        self.set_blas_threads = openblas_threads_setter()

    def row(self, rid, threads):
        out = {"row": rid, "impl": self.impl, "threads": threads}
        try:
            if rid not in self.rows:
                raise Skip("no such row")
            torch.set_num_threads(threads)
            if self.set_blas_threads:
                self.set_blas_threads(threads)
            key, r = (rid, threads), self.rows[rid]
            if key in self.layout:
                layouts = [self.layout[key]]
            elif r["op"] not in SPATIAL_OPS:
                layouts = ["nchw"]
            else:
                layouts = [self.fixed_layout] if self.fixed_layout else ["nchw", "nhwc"]
            best, slow = None, None
            for layout in layouts:
                fn, grad = make_case(r, layout)
                try:
                    with torch.set_grad_enabled(grad):
                        res = measure(fn, self.reps.get(key, 0) if len(layouts) == 1 else 0,
                                      self.nsamp, self.sample_s, self.budget_s)
                except TooSlow as e:
                    slow = e.args[0]
                    continue
                if best is None or res[0] < best[0][0]:
                    best = res, layout
            if best is None:
                raise Skip(f"a call took {slow * 1e3:.0f} ms, over the {self.budget_s * 1e3:.0f} ms "
                           "budget of a measurement: machine too busy")
            (med, mn, reps, nsamp, cpu), self.layout[key] = best
            self.reps[key] = reps
            out.update(ms=med * 1e3, min_ms=mn * 1e3, reps=reps, samples=nsamp, layout=self.layout[key])
            if threads == 1:  # one intra-op thread: ATen and OpenBLAS run on this thread
                out["cpu_ms"] = cpu * 1e3
        except Skip as e:
            out["skip"] = str(e)
        print(json.dumps(out), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", default="bench/suite/suite.txt")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--rows", default="")
    ap.add_argument("--samples", type=int, default=9)
    ap.add_argument("--sample-ms", type=float, default=20)
    ap.add_argument("--budget-ms", type=float, default=5000,
                    help="time budget of one measurement: fewer samples (at least 3) for slow rows; "
                         "two calls over it skip the row")
    ap.add_argument("--impl", default="pytorch", help="name printed in the impl field")
    ap.add_argument("--layout", default="best", choices=("best", "nchw", "nhwc"),
                    help="4-d tensor layout: the faster of the two (best), or only the one named")
    ap.add_argument("--serve", action="store_true")
    a = ap.parse_args()
    rows = read_suite(a.suite)
    b = Bench(rows, a.impl, max(1, a.samples), a.sample_ms * 1e-3, a.budget_ms * 1e-3, a.layout)
    print(json.dumps({"info": {"impl": a.impl, "torch": torch.__version__, "blas": blas_library(),
                               "openblas_threads": b.set_blas_threads is not None}}), flush=True)
    if a.serve:
        for line in sys.stdin:
            f = line.split()
            if len(f) == 2:
                b.row(f[0], int(f[1]))
        return
    want = set(a.rows.split(",")) if a.rows else None
    for t in (int(x) for x in a.threads.split(",")):
        for rid in rows:
            if want is None or rid in want:
                b.row(rid, t)


if __name__ == "__main__":
    main()

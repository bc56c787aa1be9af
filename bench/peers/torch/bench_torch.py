#!/usr/bin/python3
"""bench_torch.py - times the rows of nasrun's benchmark suite
(bench/suite/suite.txt) with PyTorch on the CPU (Debian python3-torch).

  /usr/bin/python3 bench_torch.py --suite FILE [--threads 1,2] [--rows id,id] [--samples N] [--sample-ms MS]
  /usr/bin/python3 bench_torch.py --suite FILE --serve   (reads "ID THREADS" lines, answers one line each)

Output: one JSON line per row and thread count, as bench_xnnpack.c prints:
  {"row": "dw3s1", "impl": "pytorch", "threads": 1, "ms": 0.158, "min_ms": ..., "reps": ..., "samples": ...}
The first line describes the build ({"info": ...}: version, BLAS library).

Tensors are NCHW (PyTorch's default) or channels_last: the first time a row
and thread count is asked for, both layouts are timed and the faster one is
kept (printed in the "layout" field), so PyTorch is measured at its best.
Forward rows run under torch.no_grad(); train-* rows run the forward and the
backward to the input and the weight (torch.autograd.grad). Timing is the
method of bench/peers/peer.h: calibrate calls per sample (the warm-up), then
N samples, median and minimum per call.

torch.mm goes to the system BLAS (libblas.so.3). OpenBLAS keeps its own
thread count, so the script sets it to the row's thread count too.
"""
import argparse
import ctypes
import json
import sys
import time

import torch
import torch.nn.functional as F

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
                row[k] = v if k == "op" else int(v)
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


SPATIAL_OPS = ("dwconv", "conv", "train-dw", "train-conv", "maxpool", "avgpool", "gap", "se")


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


def measure(fn, reps, nsamp, sample_s):
    """peer.h's method: reps <= 0 calibrates; returns (median s, min s, reps)."""
    if reps <= 0:
        t0, i, fastest = time.perf_counter(), 0, float("inf")
        while i < 2 or time.perf_counter() - t0 < sample_s:  # warm-up
            fastest = min(fastest, sample(fn, 1))
            i += 1
        reps = max(1, round(sample_s / max(fastest, 1e-9)))
    sample(fn, reps)  # warm-up sample
    s = sorted(sample(fn, reps) / reps for _ in range(nsamp))
    med = s[nsamp // 2] if nsamp % 2 else 0.5 * (s[nsamp // 2 - 1] + s[nsamp // 2])
    return med, s[0], reps


class Bench:
    def __init__(self, rows, impl, nsamp, sample_s):
        self.rows, self.impl, self.nsamp, self.sample_s = rows, impl, nsamp, sample_s
        self.reps = {}  # (row id, threads) -> calibrated calls per sample
        self.layout = {}  # (row id, threads) -> the faster layout
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
            layouts = [self.layout[key]] if key in self.layout else (
                ["nchw", "nhwc"] if r["op"] in SPATIAL_OPS else ["nchw"])
            best = None
            for layout in layouts:
                fn, grad = make_case(r, layout)
                with torch.set_grad_enabled(grad):
                    res = measure(fn, self.reps.get(key, 0) if len(layouts) == 1 else 0,
                                  self.nsamp, self.sample_s)
                if best is None or res[0] < best[0][0]:
                    best = res, layout
            (med, mn, reps), self.layout[key] = best
            self.reps[key] = reps
            out.update(ms=med * 1e3, min_ms=mn * 1e3, reps=reps, samples=self.nsamp,
                       layout=self.layout[key])
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
    ap.add_argument("--impl", default="pytorch", help="name printed in the impl field")
    ap.add_argument("--serve", action="store_true")
    a = ap.parse_args()
    rows = read_suite(a.suite)
    b = Bench(rows, a.impl, max(1, a.samples), a.sample_ms * 1e-3)
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

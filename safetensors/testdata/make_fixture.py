#!/usr/bin/python3
"""Writes testdata/torch.safetensors, the fixture of safetensors_test.go.

Run with Debian's python3 and python3-torch (no `safetensors` package is
packaged for Debian, so the file is laid out here by hand, exactly as the
reference writer lays it out: 8-byte little-endian header length; compact
JSON header, "__metadata__" first, then the tensors by decreasing element
size and then name, each {"dtype", "shape", "data_offsets"}; padded with
spaces to a multiple of 8; then the data). The element conversions are
PyTorch's own: .half(), .bfloat16(), .double(), .to(torch.uint8) ...

    /usr/bin/python3 safetensors/testdata/make_fixture.py
"""
import json
import os
import struct

import torch

torch.manual_seed(0)

# float32 sources with awkward rounding cases for F16 and BF16: ties,
# subnormals, overflow, signed zero, infinities, NaN.
special = [0.0, -0.0, 1.0, -2.5, 65504.0, 65519.0, 65520.0, 70000.0, 1e-8,
           2.0**-24, 2.0**-25, 3 * 2.0**-26, 2.0**-14, 6.1e-5,
           1.0 + 2.0**-11, 1.0 + 3 * 2.0**-11, 1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8,
           3.3895313892515355e38, float("inf"), float("-inf"), float("nan"),
           1 / 3, -1e-40]
src = torch.cat([torch.tensor(special, dtype=torch.float32),
                 torch.randn(40) * 10, torch.randn(40) * 1e-5])

tensors = {
    "src": src,
    "src.f16": src.half(),
    "src.bf16": src.bfloat16(),
    "src.f64": src.double(),
    "conv.weight": torch.randn(4, 3, 3, 3),          # NCHW, as PyTorch keeps it
    "bn.num_batches_tracked": torch.tensor(12345),   # I64 scalar
    "ints.i32": torch.tensor([[-7, 0], [2**31 - 1, -2**31]], dtype=torch.int32),
    "ints.i16": torch.tensor([-32768, 32767, 5], dtype=torch.int16),
    "ints.i8": torch.tensor([-128, 127], dtype=torch.int8),
    "ints.u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
    "mask": torch.tensor([True, False, True]),
    "empty": torch.zeros(0, 3),
}
dtype_names = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.float64: "F64", torch.int64: "I64", torch.int32: "I32",
    torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret
        t = t.view(torch.int16)
    return t.numpy().tobytes()  # little-endian on every supported host


order = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
header = {"__metadata__": {"format": "pt", "producer": "torch " + torch.__version__}}
data = b""
for name in order:
    t = tensors[name]
    b = raw_bytes(t)
    header[name] = {"dtype": dtype_names[t.dtype], "shape": list(t.shape),
                    "data_offsets": [len(data), len(data) + len(b)]}
    data += b
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch.safetensors")
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + data)
print(out, 8 + len(h) + len(data), "bytes")

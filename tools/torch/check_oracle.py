"""Checks the PyTorch oracle against naive loops, independently of the C# code.

    /usr/bin/python3 tools/torch/check_oracle.py [--generated DIR]

* pooling (max, average over unpadded inputs, L2), in floor and ceil mode, with padding, at odd sizes, against
  window-by-window loops that follow the definitions in runtime/Backends/Cpu/ReferenceKernels.cs;
* the L2 pool's gradient where a window is all zero (0, not NaN);
* LRN against its formula, maxout against its grouping;
* the deterministic tensors against the published SplitMix64 stream;
* with --generated (the folder of the generated *.g.cs files, e.g.
  runtime/obj/Debug/net10.0/generated/FaceNetGen.Generator/FaceNetGen.Generator.FaceNetGenerator), every spec's
  parameter table, activation tensors and multiply-adds against the generated classes.
Exits non-zero on the first failure.
"""

from __future__ import annotations

import argparse
import glob
import itertools
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_tensors as gt  # noqa: E402
from facenet_torch import _Linear, _Lrn, _Pool, build_model, check_against_generated, output_size  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def naive_pool(x: np.ndarray, kind: str, k, s, p, out_hw) -> np.ndarray:
    n, c, h, w = x.shape
    oh, ow = out_hw
    y = np.zeros((n, c, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
        win = x[:, :, max(h0, 0):min(h0 + k[0], h), max(w0, 0):min(w0 + k[1], w)]
        if kind == "max":
            y[:, :, i, j] = win.max(axis=(2, 3))
        elif kind == "avg":
            y[:, :, i, j] = win.mean(axis=(2, 3))
        else:
            y[:, :, i, j] = np.sqrt((win * win).sum(axis=(2, 3)))
    return y


def check_pools() -> None:
    rng = np.random.default_rng(5)
    count = 0
    for (h, w), kind, k, s, ceil in itertools.product([(11, 9), (7, 8), (6, 5)], ["max", "avg", "l2"], [2, 3], [1, 2], [False, True]):
        for p in range(0, k // 2 + 1):
            oh, ow = output_size(h, k, s, p, ceil), output_size(w, k, s, p, ceil)
            x = rng.standard_normal((2, 3, h, w))
            pool = _Pool((3, h, w), kind, (k, k), (s, s), (p, p), ceil)
            assert pool.out_shape == (3, oh, ow), (pool.out_shape, oh, ow)
            y = pool(torch.from_numpy(x)).numpy()
            ref = naive_pool(x, kind, (k, k), (s, s), (p, p), (oh, ow))
            err = np.abs(y - ref).max()
            assert y.shape == ref.shape and err < 1e-12, (kind, h, w, k, s, p, ceil, err)
            count += 1
    print(f"pooling: {count} configurations agree with the naive loops")


def check_l2_pool_zero_window() -> None:
    x = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    x[0, 0, 4, 4] = 2.0
    x.requires_grad_(True)
    y = _Pool((1, 5, 5), "l2", (3, 3), (1, 1), (1, 1), False)(x)
    y.sum().backward()
    g = x.grad.numpy()
    assert np.isfinite(g).all(), g
    # Only x[4, 4] is nonzero; each window holding it passes dy * x / y = 1 back, and four windows hold it.
    assert g[0, 0, 4, 4] == 4.0 and np.count_nonzero(g) == 1, g
    print("L2 pool: an all-zero window has gradient 0")


def check_lrn() -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 7, 3, 4))
    size, alpha, beta, k = 5, 0.5, 0.75, 2.0
    y = _Lrn((7, 3, 4), size, alpha, beta, k)(torch.from_numpy(x)).numpy()
    ref = np.empty_like(x)
    for c in range(7):
        lo, hi = max(0, c - (size - 1) // 2), min(6, c + size // 2)
        ref[:, c] = x[:, c] * (k + alpha / size * (x[:, lo:hi + 1] ** 2).sum(axis=1)) ** -beta
    assert np.abs(y - ref).max() < 1e-12
    print("LRN: matches y = x / (k + alpha/size * sum x^2)^beta")


def check_maxout() -> None:
    m = _Linear((6, 1, 1), 3, False, 2, torch.float64)
    with torch.no_grad():
        m.weight.copy_(torch.eye(6, dtype=torch.float64))
        m.bias.zero_()
    x = torch.tensor([[1.0, 5.0, -2.0, -3.0, 7.0, 0.5]], dtype=torch.float64)
    assert m(x).tolist() == [[5.0, -2.0, 7.0]]
    print("maxout: the maximum of consecutive groups of p")


def check_tensors() -> None:
    expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821]
    assert [int(v) for v in gt.splitmix64(1234567, np.arange(5, dtype=np.uint64))] == expected
    u = gt.uniform(9, 100000)
    assert u.min() >= -1.0 and u.max() < 1.0 and np.all(u.astype(np.float32) == u)
    print("deterministic tensors: SplitMix64 reference stream reproduced")


def check_generated(folder: str) -> None:
    specs = sorted(glob.glob(os.path.join(REPO, "specs", "*.yaml")))
    specs += sorted(glob.glob(os.path.join(REPO, "tests", "FaceNetGen.Tests", "Specs", "*.yaml")))
    checked = 0
    for spec in specs:
        name = os.path.splitext(os.path.basename(spec))[0]
        generated = os.path.join(folder, name + ".g.cs")
        if not os.path.exists(generated):
            continue
        problems = check_against_generated(build_model(spec), generated)
        assert not problems, f"{name}: " + "; ".join(problems)
        checked += 1
    assert checked > 0, f"no generated model class in {folder}"
    print(f"generated code: {checked} spec(s) have our parameter table, activations and multiply-adds")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Check the PyTorch oracle.")
    ap.add_argument("--generated", help="folder of generated *.g.cs files")
    args = ap.parse_args(argv)
    check_pools()
    check_l2_pool_zero_window()
    check_lrn()
    check_maxout()
    check_tensors()
    if args.generated:
        check_generated(args.generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

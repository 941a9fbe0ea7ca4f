"""Deterministic tensors that Python and C# produce bit for bit, so golden tests store no weights.

The generator is counter-based: value number ``i`` of stream ``seed`` is the i-th output (0-based) of SplitMix64
started at ``seed``,

    z = seed + (i + 1) * 0x9E3779B97F4A7C15            (mod 2^64)
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    z =  z ^ (z >> 31)

and its uniform float is ``((z >> 40) - 2^23) / 2^23``: a multiple of 2^-23 in [-1, 1), exact in float32.
Scaled tensors are ``float32(u * scale)`` with ``u * scale`` computed in double (one correctly rounded product,
then one correctly rounded conversion), which numpy and .NET compute identically.

The C# twin is tests/FaceNetGen.Tests/Golden/GoldenTensors.cs; both are pinned to the same published values.

Streams:
  * parameter tensor k (arena order) of a model: seed ``splitmix64(weights_seed, k)``; weights scaled by
    sqrt(6 / fan_in) (He-uniform, fan_in = in channels x kernel area, or in features), biases by 0.1;
  * input batch (n, C, H, W), NCHW order: seed ``input_seed``, scaled by 127.5 / 128 (the input format's range);
  * upstream gradient r (n, embedding) of the loss L = sum(embedding * r): seed ``gradient_seed``, unscaled.
"""

from __future__ import annotations

import math
from typing import Iterable, List, Sequence, Tuple

import numpy as np

__all__ = [
    "splitmix64",
    "uniform",
    "scaled",
    "parameter_arena",
    "parameter_scale",
    "input_batch",
    "upstream_gradient",
    "INPUT_SCALE",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)

#: Inputs span the input format's range, (v - 127.5) / 128 for v in [0, 255].
INPUT_SCALE = 127.5 / 128.0
#: Biases are small: uniform in [-0.1, 0.1).
BIAS_SCALE = 0.1


def splitmix64(seed: int, index) -> np.ndarray:
    """SplitMix64 output number ``index`` (scalar or array, 0-based) of the stream started at ``seed``, as uint64."""
    with np.errstate(over="ignore"):
        i = np.asarray(index, dtype=np.uint64)
        z = np.uint64(seed) + (i + np.uint64(1)) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def uniform(seed: int, count: int, start: int = 0) -> np.ndarray:
    """Values ``start .. start+count-1`` of stream ``seed``, uniform in [-1, 1), as float64 (exact in float32)."""
    z = splitmix64(seed, np.arange(start, start + count, dtype=np.uint64))
    m = (z >> np.uint64(40)).astype(np.int64) - (1 << 23)
    return m.astype(np.float64) / float(1 << 23)


def scaled(seed: int, count: int, scale: float) -> np.ndarray:
    """float32(u * scale) for the first ``count`` values of stream ``seed``."""
    return (uniform(seed, count) * float(scale)).astype(np.float32)


def parameter_scale(shape: Sequence[int], is_bias: bool) -> float:
    """He-uniform bound sqrt(6 / fan_in) for a weight (fan_in = product of all but the first dimension), 0.1 for a bias."""
    if is_bias:
        return BIAS_SCALE
    fan_in = int(np.prod(shape[1:]))
    return math.sqrt(6.0 / fan_in)


def parameter_arena(layout: Iterable[Tuple[str, Sequence[int]]], weights_seed: int) -> np.ndarray:
    """The parameter arena (float32) for a table of (name, shape) in arena order; a one-dimensional tensor is a bias."""
    parts: List[np.ndarray] = []
    for k, (name, shape) in enumerate(layout):
        count = int(np.prod(shape))
        seed = int(splitmix64(weights_seed, k))
        parts.append(scaled(seed, count, parameter_scale(shape, len(shape) == 1)))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def input_batch(shape_nchw: Sequence[int], input_seed: int) -> np.ndarray:
    """An input batch (float32, NCHW)."""
    return scaled(input_seed, int(np.prod(shape_nchw)), INPUT_SCALE).reshape(shape_nchw)


def upstream_gradient(n: int, embedding: int, gradient_seed: int) -> np.ndarray:
    """The upstream gradient r (float32, (n, embedding)) of L = sum(embedding * r)."""
    return scaled(gradient_seed, n * embedding, 1.0).reshape(n, embedding)


def _self_test() -> None:
    # Vigna's SplitMix64 reference, seeded with 1234567: its first outputs.
    expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821]
    got = [int(v) for v in splitmix64(1234567, np.arange(5, dtype=np.uint64))]
    assert got == expected, got
    print("splitmix64(1234567, 0..4) =", got)
    print("uniform(42, 4) =", [repr(v) for v in uniform(42, 4)])


if __name__ == "__main__":
    _self_test()

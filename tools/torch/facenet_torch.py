"""FaceNetGen architectures in PyTorch: the oracle for golden tests and the peer for benchmarks.

This module reads the same YAML specs as the C# source generator (specs/*.yaml) and builds a
``torch.nn.Module`` with the same semantics as the generated model classes and the reference kernels
(runtime/Backends/Cpu/ReferenceKernels.cs). It is never part of the product.

Public API (keep it small; other tools import it):

``build_model(spec_path, dtype=torch.float32) -> FaceNetTorch``
    The network of a spec. ``model(x)`` maps an NCHW batch to L2-normalised embeddings.
``FaceNetTorch``
    ``.name``, ``.input_shape`` (C, H, W), ``.embedding``, ``.multiply_adds`` (per image, forward),
    ``.parameter_layout()`` (the arena table), ``.forward_trace(x)`` (every named activation).
``flatten_parameters(model) -> numpy.ndarray``
    The parameters as one float32 vector in the C# parameter-arena order.
``load_parameters(model, arena)``
    The inverse: copies an arena vector into the model's parameters.
``check_against_generated(model, generated_cs_path) -> list[str]``
    Compares the parameter table with a generated ``*.g.cs`` file; returns the differences (empty when equal).

Semantics, as in the C# lowering (runtime/Specs/SpecAnalyzer.cs):

* conv: convolution with bias, then ReLU unless ``relu: false``; weights OIHW.
* maxpool: padding acts as -inf; avgpool divides by the count of unpadded inputs; l2pool is
  sqrt(sum of squares) over the window with zero padding. All three honour ``ceil`` (a last window must
  start inside the input or its left padding) and ``global`` (the kernel is the whole map).
* lrn: y = x / (k + alpha/size * sum over `size` channels of x^2)^beta. The constants are rounded to float32,
  as the kernels receive them.
* inception: branches in the order 1x1, 3x3 (after its 1x1 reduce), 5x5 (after its reduce), pool (then its
  1x1 projection); 1x1, 3x3 and 5x5 convolutions and the pool run at the module stride, reduces at stride 1;
  3x3 pads 1, 5x5 pads 2, a pool of kernel k pads k//2 (floor mode). A single branch is not concatenated.
* fc: a linear layer over the flattened NCHW input ([out, in] weights), ReLU only with ``relu: true``.
* maxout: a linear layer to units*p outputs, then the maximum of each consecutive group of p.
* concat: the layers before are sequential, so a concat layer passes its input through.
* l2norm: x / max(||x||, 1e-12).

Parameter names are the C# ones ("conv1.weight", "3a.3x3_reduce.bias", "fc1.weight"), and
``named_parameters()`` yields them in the plan's (arena) order.

On a GPU, turn TF32 off (torch.backends.cudnn.allow_tf32 = False, torch.backends.cuda.matmul.allow_tf32 = False)
before using the model as an oracle: PyTorch 1.13 lets cuDNN convolutions use TF32 by default, which costs about
three decimal digits.

Run as a script to print a spec's parameter table, or to compare it with a generated file:
    /usr/bin/python3 tools/torch/facenet_torch.py specs/NNS2.yaml [--generated path/to/NNS2.g.cs]
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch import nn

__all__ = [
    "FaceNetTorch",
    "build_model",
    "flatten_parameters",
    "load_parameters",
    "check_against_generated",
]

_DIMS = re.compile(r"^(\d+)(?:\s*[x\u00d7]\s*(\d+))?(?:\s*[x\u00d7]\s*(\d+))?$")


# ---- spec reading ---------------------------------------------------------------------------------------

def _dims(text: Optional[str], default=None) -> Optional[Tuple[int, int]]:
    """'3', '3x3' or '3x3x64' -> (3, 3); the third number (declared input channels) is only a check."""
    if text is None:
        return default
    m = _DIMS.match(text.strip())
    if not m:
        raise ValueError(f"expected N, NxM or NxMxC, not '{text}'")
    a = int(m.group(1))
    b = int(m.group(2)) if m.group(2) else a
    return a, b


def _bool(text: Optional[str], default: bool) -> bool:
    if text is None:
        return default
    if text not in ("true", "false"):
        raise ValueError(f"true or false is expected, not '{text}'")
    return text == "true"


def _int(text: Optional[str], default: int) -> int:
    return default if text is None else int(text)


def _float(text: Optional[str], default: float) -> float:
    return default if text is None else float(text)


def output_size(size: int, kernel: int, stride: int, pad: int, ceil: bool) -> int:
    """floor((size + 2 pad - kernel) / stride) + 1, or the ceil-mode size whose last window starts inside the input
    or its left padding (SpecAnalyzer.OutputSize)."""
    span = size + 2 * pad - kernel
    if span < 0:
        return 0
    if not ceil:
        return span // stride + 1
    out = (span + stride - 1) // stride + 1
    if (out - 1) * stride >= size + pad:
        out -= 1
    return out


# ---- layers ---------------------------------------------------------------------------------------------

Shape = Tuple[int, int, int]  # (C, H, W)


class _Conv(nn.Module):
    """Convolution with bias and an optional fused ReLU. Parameters: weight (O, I, KH, KW), bias (O)."""

    def __init__(self, in_shape: Shape, filters: int, kernel, stride, pad, relu: bool, dtype):
        super().__init__()
        c, h, w = in_shape
        self.stride, self.pad, self.relu = tuple(stride), tuple(pad), relu
        self.weight = nn.Parameter(torch.zeros(filters, c, kernel[0], kernel[1], dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(filters, dtype=dtype))
        oh = output_size(h, kernel[0], stride[0], pad[0], False)
        ow = output_size(w, kernel[1], stride[1], pad[1], False)
        if oh <= 0 or ow <= 0:
            raise ValueError(f"convolution output {oh}x{ow} from {h}x{w}")
        self.out_shape: Shape = (filters, oh, ow)
        self.multiply_adds = self.weight.numel() * oh * ow

    def forward(self, x):
        y = F.conv2d(x, self.weight, self.bias, self.stride, self.pad)
        return F.relu(y) if self.relu else y


class _Pool(nn.Module):
    """Max, average (over unpadded inputs) or L2 pooling, with ceil mode and padding as in ReferenceKernels."""

    def __init__(self, in_shape: Shape, kind: str, kernel, stride, pad, ceil: bool):
        super().__init__()
        c, h, w = in_shape
        self.kind, self.kernel, self.stride, self.pad, self.ceil = kind, tuple(kernel), tuple(stride), tuple(pad), ceil
        oh = output_size(h, kernel[0], stride[0], pad[0], ceil)
        ow = output_size(w, kernel[1], stride[1], pad[1], ceil)
        if oh <= 0 or ow <= 0 or 2 * pad[0] > kernel[0] or 2 * pad[1] > kernel[1]:
            raise ValueError(f"pooling output {oh}x{ow} from {h}x{w}")
        self.out_shape: Shape = (c, oh, ow)
        # Zero padding for the L2 pool's window sums: the top/left padding as declared, the bottom/right enough for
        # every window of the output (ceil mode may need more than the declared padding, floor mode needs no more).
        self._l2_pad = (
            pad[1], max(pad[1], (ow - 1) * stride[1] + kernel[1] - w - pad[1]),
            pad[0], max(pad[0], (oh - 1) * stride[0] + kernel[0] - h - pad[0]),
        )

    def forward(self, x):
        if self.kind == "max":
            return F.max_pool2d(x, self.kernel, self.stride, self.pad, ceil_mode=self.ceil)
        if self.kind == "avg":
            return F.avg_pool2d(x, self.kernel, self.stride, self.pad, ceil_mode=self.ceil, count_include_pad=False)
        # L2: sqrt of the window's sum of squares. Torch's lp_pool2d has no padding (and its gradient at 0 is NaN),
        # so pad explicitly with zeros and sum by an average pool times the window size.
        _, oh, ow = self.out_shape
        sq = F.pad(x * x, self._l2_pad)
        s = F.avg_pool2d(sq, self.kernel, self.stride)[:, :, :oh, :ow] * (self.kernel[0] * self.kernel[1])
        # sqrt'(0) is infinite: an all-zero window gets value 0 and gradient 0, as the reference kernel does.
        positive = s > 0
        return torch.where(positive, torch.sqrt(torch.where(positive, s, torch.ones_like(s))), torch.zeros_like(s))


class _Lrn(nn.Module):
    """Cross-channel local response normalisation (odd size), constants rounded to float32."""

    def __init__(self, in_shape: Shape, size: int, alpha: float, beta: float, k: float):
        super().__init__()
        self.size = size
        self.alpha, self.beta, self.k = (float(np.float32(v)) for v in (alpha, beta, k))
        self.out_shape: Shape = in_shape

    def forward(self, x):
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)


class _Inception(nn.Module):
    """An inception module; children are registered in plan order: 1x1, 3x3_reduce, 3x3, 5x5_reduce, 5x5, pool_proj."""

    def __init__(self, name: str, in_shape: Shape, spec: Dict[str, str], dtype):
        super().__init__()
        s = _int(spec.get("stride"), 1)
        c1 = _int(spec.get("1x1"), 0)
        r3, c3 = _int(spec.get("3x3reduce"), 0), _int(spec.get("3x3"), 0)
        r5, c5 = _int(spec.get("5x5reduce"), 0), _int(spec.get("5x5"), 0)
        pool = spec.get("pool", "none")
        pk = _int(spec.get("poolkernel"), 3)
        proj = _int(spec.get("proj"), 0)
        self.layer_name = name
        # Each branch: the child modules it runs, in order, all starting from the module input.
        self._branches: List[List[str]] = []
        if c1 > 0:
            self.add_module("1x1", _Conv(in_shape, c1, (1, 1), (s, s), (0, 0), True, dtype))
            self._branches.append(["1x1"])
        for k, reduce, filters in ((3, r3, c3), (5, r5, c5)):
            if filters == 0:
                continue
            branch = []
            src = in_shape
            if reduce > 0:
                m = _Conv(in_shape, reduce, (1, 1), (1, 1), (0, 0), True, dtype)
                self.add_module(f"{k}x{k}_reduce", m)
                branch.append(f"{k}x{k}_reduce")
                src = m.out_shape
            self.add_module(f"{k}x{k}", _Conv(src, filters, (k, k), (s, s), (k // 2, k // 2), True, dtype))
            branch.append(f"{k}x{k}")
            self._branches.append(branch)
        if pool != "none":
            kind = {"max": "max", "avg": "avg", "l2": "l2"}[pool]
            p = _Pool(in_shape, kind, (pk, pk), (s, s), (pk // 2, pk // 2), False)
            self.add_module("pool", p)
            branch = ["pool"]
            if proj > 0:
                self.add_module("pool_proj", _Conv(p.out_shape, proj, (1, 1), (1, 1), (0, 0), True, dtype))
                branch.append("pool_proj")
            self._branches.append(branch)
        if not self._branches:
            raise ValueError(f"inception '{name}' has no branch")
        shapes = [getattr(self, b[-1]).out_shape for b in self._branches]
        if any(sh[1:] != shapes[0][1:] for sh in shapes):
            raise ValueError(f"inception '{name}' branches disagree: {shapes}")
        self.out_shape: Shape = (sum(sh[0] for sh in shapes), shapes[0][1], shapes[0][2])
        self.multiply_adds = sum(getattr(m, "multiply_adds", 0) for m in self.children())

    def forward(self, x, trace: Optional[Dict[str, torch.Tensor]] = None):
        outs = []
        for branch in self._branches:
            y = x
            for part in branch:
                y = getattr(self, part)(y)
                if trace is not None:
                    trace[f"{self.layer_name}.{part}"] = y
            outs.append(y)
        if len(outs) == 1:
            return outs[0]
        y = torch.cat(outs, dim=1)
        if trace is not None:
            trace[self.layer_name] = y
        return y


class _Linear(nn.Module):
    """Fully connected over the flattened input, then ReLU (fc with relu: true) or, for a maxout layer
    (maxout_pool = p > 0), the maximum over consecutive groups of p of its units * p outputs."""

    def __init__(self, in_shape: Shape, units: int, relu: bool, maxout_pool: int, dtype):
        super().__init__()
        features = in_shape[0] * in_shape[1] * in_shape[2]
        pool = max(maxout_pool, 1)
        self.relu, self.pool, self.units, self.maxout = relu, pool, units, maxout_pool > 0
        self.weight = nn.Parameter(torch.zeros(units * pool, features, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(units * pool, dtype=dtype))
        self.out_shape: Shape = (units, 1, 1)
        self.multiply_adds = self.weight.numel()

    def forward(self, x, trace: Optional[Dict[str, torch.Tensor]] = None, name: str = ""):
        y = F.linear(x.flatten(1), self.weight, self.bias)
        if self.relu:
            y = F.relu(y)
        if self.maxout:
            if trace is not None:
                trace[name + ".linear"] = y
            y = y.view(y.shape[0], self.units, self.pool).max(dim=2).values
        return y


class _L2Norm(nn.Module):
    def __init__(self, in_shape: Shape):
        super().__init__()
        self.out_shape: Shape = (in_shape[0] * in_shape[1] * in_shape[2], 1, 1)

    def forward(self, x):
        return F.normalize(x.flatten(1), dim=1, eps=1e-12)


class _Identity(nn.Module):
    def __init__(self, in_shape: Shape):
        super().__init__()
        self.out_shape: Shape = in_shape

    def forward(self, x):
        return x


# ---- the model ------------------------------------------------------------------------------------------

class FaceNetTorch(nn.Module):
    """A FaceNetGen spec as a torch module: NCHW input (n, C, H, W) -> embeddings (n, embedding)."""

    def __init__(self, spec: dict, dtype=torch.float32):
        super().__init__()
        self.name: str = spec["name"]
        h, w, c = _parse_input(spec["input"])
        self.input_shape: Shape = (c, h, w)
        self.embedding: int = int(spec["embedding"])
        shape = self.input_shape
        self._order: List[Tuple[str, str]] = []  # (layer name, type)
        for index, layer in enumerate(spec["layers"], start=1):
            kind = layer["type"]
            name = layer.get("name", f"{kind}{index}")
            if "." in name:
                raise ValueError(f"layer '{name}': a '.' in a layer name cannot be a torch module name")
            module = _build_layer(name, kind, layer, shape, dtype)
            self.add_module(name, module)
            self._order.append((name, kind))
            shape = module.out_shape
        if shape != (self.embedding, 1, 1):
            raise ValueError(f"{self.name}: the network ends in {shape}, not an embedding of {self.embedding}")
        self.multiply_adds: int = sum(getattr(m, "multiply_adds", 0) for m in self.children())

    def forward(self, x):
        for name, _ in self._order:
            m = getattr(self, name)
            x = m(x)
        return x

    def forward_trace(self, x) -> Tuple[torch.Tensor, "OrderedDict[str, torch.Tensor]"]:
        """The embeddings and every activation tensor the C# plan stores, by its plan name ("3a.pool", "fc1.linear").
        A concat layer adds no tensor; a single-branch inception module's output is its last branch tensor."""
        trace: "OrderedDict[str, torch.Tensor]" = OrderedDict()
        for name, kind in self._order:
            m = getattr(self, name)
            if kind == "inception":
                x = m(x, trace)
            elif kind in ("fc", "maxout"):
                x = m(x, trace, name)
                trace[name] = x
            elif kind == "concat":
                x = m(x)
            else:
                x = m(x)
                trace[name] = x
        return x, trace

    def parameter_layout(self) -> List[Tuple[str, Tuple[int, ...], int, int]]:
        """(name, shape, offset, length) of every parameter tensor, in arena order."""
        layout, offset = [], 0
        for name, p in self.named_parameters():
            layout.append((name, tuple(p.shape), offset, p.numel()))
            offset += p.numel()
        return layout


def _parse_input(text: str) -> Tuple[int, int, int]:
    m = _DIMS.match(str(text).strip())
    if not m:
        raise ValueError(f"input: expected HxW or HxWxC, not '{text}'")
    h = int(m.group(1))
    w = int(m.group(2)) if m.group(2) else h
    c = int(m.group(3)) if m.group(3) else 3
    return h, w, c


def _build_layer(name: str, kind: str, spec: Dict[str, str], shape: Shape, dtype) -> nn.Module:
    if kind == "conv":
        kernel = _dims(spec.get("kernel"))
        stride = _dims(spec.get("stride"), (1, 1))
        pad_text = spec.get("pad")
        pad = ((kernel[0] - 1) // 2, (kernel[1] - 1) // 2) if pad_text in (None, "same") else _dims(pad_text)
        return _Conv(shape, int(spec["filters"]), kernel, stride, pad, _bool(spec.get("relu"), True), dtype)
    if kind in ("maxpool", "avgpool", "l2pool"):
        is_global = _bool(spec.get("global"), False)
        kernel = (shape[1], shape[2]) if is_global else _dims(spec.get("kernel"))
        stride = _dims(spec.get("stride"), (1, 1) if is_global else _dims(spec.get("kernel")))
        pad = _dims(spec.get("pad"), (0, 0))
        return _Pool(shape, kind[:-4] if kind != "l2pool" else "l2", kernel, stride, pad, _bool(spec.get("ceil"), False))
    if kind == "lrn":
        return _Lrn(shape, _int(spec.get("size"), 5), _float(spec.get("alpha"), 1e-4),
                    _float(spec.get("beta"), 0.75), _float(spec.get("k"), 1.0))
    if kind == "inception":
        return _Inception(name, shape, spec, dtype)
    if kind == "fc":
        return _Linear(shape, int(spec["units"]), _bool(spec.get("relu"), False), 0, dtype)
    if kind == "maxout":
        return _Linear(shape, int(spec["units"]), False, _int(spec.get("p"), 2), dtype)
    if kind == "concat":
        return _Identity(shape)
    if kind == "l2norm":
        return _L2Norm(shape)
    raise ValueError(f"layer '{name}': unknown type '{kind}'")


def build_model(spec_path: str, dtype=torch.float32) -> FaceNetTorch:
    """Reads a FaceNetGen YAML spec and builds its network (parameters zero; see :func:`load_parameters`).

    Scalars are read as text (YAML's base schema), as the C# parser reads them, so ``1e-4`` is a number and
    ``3x3`` a size. The spec is assumed valid: the C# build is what reports spec errors.
    """
    with open(spec_path, "r", encoding="utf-8") as f:
        spec = yaml.load(f, Loader=yaml.BaseLoader)
    return FaceNetTorch(spec, dtype)


def flatten_parameters(model: nn.Module) -> np.ndarray:
    """All parameters as one float32 vector in arena order (named_parameters order)."""
    parts = [p.detach().cpu().reshape(-1).to(torch.float32).numpy() for p in model.parameters()]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def load_parameters(model: nn.Module, arena) -> None:
    """Copies an arena vector (numpy or torch, any float dtype) into the model's parameters, tensor by tensor."""
    flat = torch.as_tensor(np.asarray(arena))
    total = sum(p.numel() for p in model.parameters())
    if flat.numel() != total:
        raise ValueError(f"the model has {total} parameters, the arena {flat.numel()}")
    offset = 0
    with torch.no_grad():
        for p in model.parameters():
            n = p.numel()
            p.copy_(flat[offset:offset + n].view(p.shape).to(p.dtype))
            offset += n


_GENERATED_PARAM = re.compile(r'new\("([^"]+)", new\[\] \{ ([0-9, ]+) \}, Param\.\w+, (\d+),')
_GENERATED_ACT = re.compile(r'new\("([^"]+)", (\d+), (\d+), (\d+), Act\.\w+\)')


def check_against_generated(model: FaceNetTorch, generated_cs_path: str) -> List[str]:
    """Compares the parameter table (names, shapes, hence arena offsets), the activation tensors of
    :meth:`FaceNetTorch.forward_trace` and the multiply-adds with a generated model class
    (runtime/obj/.../NNS2.g.cs). Returns one line per difference; empty when they agree."""
    with open(generated_cs_path, "r", encoding="utf-8-sig") as f:
        text = f.read()
    generated = [(m.group(1), tuple(int(v) for v in m.group(2).split(",")), int(m.group(3)))
                 for m in _GENERATED_PARAM.finditer(text)]
    ours = model.parameter_layout()
    problems = []
    if len(generated) != len(ours):
        problems.append(f"{len(ours)} parameter tensors here, {len(generated)} in {generated_cs_path}")
    for i, ((name, shape, _, length), (gname, gshape, glength)) in enumerate(zip(ours, generated)):
        if (name, shape, length) != (gname, gshape, glength):
            problems.append(f"#{i}: {name} {shape} ({length}) here, {gname} {gshape} ({glength}) generated")
    with torch.no_grad():
        c, h, w = model.input_shape
        _, trace = model.forward_trace(torch.zeros(1, c, h, w, dtype=next(model.parameters()).dtype))
    traced = [("input", model.input_shape)] + [(k, _chw(v)) for k, v in trace.items()]
    acts = [(m.group(1), (int(m.group(2)), int(m.group(3)), int(m.group(4)))) for m in _GENERATED_ACT.finditer(text)]
    if traced != acts:
        problems.append(f"activation tensors differ: here {traced}, generated {acts}")
    m = re.search(r"public const long MultiplyAdds = (\d+);", text)
    if m and int(m.group(1)) != model.multiply_adds:
        problems.append(f"multiply-adds: {model.multiply_adds} here, {m.group(1)} generated")
    return problems


def _chw(t: torch.Tensor) -> Shape:
    return (t.shape[1], t.shape[2], t.shape[3]) if t.dim() == 4 else (t.shape[1], 1, 1)


def _main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Print a spec's parameter table as the torch model builds it.")
    ap.add_argument("spec")
    ap.add_argument("--generated", help="a generated *.g.cs file to compare the parameter table with")
    args = ap.parse_args(argv)
    model = build_model(args.spec)
    print(f"{model.name}: input {model.input_shape[1]}x{model.input_shape[2]}x{model.input_shape[0]}, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters, {model.multiply_adds:,} multiply-adds")
    for name, shape, offset, length in model.parameter_layout():
        print(f"  {name:32s} {'x'.join(map(str, shape)):>16s} @ {offset}")
    if args.generated:
        problems = check_against_generated(model, args.generated)
        for p in problems:
            print("MISMATCH " + p)
        print("parameter table matches the generated code" if not problems else f"{len(problems)} mismatch(es)")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())

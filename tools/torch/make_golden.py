"""Writes the PyTorch golden files of the C# golden tests (tests/FaceNetGen.Tests/Golden/).

    /usr/bin/python3 tools/torch/make_golden.py [--out tests/FaceNetGen.Tests/Golden]

Outputs (little-endian float32 .bin files, offsets and lengths in floats, described by golden.json):

* golden.json, the manifest:
  - ``layouts``: for the six paper specs and the test-only GoldenInception, the parameter tensors (names, shapes,
    arena order), the activation tensors and the multiply-adds, as the torch model builds them;
  - ``inception``: GoldenInception (tests/FaceNetGen.Tests/Specs/GoldenInception.yaml) on a batch of 3: where the
    blob holds the embeddings, every activation tensor, every activation-tensor gradient and the whole
    parameter-gradient arena;
  - ``nns2``: NNS2 on a batch of 2: the embeddings, and per activation tensor and per parameter tensor of the
    gradients the sum, the sum of absolute values, the sum of squares and (parameters) 32 sampled entries;
  - for both cases the seeds of the deterministic tensors (golden_tensors.py), probes of those tensors (so
    that the C# generator is checked where it is used) and the tolerances the C# tests apply.
* GoldenInception.bin: the float32 blob of ``inception``.

The oracle runs in float64 on the float32 weights and inputs. The loss is L = sum(embedding * r) for the
deterministic upstream gradient r. "Activation gradient" means what the C# gradient arena holds after Backward:
dL/dy for most tensors, and dL/dy * (y > 0) for the output of a layer with a fused ReLU (its backward applies
the ReLU mask in place). The model input has no gradient.

Every file is written to a temporary file and then renamed, so a failed run leaves the old files in place.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_tensors as gt  # noqa: E402
from facenet_torch import FaceNetTorch, build_model, load_parameters  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEST_SPECS = os.path.join("tests", "FaceNetGen.Tests", "Specs")

# The tolerances the C# tests apply, for every backend (GoldenTests.cs measures them). The reference backend
# (double accumulation) stays below 1e-6 on every measure; the margin is for float32 backends, whose sums run in
# another order, and for ReLU and max-pool decisions that flip between float32 and float64 near a tie.
INCEPTION_TOLERANCE = {
    "forward": 1e-5,  # per tensor: max |ours - torch| / max |torch|
    "gradient": 1e-4,  # the same, for activation and parameter gradients
}
NNS2_TOLERANCE = {
    "embedding": 1e-4,  # max |ours - torch| over the embeddings (unit vectors)
    "sum": 1e-4,  # per tensor: |sum ours - sum torch| / sum |torch|
    "sumSquares": 1e-4,  # per tensor: relative error of the sum of squares
    "sample": 1e-3,  # per sampled gradient entry: |ours - torch| / rms(torch tensor)
}

SEEDS = {
    "inception": {"weights": 101, "input": 102, "gradient": 103},
    "nns2": {"weights": 201, "input": 202, "gradient": 203},
}


def spec_path(name: str) -> str:
    if name == "GoldenInception":
        return os.path.join(REPO, TEST_SPECS, name + ".yaml")
    return os.path.join(REPO, "specs", name + ".yaml")


def layout(model: FaceNetTorch) -> dict:
    with torch.no_grad():
        c, h, w = model.input_shape
        _, trace = model.forward_trace(torch.zeros(1, c, h, w))
    return {
        "spec": model.name,
        "multiplyAdds": model.multiply_adds,
        "parameters": [[name, list(shape)] for name, shape, _, _ in model.parameter_layout()],
        "activations": [["input", list(model.input_shape)]] + [[k, list(_chw(v))] for k, v in trace.items()],
    }


def _chw(t: torch.Tensor):
    return (t.shape[1], t.shape[2], t.shape[3]) if t.dim() == 4 else (t.shape[1], 1, 1)


def run_case(spec: str, batch: int, seeds: dict):
    """Forward and backward in float64 on the deterministic tensors. Returns what the tests compare."""
    model = build_model(spec_path(spec), dtype=torch.float64)
    table = [(name, shape) for name, shape, _, _ in model.parameter_layout()]
    arena = gt.parameter_arena(table, seeds["weights"])
    load_parameters(model, arena)
    c, h, w = model.input_shape
    x_np = gt.input_batch((batch, c, h, w), seeds["input"])
    r_np = gt.upstream_gradient(batch, model.embedding, seeds["gradient"])
    x = torch.from_numpy(x_np.astype(np.float64))
    out, trace = model.forward_trace(x)
    for t in trace.values():
        t.retain_grad()
    loss = (out * torch.from_numpy(r_np.astype(np.float64))).sum()
    model.zero_grad()
    loss.backward()

    activations = OrderedDict((k, v.detach().numpy()) for k, v in trace.items())
    act_grads = OrderedDict()
    for k, v in trace.items():
        g = v.grad.detach().numpy()
        if _has_fused_relu(model, k):
            g = g * (v.detach().numpy() > 0)
        act_grads[k] = g
    param_grads = OrderedDict((n, p.grad.detach().numpy()) for n, p in model.named_parameters())
    probes = {
        "parameters": _probe_parameters(model, arena),
        "input": [[i, float(x_np.reshape(-1)[i])] for i in _probe_indices(x_np.size)],
        "gradient": [[i, float(r_np.reshape(-1)[i])] for i in _probe_indices(r_np.size)],
    }
    return model, out.detach().numpy(), activations, act_grads, param_grads, probes


def _has_fused_relu(model: FaceNetTorch, tensor: str) -> bool:
    try:
        m = model.get_submodule(tensor)
    except AttributeError:
        return False
    return bool(getattr(m, "relu", False))


def _probe_indices(n: int):
    return sorted({0, 1, n // 2, n - 1})


def _probe_parameters(model: FaceNetTorch, arena: np.ndarray):
    probes = []
    for _, _, offset, length in model.parameter_layout():
        for i in sorted({offset, offset + length // 2, offset + length - 1}):
            probes.append([int(i), float(arena[i])])
    return probes


def stats(a: np.ndarray) -> dict:
    a = a.astype(np.float64).reshape(-1)
    return {"sum": float(a.sum()), "sumAbs": float(np.abs(a).sum()), "sumSquares": float((a * a).sum())}


def sample_indices(seed: int, length: int, count: int = 32):
    if length <= count:
        return list(range(length))
    picked = []
    seen = set()
    k = 0
    while len(picked) < count:
        i = int(gt.splitmix64(seed, k) % np.uint64(length))
        k += 1
        if i not in seen:
            seen.add(i)
            picked.append(i)
    return sorted(picked)


class Blob:
    """Float32 arrays laid end to end; each add returns its place in floats."""

    def __init__(self):
        self.parts = []
        self.length = 0

    def add(self, array: np.ndarray) -> dict:
        a = np.ascontiguousarray(array, dtype="<f4").reshape(-1)
        place = {"offset": self.length, "length": int(a.size)}
        self.parts.append(a)
        self.length += a.size
        return place

    def bytes(self) -> bytes:
        return b"".join(p.tobytes() for p in self.parts)


def to_json(value, indent: int = 0) -> str:
    """JSON with one line per mapping entry and per record of a list of records; other lists stay on one line."""
    pad = " " * (indent + 1)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {to_json(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
        items = [pad + json.dumps(v, separators=(", ", ": ")) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    return json.dumps(value, separators=(", ", ": "))


def write_atomic(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "FaceNetGen.Tests", "Golden"))
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    manifest = OrderedDict()
    manifest["format"] = 1
    manifest["producer"] = f"tools/torch/make_golden.py, torch {torch.__version__}, float64"
    manifest["tensors"] = ("golden_tensors.py / GoldenTensors.cs: SplitMix64 output i of stream seed, "
                           "uniform ((z >> 40) - 2^23) / 2^23; parameter tensor k uses stream splitmix64(weights, k)")

    manifest["layouts"] = [layout(build_model(spec_path(s))) for s in
                           ("NN1", "NN2", "NN3", "NN4", "NNS1", "NNS2", "GoldenInception")]

    # ---- GoldenInception: everything ----
    seeds = SEEDS["inception"]
    batch = 3
    _, out, acts, act_grads, param_grads, probes = run_case("GoldenInception", batch, seeds)
    blob = Blob()
    inception = OrderedDict()
    inception["spec"] = "GoldenInception"
    inception["batch"] = batch
    inception["seeds"] = seeds
    inception["tolerance"] = INCEPTION_TOLERANCE
    inception["probes"] = probes
    inception["blob"] = "GoldenInception.bin"
    inception["output"] = blob.add(out)
    inception["activations"] = [dict(name=k, **blob.add(v)) for k, v in acts.items()]
    inception["activationGradients"] = [dict(name=k, **blob.add(v)) for k, v in act_grads.items()]
    inception["parameterGradients"] = blob.add(np.concatenate([g.reshape(-1) for g in param_grads.values()]))
    manifest["inception"] = inception

    # ---- NNS2: embeddings and statistics ----
    seeds = SEEDS["nns2"]
    batch = 2
    _, out, acts, act_grads, param_grads, probes = run_case("NNS2", batch, seeds)
    nns2 = OrderedDict()
    nns2["spec"] = "NNS2"
    nns2["batch"] = batch
    nns2["seeds"] = seeds
    nns2["tolerance"] = NNS2_TOLERANCE
    nns2["probes"] = probes
    nns2["embeddings"] = [float(v) for v in out.reshape(-1)]
    nns2["activations"] = [dict(name=k, **stats(v)) for k, v in acts.items()]
    nns2["activationGradients"] = [dict(name=k, **stats(v)) for k, v in act_grads.items()]
    entries = []
    for k, (name, g) in enumerate(param_grads.items()):
        flat = g.reshape(-1)
        idx = sample_indices(int(gt.splitmix64(seeds["gradient"] + 1, k)), flat.size)
        entries.append(dict(name=name, **stats(g), samples=[[i, float(flat[i])] for i in idx]))
    nns2["parameterGradients"] = entries
    manifest["nns2"] = nns2

    os.makedirs(args.out, exist_ok=True)
    data = blob.bytes()
    write_atomic(os.path.join(args.out, inception["blob"]), data)
    text = to_json(manifest) + "\n"
    write_atomic(os.path.join(args.out, "golden.json"), text.encode("utf-8"))
    print(f"wrote {args.out}/golden.json ({len(text):,} bytes) and {inception['blob']} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

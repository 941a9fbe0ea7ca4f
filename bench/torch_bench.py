"""PyTorch CPU benchmark of the paper's networks, built from our specs: the peer the C# benchmarks compare with.

    /usr/bin/python3 bench/torch_bench.py [--models NN2,NN4,NNS2] [--threads N] [--batch 16] [--quick]
    /usr/bin/python3 bench/torch_bench.py --onnx DIR          # export instead of benchmarking
    /usr/bin/python3 bench/torch_bench.py --serve --models NN4 [--batch 16] [--threads N]

For each model it measures, in float32 on the CPU with torch.set_num_threads(N) (default: every core):
  * forward: images per second of model(x) under torch.no_grad();
  * training step: images per second of forward, a triplet-style loss on the embeddings (each image the anchor
    of a triplet whose positive and negative are the next two images of the batch, margin 0.2), backward, and
    an AdaGrad step (lr 0.05);
and reports the FLOPS as we count them: multiply-adds of one image's forward pass (convolution and fully
connected weights x output positions, the same sum as the generated MultiplyAdds constant, or --madds), with
GFLOP/s = 2 x multiply-adds x images/s (forward) and 3 x that (a training step is counted as three forwards).

Output: one JSON object per model on stdout, one line each (the C# benchmark reads the lines starting with '{'),
then a readable table on stderr. --quick (batch 4, one warm-up, one timed step, for smoke tests) runs in well
under a minute on two cores; real measurements should use the defaults on an otherwise idle machine.

--serve keeps one model loaded and takes commands on stdin, one a line, so that a caller can take turns with it
(`bench versus`): "train S" or "forward S" runs whole steps for at least S seconds and answers
{"steps": k, "seconds": t}; "quit" or the end of stdin ends it. It first prints {"ready": ...} with the model,
batch and threads.

--onnx DIR writes <MODEL>.onnx for each model (opset 17, input "input" (batch, 3, H, W), output "embedding"
(batch, 128), the batch dimension dynamic) with the deterministic weights of tools/torch/golden_tensors.py
(stream --seed), so that an ONNX Runtime comparison can rebuild the same weights in C#.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import torch
import torch.nn.functional as F

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "torch"))
import golden_tensors as gt  # noqa: E402
from facenet_torch import FaceNetTorch, build_model, load_parameters  # noqa: E402

DEFAULT_MODELS = "NN2,NN4,NNS2"
MARGIN = 0.2
LEARNING_RATE = 0.05


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", "r", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load(name: str, seed: int) -> FaceNetTorch:
    model = build_model(os.path.join(REPO, "specs", name + ".yaml"))
    table = [(n, shape) for n, shape, _, _ in model.parameter_layout()]
    load_parameters(model, gt.parameter_arena(table, seed))
    return model


def triplet_loss(e: torch.Tensor) -> torch.Tensor:
    """Image i is the anchor, i+1 its positive, i+2 its negative (cyclically): mean of [d(a,p) - d(a,n) + margin]+."""
    p, n = torch.roll(e, -1, 0), torch.roll(e, -2, 0)
    return F.relu((e - p).pow(2).sum(1) - (e - n).pow(2).sum(1) + MARGIN).mean()


def timed(step, warmup: int, min_iters: int, min_time: float):
    """Runs step() warmup times, then at least min_iters times and min_time seconds. Returns (iterations, seconds)."""
    for _ in range(warmup):
        step()
    iters, start = 0, time.perf_counter()
    while True:
        step()
        iters += 1
        elapsed = time.perf_counter() - start
        if iters >= min_iters and elapsed >= min_time:
            return iters, elapsed


def steps(model: FaceNetTorch, batch: int, seed: int):
    """The two measured steps of a model on a fixed batch: (forward, train)."""
    c, h, w = model.input_shape
    x = torch.from_numpy(gt.input_batch((batch, c, h, w), seed + 1))
    optimizer = torch.optim.Adagrad(model.parameters(), lr=LEARNING_RATE)

    def forward():
        with torch.no_grad():
            model(x)

    def train():
        optimizer.zero_grad(set_to_none=True)
        loss = triplet_loss(model(x))
        loss.backward()
        optimizer.step()

    return forward, train


def bench_model(name: str, args, madds_override: dict) -> dict:
    model = load(name, args.seed)
    c, h, w = model.input_shape
    madds = madds_override.get(name, model.multiply_adds)
    forward, train = steps(model, args.batch, args.seed)
    f_iters, f_time = timed(forward, args.warmup, args.iters, args.min_time)
    t_iters, t_time = timed(train, args.warmup, args.iters, args.min_time)
    f_rate = args.batch * f_iters / f_time
    t_rate = args.batch * t_iters / t_time
    return {
        "benchmark": "torch",
        "model": name,
        "framework": f"pytorch {torch.__version__}",
        "device": "cpu",
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "input": [c, h, w],
        "multiplyAdds": madds,
        "multiplyAddsSource": "command line" if name in madds_override else "spec",
        "forwardIterations": f_iters,
        "forwardSeconds": round(f_time, 6),
        "forwardImagesPerSecond": round(f_rate, 3),
        "forwardGflops": round(2 * madds * f_rate / 1e9, 3),
        "trainIterations": t_iters,
        "trainSeconds": round(t_time, 6),
        "trainImagesPerSecond": round(t_rate, 3),
        "trainGflops": round(3 * 2 * madds * t_rate / 1e9, 3),
        "quick": bool(args.quick),
    }


def serve(name: str, args) -> None:
    """Runs timed slices of one model's steps on request (see --serve), for a caller that takes turns with it."""
    model = load(name, args.seed)
    forward, train = steps(model, args.batch, args.seed)
    print(json.dumps({"ready": True, "model": name, "batch": args.batch, "threads": torch.get_num_threads(),
                      "framework": f"pytorch {torch.__version__}"}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] not in ("train", "forward") or len(words) != 2:
            print(json.dumps({"error": f"unknown command '{line.strip()}' (train S, forward S, quit)"}), flush=True)
            continue
        iters, seconds = timed(train if words[0] == "train" else forward, 0, 1, float(words[1]))
        print(json.dumps({"steps": iters, "seconds": round(seconds, 6)}), flush=True)


def export_onnx(names, folder: str, seed: int) -> None:
    os.makedirs(folder, exist_ok=True)
    for name in names:
        model = load(name, seed).eval()
        c, h, w = model.input_shape
        path = os.path.join(folder, name + ".onnx")
        tmp = path + ".tmp"
        try:
            torch.onnx.export(
                model, torch.zeros(1, c, h, w), tmp, opset_version=17,
                input_names=["input"], output_names=["embedding"],
                dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}})
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        print(json.dumps({"onnx": path, "model": name, "opset": 17, "weightsSeed": seed,
                          "bytes": os.path.getsize(path)}))


def parse_madds(items) -> dict:
    result = {}
    for item in items or []:
        name, _, value = item.partition("=")
        if not value:
            raise SystemExit(f"--madds expects NAME=VALUE, not '{item}'")
        result[name] = int(float(value))
    return result


def table(rows) -> str:
    head = f"{'model':6s} {'batch':>5s} {'thr':>3s} {'MAdds/img':>14s} {'fwd img/s':>10s} {'fwd GFLOP/s':>11s} {'train img/s':>11s} {'train GFLOP/s':>13s}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['model']:6s} {r['batch']:5d} {r['threads']:3d} {r['multiplyAdds']:14,d} "
                     f"{r['forwardImagesPerSecond']:10.2f} {r['forwardGflops']:11.2f} "
                     f"{r['trainImagesPerSecond']:11.2f} {r['trainGflops']:13.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="PyTorch CPU benchmark of NN2, NN4 and NNS2 built from our specs.")
    ap.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated spec names (default {DEFAULT_MODELS})")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch.set_num_threads (default: all cores)")
    ap.add_argument("--batch", type=int, default=16, help="images per step (default 16)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    ap.add_argument("--iters", type=int, default=5, help="at least this many timed steps (default 5)")
    ap.add_argument("--min-time", type=float, default=3.0, help="and at least this many seconds (default 3)")
    ap.add_argument("--quick", action="store_true", help="smoke test: batch 4, 1 warm-up, 1 timed step")
    ap.add_argument("--madds", action="append", metavar="NAME=VALUE", help="multiply-adds per image, instead of the spec's")
    ap.add_argument("--seed", type=int, default=1, help="stream of the deterministic weights (input: seed + 1)")
    ap.add_argument("--onnx", metavar="DIR", help="export the models to DIR/<MODEL>.onnx instead of benchmarking")
    ap.add_argument("--serve", action="store_true", help="keep one model loaded and run timed slices on request (stdin)")
    args = ap.parse_args(argv)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    torch.manual_seed(0)
    torch.set_num_threads(max(1, args.threads))

    if args.onnx:
        export_onnx(names, args.onnx, args.seed)
        return 0
    if args.quick:
        args.batch, args.warmup, args.iters, args.min_time = 4, 1, 1, 0.0
    if args.batch < 3:
        raise SystemExit("--batch must be at least 3 (the loss forms triplets within the batch)")
    if args.serve:
        if len(names) != 1:
            raise SystemExit("--serve takes exactly one model")
        serve(names[0], args)
        return 0
    madds = parse_madds(args.madds)
    rows = []
    for name in names:
        row = bench_model(name, args, madds)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(table(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

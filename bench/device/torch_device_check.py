#!/usr/bin/env python3
"""The PyTorch peer of `facenet device-check`: the same NN2 training step and embedding throughput, fp32, eager.

Training step (batch --train-batch, default 64): zero the gradients, forward, the loss sum(g * embeddings) for a fixed
random g (so dL/d(embedding) = g, the upstream gradient the C# check feeds its backward pass), backward, and an AdaGrad
step with lr 0.05 and eps 1e-10 (torch.optim.Adagrad; the same update as the C# AdaGradStep). Embedding (batch
--embed-batch, default 256): the forward pass under torch.inference_mode(). Inputs are on the device before timing;
warm-up steps first; CUDA events time the timed steps.

fp32 means fp32: TF32 is switched off for cuDNN and for matrix products (PyTorch would otherwise let cuDNN use it),
as the C# backend uses FMA math only. cudnn.benchmark is on, as the C# backend times cuDNN's algorithms too.

The network comes from tools/torch/facenet_torch.py (build_model), which builds a spec with the C# semantics.

    python3 bench/device/torch_device_check.py [--spec specs/NN2.yaml] [--json out.json]

Exit code 0 on success, 3 when CUDA or the model builder is unavailable (with the reason), 1 on another failure.
"""

import argparse
import json
import os
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def write_json(path, doc):
    """Writes atomically: a temporary file in the same folder, then a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def unavailable(args, reason):
    print("torch device check unavailable: " + reason, file=sys.stderr)
    if args.json:
        write_json(args.json, {"tool": "torch_device_check.py", "available": False, "reason": reason, "throughput": None})
    return 3


def init_parameters(model, seed):
    """He-normal weights and zero biases, seeded (the values do not change the work, only keep it realistic)."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            else:
                p.zero_()


def timed(step, warmup, steps, cuda=True):
    """Milliseconds per step by CUDA events (a wall clock on the CPU), after the warm-up steps."""
    import time
    import torch
    for _ in range(warmup):
        step()
    if not cuda:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        return (time.perf_counter() - start) * 1000.0 / steps
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(steps):
        step()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / steps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default=os.path.join(REPO, "specs", "NN2.yaml"))
    p.add_argument("--train-batch", type=int, default=64)
    p.add_argument("--embed-batch", type=int, default=256)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=2015)
    p.add_argument("--json", default=None)
    p.add_argument("--device", default="cuda", help="cuda (the benchmark), or cpu to try the script itself on a small spec")
    args = p.parse_args(argv)

    try:
        import torch
    except ImportError as e:
        return unavailable(args, f"PyTorch is not installed ({e})")
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        return unavailable(args, "torch.cuda.is_available() is false")
    sys.path.insert(0, os.path.join(REPO, "tools", "torch"))
    try:
        from facenet_torch import build_model
    except ImportError as e:
        return unavailable(args, f"cannot import build_model from tools/torch/facenet_torch.py ({e})")

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    device = torch.device(args.device)
    torch.manual_seed(args.seed)

    model = build_model(args.spec).to(device)
    init_parameters(model, args.seed)
    c, h, w = model.input_shape
    name = model.name
    device_name = torch.cuda.get_device_name(0) if cuda else "cpu"
    print(f"device: {device_name}; torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")

    # ---- training step ----
    model.train()
    optimizer = torch.optim.Adagrad(model.parameters(), lr=args.lr, eps=1e-10)
    x = torch.rand(args.train_batch, c, h, w, device=device) * 2 - 1
    upstream = torch.rand(args.train_batch, model.embedding, device=device) * 2 - 1

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = (model(x) * upstream).sum()
        loss.backward()
        optimizer.step()

    train_ms = timed(train_step, args.warmup, args.steps, cuda)
    train = {"batch": args.train_batch, "steps": args.steps, "msPerStep": round(train_ms, 4),
             "imagesPerSecond": round(args.train_batch * 1000.0 / train_ms, 2)}
    print(f"  {name} train step batch {args.train_batch:4d}: {train_ms:9.2f} ms per step, {train['imagesPerSecond']:9.1f} images/s")
    del optimizer, x, upstream
    if cuda:
        torch.cuda.empty_cache()

    # ---- embedding ----
    model.eval()
    xe = torch.rand(args.embed_batch, c, h, w, device=device) * 2 - 1

    def embed_step():
        with torch.inference_mode():
            model(xe)

    embed_ms = timed(embed_step, args.warmup, args.steps, cuda)
    embed = {"batch": args.embed_batch, "steps": args.steps, "msPerStep": round(embed_ms, 4),
             "imagesPerSecond": round(args.embed_batch * 1000.0 / embed_ms, 2)}
    print(f"  {name} embed      batch {args.embed_batch:4d}: {embed_ms:9.2f} ms per step, {embed['imagesPerSecond']:9.1f} images/s")

    if args.json:
        write_json(args.json, {
            "tool": "torch_device_check.py",
            "available": True,
            "reason": "",
            "device": device_name,
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "tf32": False,
            "cudnnBenchmark": True,
            "throughput": {"model": name, "train": train, "embed": embed},
        })
        print(f"report written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

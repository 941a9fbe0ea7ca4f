#!/usr/bin/env python3
"""Side-by-side summary of `facenet device-check --json` and `torch_device_check.py --json`.

    python3 bench/device/summary.py device-check.json torch.json

Prints the agreement verdicts of the C# check and, for the training step and embedding, images/s of each side and
their ratio (facenet / PyTorch; above 1 means the C# CUDA backend is faster). A missing or unavailable side is named.
"""

import json
import sys


def load(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"available": False, "reason": f"no report at {path} ({e})"}


def num(v):
    """A number as 1.23e-04; the strings the C# report writes for NaN and infinity as they are."""
    return v if isinstance(v, str) else format(v, ".2e")


def rate(doc, what):
    t = (doc.get("throughput") or {}).get(what) if doc.get("available") else None
    return (t or {}).get("imagesPerSecond"), (t or {}).get("batch")


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    ours, torch = load(argv[1]), load(argv[2])
    print("== summary ==")
    if not ours.get("available"):
        print(f"facenet device-check: unavailable: {ours.get('reason')}")
    else:
        kernels = ours.get("kernels", [])
        failed = [k for k in kernels if not k.get("passed")]
        print(f"device: {ours.get('device')} (driver {ours.get('driver')}, runtime {ours.get('runtime')}, cuDNN {ours.get('cudnn')})")
        print(f"kernel agreement: {len(kernels) - len(failed)}/{len(kernels)} pass")
        for k in failed:
            print(f"  FAIL {k['kernel']} [{k['shape']}]: {k['maxRelativeError']} > {k['tolerance']}")
        m = ours.get("model")
        if m:
            print(f"{m['name']} agreement (batch {m['batch']}): {'pass' if m['passed'] else 'FAIL'}; "
                  f"embeddings {num(m['embeddingError'])} (tol {m['embeddingTolerance']:.0e}), "
                  f"gradients {num(m['maxGradientError'])} (tol {m['gradientTolerance']:.0e})")
        else:
            print("model agreement: not run or not finished")
        for e in ours.get("errors", []):
            print(f"  ERROR {e}")
        print(f"verdict: {'PASS' if ours.get('passed') else 'FAIL'}")
    if not torch.get("available"):
        print(f"PyTorch: unavailable: {torch.get('reason')}")
    else:
        print(f"PyTorch {torch.get('torch')} (CUDA {torch.get('cuda')}, cuDNN {torch.get('cudnn')}), fp32, TF32 off")
    print()
    print(f"{'':24} {'facenet img/s':>14} {'PyTorch img/s':>14} {'ratio':>7}")
    for what, label in (("train", "train step"), ("embed", "embed")):
        a, batch = rate(ours, what)
        b, tbatch = rate(torch, what)
        ratio = f"{a / b:7.2f}" if a and b else f"{'-':>7}"
        fa = f"{a:14.1f}" if a else f"{'-':>14}"
        fb = f"{b:14.1f}" if b else f"{'-':>14}"
        print(f"{label + ', batch ' + str(batch or tbatch or '?'):24} {fa} {fb} {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

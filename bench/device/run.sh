#!/usr/bin/env bash
# The one prepared script for a GPU session: facenet device-check (the C# CUDA backend against the reference kernels,
# NN2 against the reference, throughput), then the same NN2 throughput in fp32 eager PyTorch, then a side-by-side
# summary. Run at the repository root:
#
#     bash bench/device/run.sh [PUBLISH_DIR]
#
# PUBLISH_DIR (default out/publish) holds a self-contained publish of the CLI (see bench/device/README.md). Reports
# go to $OUT (the device tool's collection folder), or out/device when $OUT is unset. The whole run is bounded by the
# timeouts below (about 7 minutes at most; a normal run takes a few).
set -u
cd "$(dirname "$0")/../.."
PUBLISH="${1:-out/publish}"
OUT="${OUT:-out/device}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"

if [ ! -x "$PUBLISH/facenet" ]; then
    echo "run.sh: no facenet executable in $PUBLISH (publish it first; see bench/device/README.md)" >&2
    exit 2
fi

# Where the Python wheels keep the CUDA libraries: on the loader path too, so that libraries opened by name from
# inside others (cuDNN's sub-libraries, NVRTC's builtins, cuBLASLt) resolve to the same set.
WHEEL_LIBS="$("$PY" - <<'PYEOF' 2>/dev/null
import importlib, os
dirs = []
for mod in ("nvidia.cu13", "nvidia.cuda_runtime", "nvidia.cublas", "nvidia.cudnn", "nvidia.cuda_nvrtc"):
    try:
        m = importlib.import_module(mod)
    except Exception:
        continue
    for p in getattr(m, "__path__", []):
        d = os.path.join(p, "lib")
        if os.path.isdir(d) and d not in dirs:
            dirs.append(d)
print(":".join(dirs))
PYEOF
)"
if [ -n "$WHEEL_LIBS" ]; then export LD_LIBRARY_PATH="$WHEEL_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
# fp32 means fp32 on both sides: no TF32 anywhere.
export NVIDIA_TF32_OVERRIDE=0

echo "== machine =="
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(nvidia-smi not available)"
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"

echo "== facenet device-check =="
timeout -k 10 330 "$PUBLISH/facenet" device-check --json "$OUT/device-check.json" 2>&1 | tee "$OUT/device-check.log"
FACENET_RC=${PIPESTATUS[0]}
echo "facenet device-check exit code: $FACENET_RC"

echo "== PyTorch =="
timeout -k 10 150 "$PY" bench/device/torch_device_check.py --json "$OUT/torch.json" 2>&1 | tee "$OUT/torch.log"
TORCH_RC=${PIPESTATUS[0]}
echo "torch_device_check.py exit code: $TORCH_RC"

"$PY" bench/device/summary.py "$OUT/device-check.json" "$OUT/torch.json" | tee "$OUT/summary.txt"
exit "$FACENET_RC"

#!/usr/bin/env bash
# Training and sampling times of the DDPM U-Net on one NVIDIA GPU; see bench/gpu.py for what is timed.
#
#   bash bench/gpu.sh [RESULTS.json] [more options for bench/gpu.py]
#
# Runs from the repository root with the project's virtual environment when there is one (.venv), else the first
# `python` (or `python3`) on the PATH, or $PYTHON. Fashion-MNIST is found as slowai finds it (SLOWAI_DATA, the
# Debian package's folder, the user cache). Takes about a minute or two on an H100 after the data is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PYTHON:-}" ] && [ -f .venv/bin/activate ]; then source .venv/bin/activate; fi
PY=${PYTHON:-$(command -v python || command -v python3)}
json=${1:-gpu-results.json}
shift || true

export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}  # one GPU
export PYTHONUNBUFFERED=1
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv || true
fi
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "no CUDA device visible to torch " + torch.__version__)'
"$PY" bench/gpu.py --device cuda --json "$json" "$@"

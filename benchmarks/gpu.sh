#!/usr/bin/env bash
# Data-path overhead of fairsuite training on one GPU (issue 4): FairFace through the decoded
# uint8 cache (whole cache on the GPU, crop/flip/normalise there) vs the same model on random
# tensors already on the GPU, at 112 px. Prints images/s and the ratio (target >= 0.9).
#
# Runs unattended from the repository root on a bare GPU machine:
#   FAIRSUITE_TEST_DATA=/path/to/data bash benchmarks/gpu.sh
# Data: ${FAIRSUITE_TEST_DATA:-../shared/data} must hold fairface/images_present.csv and
# fairface/train/*.jpg. Python: a python3 that already has CUDA torch + torchvision is used as
# is (fairsuite from this checkout via PYTHONPATH); otherwise a fresh venv is made and
# `pip install -e .` brings torch from pip. Everything goes to stdout. About 2-4 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 2>&1

DATA="${FAIRSUITE_TEST_DATA:-../shared/data}"
PY="${PYTHON:-python3}"
echo "== fairsuite gpu benchmark: $(date -u +%FT%TZ) repo=$(pwd) data=${DATA}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

if ! "$PY" -c "import torch, torchvision, PIL, pandas, tqdm, safetensors; assert torch.cuda.is_available()" 2>/dev/null; then
  echo "== no usable CUDA torch in $PY: creating a venv and installing fairsuite (torch from pip)"
  "$PY" -m venv /tmp/fairsuite-gpu-venv
  PY=/tmp/fairsuite-gpu-venv/bin/python
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -e .
fi
if ! "$PY" -c "import fairsuite" 2>/dev/null; then
  export PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"
fi
export FAIRSUITE_CACHE="${FAIRSUITE_CACHE:-$(mktemp -d /tmp/fairsuite-cache.XXXXXX)}"
"$PY" -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"

export PYTHONUNBUFFERED=1
timeout 270 "$PY" benchmarks/bench_train.py --device cuda --image-size 112 --batch-size 256 \
  --steps 60 --warmup 10 --rounds 3 --models resnet18,small_cnn --precisions bf16,fp32 \
  --data-dir "$DATA"
echo "== end-to-end fit on the GPU (real fairsuite.train.fit loop, validation included)"
timeout 150 "$PY" benchmarks/_gpu_fit_check.py --data-dir "$DATA" --image-size 112 --epochs 4 \
  --models resnet18,small_cnn || echo "fit check failed or timed out (rc=$?)"
echo "== done: $(date -u +%FT%TZ)"

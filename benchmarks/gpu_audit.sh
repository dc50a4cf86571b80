#!/usr/bin/env bash
# Full-size audits on one CUDA GPU: the FairFace gender audit and the UTKFace-vs-FairFace compare
# with the GPU defaults (resnet18, 112 px, up to 30 epochs with early stopping, mixed precision,
# 1,000 bootstrap replicates). Measured on an H100 (2026-11-26): about 25 s per command.
# Runs unattended from the repository root on a machine whose python3 has CUDA torch:
#   FAIRSUITE_TEST_DATA=/path/to/data OUT=/tmp/out bash benchmarks/gpu_audit.sh
# Data: ${FAIRSUITE_TEST_DATA:-../shared/data} holds fairface/ and utkface/ in their own layouts
# (only some FairFace images need be present: --allow-missing drops and counts the rest).
# Writes result.json and report.html of each run under $OUT; prints the summaries.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 2>&1
DATA="${FAIRSUITE_TEST_DATA:-../shared/data}"
OUT="${OUT:-/tmp/fairsuite-gpu-audit}"
PY="${PYTHON:-python3}"
"$PY" -c "import fairsuite" 2>/dev/null || export PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"
export FAIRSUITE_CACHE="${FAIRSUITE_CACHE:-$(mktemp -d /tmp/fairsuite-cache.XXXXXX)}" PYTHONUNBUFFERED=1
"$PY" -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
mkdir -p "$OUT/fairface" "$OUT/compare"
run() { local dest=$1; shift; local t0=$SECONDS
  "$PY" -m fairsuite "$@" --data-dir "$DATA" --allow-missing --device cuda --out "/tmp/gpu-run-$dest" --force -q
  echo "== $dest: $((SECONDS - t0)) s"
  cp "/tmp/gpu-run-$dest/result.json" "/tmp/gpu-run-$dest/report.html" "$OUT/$dest/"; }
run fairface audit audits/fairface-gender.yaml
run compare compare audits/utkface-vs-fairface.yaml

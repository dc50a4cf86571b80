#!/usr/bin/env bash
# Face sweeps on one CUDA GPU (issues 10 and 11), unattended, in well under 10 minutes on an H100:
#  1. UTKFace gender, the share of Black faces in a 3,000-row training split (5%, 20%, natural,
#     40%) x 3 seeds, resnet18 at 112 px (GPU defaults), tested on UTKFace and on FairFace,
#     broken down by race x gender (audits/sweep-utkface-black-share.yaml);
#  2. synthfaces: the planted minority's training share from 5% to 50% x 3 seeds
#     (audits/sweep-synthfaces.yaml), and the same for a representation-only minority
#     (audits/sweep-synthfaces-representation.yaml: clean labels, moderate signal);
#  3. synthfaces (20,000 faces: 200 test rows of the minority) audited as it is, with the
#     minority oversampled, and with it oversampled with transforms (augment), GPU settings.
# Data: a data root holding fairface/ and utkface/ in their own layouts, or the archive
# .gpu_data/faces112.tgz (the same files, images re-encoded at 112 px; made by
# benchmarks/pack_faces.py, carried to the device machine). Missing pure-Python packages
# (platformdirs, fairlearn) can be carried as wheels in .gpu_wheels/.
#   OUT=/tmp/out bash benchmarks/gpu_sweep.sh            # DEVICE=cpu EPOCHS=1 for a smoke run
#   RAY=1 OUT=/tmp/out bash benchmarks/gpu_sweep.sh      # part 1 again on the Ray executor
#   PARTS=1 RAY=1 OUT=/tmp/out bash benchmarks/gpu_sweep.sh   # part 1 (and 1r) only
# PARTS (default "1 2 3") picks the parts; UTK_SIZE (default 3000) and UTK_SEEDS (default 0,1,2)
# shrink part 1. Every sweep writes into a fresh store under WORK (default: a new folder
# /tmp/fairsuite-gpu-sweep.*), so a rerun never resumes an earlier store and times nothing.
# RAY=1 (needs `pip install 'fairsuite[ray]'`, or ray's wheels in .gpu_wheels/) reruns part 1
# into its own store on a local Ray instance with GPUS_PER_RUN (default 0.25: four runs packed
# on the GPU) and CPUS_PER_RUN (default 2) per run, and prints the runs per hour of part 1 and
# part 1r and their ratio (wall times from start to finish, Ray's start-up included; each starts
# with an empty decoded-image cache). Where ray is not importable, part 1r is skipped with a
# line that says so.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 2>&1
PY="${PYTHON:-python3}"
OUT="${OUT:-/tmp/fairsuite-gpu-sweep}"
DEVICE="${DEVICE:-cuda}"
PARTS=" ${PARTS:-1 2 3} "
PARTS="${PARTS//,/ }"
part() { [[ "$PARTS" == *" $1 "* ]]; }
EXTRA=(--device "$DEVICE" --quiet)
[ -n "${EPOCHS:-}" ] && EXTRA+=(--epochs "$EPOCHS")
[ -n "${IMAGE_SIZE:-}" ] && EXTRA+=(--image-size "$IMAGE_SIZE")
UTK=(audits/sweep-utkface-black-share.yaml --allow-missing --sizes "${UTK_SIZE:-3000}"
     --seeds "${UTK_SEEDS:-0,1,2}")
mkdir -p "$OUT"
export WORK="${WORK:-$(mktemp -d /tmp/fairsuite-gpu-sweep.XXXXXX)}"
if ls .gpu_wheels/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps .gpu_wheels/*.whl || true
fi
"$PY" -c "import fairsuite" 2>/dev/null || export PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${FAIRSUITE_TEST_DATA:-}" ] && [ -f .gpu_data/faces112.tgz ]; then
  tar xzf .gpu_data/faces112.tgz -C /tmp && export FAIRSUITE_TEST_DATA=/tmp/data
fi
DATA="${FAIRSUITE_TEST_DATA:-../shared/data}"
export FAIRSUITE_CACHE="${FAIRSUITE_CACHE:-$(mktemp -d /tmp/fairsuite-cache.XXXXXX)}" PYTHONUNBUFFERED=1
"$PY" -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')"
echo "parts:$PARTS stores in $WORK"
t0=$SECONDS
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# rate STORE MS: "<done> runs in <s> s = <r> runs/h" from the store's status.json
rate() {
  "$PY" - "$1" "$2" <<'EOF' || echo "(no status.json in $1)"
import json, sys
status = json.load(open(sys.argv[1] + "/status.json"))
secs = int(sys.argv[2]) / 1000
failed = f" ({status['failed']} failed)" if status["failed"] else ""
print(f"{status['done']} runs{failed} in {secs:.1f} s = {status['done'] * 3600 / secs:.0f} runs/h")
EOF
}

if part 1; then
  echo "== 1. UTKFace: share of Black faces x seeds, tested on UTKFace and FairFace"
  s1=$(now_ms)
  "$PY" -m fairsuite sweep "${UTK[@]}" --data-dir "$DATA" --out "$WORK/sw-utk" "${EXTRA[@]}" \
    || echo "sweep 1 rc=$?"
  ms1=$(($(now_ms) - s1))
  cp "$WORK/sw-utk/report.html" "$OUT/utk_report.html" || true
  cp "$WORK/sw-utk/results.parquet" "$OUT/utk_results.parquet" || true
  "$PY" - <<'EOF' || true
import os
import pandas as pd
r = pd.read_parquet(os.path.join(os.environ["WORK"], "sw-utk", "results.parquet"))
g = r[(r.kind == "group") & (r.attribute == "race x gender") & (r.metric == "accuracy")
      & r.group.isin(["Black x Female", "White x Male"])]
t = g.groupby(["tested_on", "group", "composition"]).agg(
    acc=("value", "mean"), lo=("ci_low", "mean"), hi=("ci_high", "mean"), runs=("value", "size"))
print(t.round(3).to_string())
EOF
  echo "== 1 done at $((SECONDS - t0)) s; serial: $(rate "$WORK/sw-utk" "$ms1")"
  if [ -n "${RAY:-}" ] && ! "$PY" -c "import ray" 2>/dev/null; then
    echo "== 1r skipped: RAY=1 but ray is not importable here (pip install 'fairsuite[ray]')"
  elif [ -n "${RAY:-}" ]; then
    echo "== 1r. part 1 on Ray, ${GPUS_PER_RUN:-0.25} GPU and ${CPUS_PER_RUN:-2} CPUs per run"
    s1r=$(now_ms)
    FAIRSUITE_CACHE="$(mktemp -d /tmp/fairsuite-cache.XXXXXX)" \
      "$PY" -m fairsuite sweep "${UTK[@]}" --data-dir "$DATA" --out "$WORK/sw-utk-ray" \
      --executor ray --gpus-per-run "${GPUS_PER_RUN:-0.25}" --cpus-per-run "${CPUS_PER_RUN:-2}" \
      "${EXTRA[@]}" || echo "sweep 1r rc=$?"
    ms1r=$(($(now_ms) - s1r))
    cp "$WORK/sw-utk-ray/results.parquet" "$OUT/utk_results_ray.parquet" || true
    echo "== 1r done at $((SECONDS - t0)) s"
    echo "== 1  serial: $(rate "$WORK/sw-utk" "$ms1")"
    echo "== 1r on Ray: $(rate "$WORK/sw-utk-ray" "$ms1r")"
    "$PY" - "$ms1" "$ms1r" "$WORK/sw-utk/status.json" "$WORK/sw-utk-ray/status.json" <<'EOF' || true
import json, sys
serial, ray = (int(v) / 1000 for v in sys.argv[1:3])
done = [json.load(open(p))["done"] for p in sys.argv[3:5]]
if done[0] and done[0] == done[1]:
    print(f"== 1r packing: Ray gives {serial / ray:.2f}x the serial runs per hour")
else:
    print(f"== 1r packing: not comparable (serial {done[0]} runs done, Ray {done[1]})")
EOF
  fi
fi

if part 2; then
  echo "== 2. synthfaces: the minority's training share from 5% to 50%"
  "$PY" -m fairsuite sweep audits/sweep-synthfaces.yaml --out "$WORK/sw-synth" "${EXTRA[@]}" \
    || echo "sweep 2 rc=$?"
  cp "$WORK/sw-synth/results.parquet" "$OUT/synth_results.parquet" || true
  "$PY" - <<'EOF' || true
import os
import pandas as pd
r = pd.read_parquet(os.path.join(os.environ["WORK"], "sw-synth", "results.parquet"))
d = r[(r.kind == "group") & (r.attribute == "skin_tone") & (r.group == "dark") & (r.metric == "error_rate")]
print(d.groupby("composition").agg(err=("value", "mean"), lo=("ci_low", "mean"),
      hi=("ci_high", "mean"), runs=("value", "size")).round(3).to_string())
EOF
  echo "== 2b. the same with a representation-only minority (clean labels, moderate signal)"
  "$PY" -m fairsuite sweep audits/sweep-synthfaces-representation.yaml --out "$WORK/sw-rep" \
    "${EXTRA[@]}" || echo "sweep 2b rc=$?"
  cp "$WORK/sw-rep/results.parquet" "$OUT/rep_results.parquet" || true
  echo "== 2 done at $((SECONDS - t0)) s"
fi

if part 3; then
  echo "== 3. synthfaces as it is, oversampled, augmented (GPU settings)"
  for iv in none oversample augment; do
    args=()
    [ "$iv" != none ] && args=(--intervention "$iv" --balance uniform --balance-by skin_tone)
    "$PY" -m fairsuite audit audits/synthfaces-20k.yaml "${args[@]}" \
      --out "$WORK/synth-$iv" --force "${EXTRA[@]}" | grep -E "overall|worst|skin_tone  " || true
    cp "$WORK/synth-$iv/result.json" "$OUT/synth_$iv.json" || true
  done
fi
echo "== all done at $((SECONDS - t0)) s"

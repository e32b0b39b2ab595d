#!/usr/bin/env bash
# Everything pvtv2_dense checks on a GPU, in one run (about 8 minutes on one H100/H200 once mmcv's
# CUDA ops are installed or cached; building them the first time takes longer):
#   1. mmcv's CUDA ops: runs the deformable attention kernel on a CUDA tensor; if the installed
#      mmcv has no CUDA ops, installs the cached CUDA wheel ($MMCV_CACHE/<python-torch-cuda>/) or
#      builds one there (FORCE_CUDA, only this GPU's architecture) and installs it.
#   2. the CUDA equivalence tests: the fast backbone paths against the plain ones, and the
#      deformable attention's CUDA kernel against its PyTorch path (fp32 values and gradients,
#      fp16/bf16 autocast), tests/models/test_fast_equivalence.py and tests/models/.
#   3. one training iteration of every task's quickstart model without and with AMP (fp32,
#      AmpOptimWrapper fp16 with a dynamic loss scale, bf16): pvtv2_dense.benchmark.train_steps.
#   4. tools/analysis_tools/benchmark_peers.py --device cuda: SegFormer b0 and b2 (train and
#      infer), Deformable DETR b0 and Panoptic SegFormer b0 against their peers, one table.
#   5. the lean deformable attention kernel against mmcv's CUDA kernel on the encoder's shapes at
#      640 (forward, forward + backward; time and peak memory): pvtv2_dense.benchmark.msda.
#   6. TensorRT: SegFormer ($TRT_ARCHS) exported to ONNX and built into fp32/fp16 engines that
#      trtexec times (pvtv2_dense.benchmark.tensorrt); one 'skipped' row each without TensorRT.
# Then one summary: each step's status and the tables. Logs go to $OUT.
#
# Usage:  bash tools/analysis_tools/gpu_check.sh [--dry-run | --cpu]
#   --dry-run  print each step's command, run nothing
#   --cpu      run what a CPU can (step 3 in fp32 and CPU bf16; the others are listed as
#              skipped): what the test suite runs (tests/tools/test_gpu_check.py)
# Environment (optional): PYTHON (default: python), MMCV_CACHE (default:
#   ~/.cache/pvtv2_dense/wheels), OUT (default: work_dirs/gpu_check), TASKS (step 3's tasks,
#   default: all five), REPEAT (benchmark timed runs, default: 10), TRT_ARCHS (step 6's
#   SegFormer sizes, default: b0).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
PY="${PYTHON:-python}"
MMCV_CACHE="${MMCV_CACHE:-$HOME/.cache/pvtv2_dense/wheels}"
OUT="${OUT:-work_dirs/gpu_check}"
TASKS="${TASKS:-segformer glpn deformable_detr panoptic classifier}"
REPEAT="${REPEAT:-10}"
TRT_ARCHS="${TRT_ARCHS:-b0}"
MODE=gpu
case "${1:-}" in
  --dry-run) MODE=dry ;;
  --cpu) MODE=cpu ;;
  "") ;;
  *) echo "gpu_check.sh: unknown option $1 (expected --dry-run or --cpu)" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
SUMMARY=()

# step NAME LIMIT_SECONDS COMMAND...: run (or print) one step, its output in $OUT/NAME.log.
step() {
  local name="$1" limit="$2"
  shift 2
  echo "== $name: $*"
  if [ "$MODE" = dry ]; then
    SUMMARY+=("| $name | not run (--dry-run) |")
    return 0
  fi
  local start=$SECONDS
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  local status="ok"
  [ $rc -ne 0 ] && status="FAILED (exit $rc$([ $rc -eq 124 ] && echo ', timed out'))"
  SUMMARY+=("| $name | $status, $((SECONDS - start)) s, $OUT/$name.log |")
  tail -n 3 "$OUT/$name.log"
  return $rc
}
skip() { echo "== $1: skipped ($2)"; SUMMARY+=("| $1 | skipped ($2) |"); }

# mmcv's ops run the deformable attention on CUDA (an mmcv built without CUDA raises here).
CUDA_OPS_CHECK="import torch; from mmcv.ops.multi_scale_deform_attn import MultiScaleDeformableAttnFunction as F
v = torch.rand(1, 4, 1, 8, device='cuda'); s = torch.tensor([[2, 2]], device='cuda')
F.apply(v, s, torch.zeros(1, dtype=torch.long, device='cuda'), torch.rand(1, 3, 1, 1, 2, 2, device='cuda'),
        torch.rand(1, 3, 1, 1, 2, device='cuda'), 64); torch.cuda.synchronize(); print('mmcv CUDA ops: ok')"

install_cuda_mmcv() {
  local key dir wheel
  key="$("$PY" -c 'import sys, platform, torch; print(f"cp{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__}-cuda{torch.version.cuda}-{platform.machine()}")')" || return 1
  dir="$MMCV_CACHE/$key"
  wheel="$(ls "$dir"/mmcv-2.1.0-*.whl 2>/dev/null | head -n 1)"
  if [ -z "$wheel" ]; then
    mkdir -p "$dir"
    # Only this GPU's architecture: the build takes minutes instead of most of an hour.
    TORCH_CUDA_ARCH_LIST="$("$PY" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())')" \
      FORCE_CUDA=1 MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "$PY" -m pip wheel --no-build-isolation --no-deps --no-cache-dir mmcv==2.1.0 -w "$dir" || return 1
    wheel="$(ls "$dir"/mmcv-2.1.0-*.whl | head -n 1)"
  fi
  "$PY" -m pip install --no-deps --force-reinstall "$wheel" && "$PY" -c "$CUDA_OPS_CHECK"
}

if [ "$MODE" = cpu ]; then
  skip mmcv_cuda_ops "--cpu"
  skip cuda_tests "--cpu"
  # shellcheck disable=SC2086
  step train_steps 900 "$PY" -m pvtv2_dense.benchmark.train_steps --device cpu \
    --tasks $TASKS --precisions fp32 bf16-cpu
  skip benchmark "--cpu"
  skip msda_kernels "--cpu"
  skip tensorrt "--cpu"
else
  if [ "$MODE" = dry ] || ! "$PY" -c "$CUDA_OPS_CHECK" >"$OUT/mmcv_check.log" 2>&1; then
    export -f install_cuda_mmcv
    export PY MMCV_CACHE CUDA_OPS_CHECK
    step mmcv_cuda_ops 3600 bash -c install_cuda_mmcv
  else
    SUMMARY+=("| mmcv_cuda_ops | ok (installed mmcv runs the kernel on CUDA) |")
  fi
  step cuda_tests 300 "$PY" -m pytest -q -p no:cacheprovider -m "not slow" \
    tests/models/test_fast_equivalence.py tests/models/test_deform_attn_precision.py -k "cuda or CUDA"
  # shellcheck disable=SC2086
  step train_steps 300 "$PY" -m pvtv2_dense.benchmark.train_steps --device cuda \
    --tasks $TASKS --precisions fp32 fp16 bf16
  step benchmark 420 bash -c "
    '$PY' tools/analysis_tools/benchmark_peers.py --device cuda --repeat $REPEAT \
      --suites segformer --archs b0 b2 &&
    '$PY' tools/analysis_tools/benchmark_peers.py --device cuda --repeat $REPEAT \
      --suites deformable_detr panoptic --archs b0 | tail -n +4"
  step msda_kernels 120 "$PY" -m pvtv2_dense.benchmark.msda --device cuda --repeat "$REPEAT"
  [ "$MODE" = dry ] || mkdir -p "$OUT/tensorrt"
  # shellcheck disable=SC2086
  step tensorrt 240 "$PY" -m pvtv2_dense.benchmark.tensorrt --out "$OUT/tensorrt" --archs $TRT_ARCHS
fi

echo
echo "## gpu_check ($MODE), $(date -u '+%Y-%m-%d %H:%M UTC')"
[ "$MODE" != dry ] && "$PY" -c "import torch; print('device:', torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu', '| torch', torch.__version__)"
echo
echo "| step | status |"
echo "|---|---|"
printf '%s\n' "${SUMMARY[@]}"
for table in train_steps benchmark msda_kernels tensorrt; do
  if [ -f "$OUT/$table.log" ] && [ "$MODE" != dry ]; then
    echo
    grep -E '^(\||# )' "$OUT/$table.log"
  fi
done
# Exit 1 when a step that ran failed.
! printf '%s\n' "${SUMMARY[@]}" | grep -q FAILED

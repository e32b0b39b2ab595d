#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment: torch first, mmcv 2.1.0 built with ops
# against that torch, then the OpenMMLab stack and pvtv2_dense in editable mode.
#
# Usage:  bash tools/setup_env.sh            # idempotent; a second run takes seconds
#
# Environment variables (all optional):
#   VENV           where to create the environment            (default: <repo>/.venv)
#   PYTHON         interpreter to create it with               (default: python3.11)
#   TORCH_SPEC     pip requirement for torch                   (default: torch==2.13.0, the CPU wheel)
#   TORCH_INDEX    extra index URL for torch (e.g. a CUDA wheel index on a GPU box)
#   MMCV_CACHE     where built mmcv wheels are kept, keyed by Python, torch and platform
#                  (default: ~/.cache/pvtv2_dense/wheels)
#   WITH_TESTS     1 installs the test requirements too      (default: 1)
#   WITH_DEPLOY    1 installs requirements/deploy.txt (ONNX export and ONNX Runtime; the tests
#                  need it)                                   (default: 1)
# A GPU user picks their torch, e.g.:
#   TORCH_SPEC="torch==2.5.1" TORCH_INDEX=https://download.pytorch.org/whl/cu121 bash tools/setup_env.sh
# mmcv 2.1.0 does not compile against torch >= 2.14 (C++20 headers): keep torch < 2.14.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
TORCH_INDEX="${TORCH_INDEX:-}"
MMCV_VERSION="2.1.0"
MMCV_CACHE="${MMCV_CACHE:-$HOME/.cache/pvtv2_dense/wheels}"
WITH_TESTS="${WITH_TESTS:-1}"
WITH_DEPLOY="${WITH_DEPLOY:-1}"
LOG_DIR="$VENV/setup-logs"
STEP="starting"

say() { printf '[setup] %s\n' "$*"; }
fail() {
  say "FAILED during: $STEP"
  [ -n "${LAST_LOG:-}" ] && [ -f "$LAST_LOG" ] && { say "last lines of $LAST_LOG:"; tail -n 25 "$LAST_LOG"; }
  exit 1
}
trap fail ERR

# Run a command quietly into a log; print the log's tail if it fails.
run_logged() {
  local name="$1"; shift
  LAST_LOG="$LOG_DIR/$name.log"
  "$@" >"$LAST_LOG" 2>&1
}

# Everything that decides the environment's content; unchanged => nothing to do.
stamp_of() {
  {
    echo "$PYTHON $TORCH_SPEC $TORCH_INDEX $MMCV_VERSION $WITH_TESTS $WITH_DEPLOY"
    cat "$ROOT"/requirements/*.txt "$ROOT/setup.py"
  } | sha256sum | cut -d' ' -f1
}

STEP="checking the interpreter ($PYTHON)"
command -v "$PYTHON" >/dev/null || { say "$PYTHON not found: install Python 3.11 or set PYTHON=..."; exit 1; }

STAMP_FILE="$VENV/.pvtv2_dense_setup"
WANT="$(stamp_of)"
if [ -f "$STAMP_FILE" ] && [ "$(cat "$STAMP_FILE")" = "$WANT" ] &&
  "$VENV/bin/python" -c "import mmcv._ext, mmseg, mmdet, pvtv2_dense" >/dev/null 2>&1; then
  say "environment $VENV is up to date"
  exit 0
fi

STEP="[1/6] creating the virtual environment $VENV"
say "$STEP"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
mkdir -p "$LOG_DIR"
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
run_logged pip-upgrade "${PIP[@]}" install --upgrade pip

STEP="[2/6] installing $TORCH_SPEC (torch goes first so nothing pulls another build)"
say "$STEP"
TORCH_ARGS=("$TORCH_SPEC")
[ -n "$TORCH_INDEX" ] && TORCH_ARGS+=(--extra-index-url "$TORCH_INDEX")
run_logged torch "${PIP[@]}" install "${TORCH_ARGS[@]}"
run_logged build-tools "${PIP[@]}" install -r "$ROOT/requirements/build.txt" "numpy>=1.23,<2"

STEP="[3/6] installing runtime dependencies and the OpenMMLab stack"
say "$STEP"
run_logged runtime "${PIP[@]}" install -r "$ROOT/requirements/runtime.txt"
run_logged openmmlab "${PIP[@]}" install --no-deps -r "$ROOT/requirements/openmmlab.txt"

STEP="[4/6] installing mmcv $MMCV_VERSION with compiled ops"
say "$STEP"
# A wheel is only valid for the torch (and CUDA) and Python it was compiled against.
KEY="$("$PY" -c 'import sys, platform, torch; print(f"cp{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__}-{platform.machine()}")')"
WHEEL_DIR="$MMCV_CACHE/$KEY"
if "$PY" -c "import mmcv, mmcv._ext; assert mmcv.__version__ == '$MMCV_VERSION'" >/dev/null 2>&1; then
  say "      mmcv $MMCV_VERSION with ops already installed"
else
  WHEEL="$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
  if [ -z "$WHEEL" ]; then
    say "      no cached wheel for $KEY: compiling from source (about 12 min on 2 cores; see README)"
    say "      progress: tail -f $LOG_DIR/mmcv-build.log"
    mkdir -p "$WHEEL_DIR"
    # --no-cache-dir: pip's own cache does not know which torch a wheel was built against.
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" run_logged mmcv-build \
      "${PIP[@]}" wheel --no-build-isolation --no-deps --no-cache-dir \
      "mmcv==$MMCV_VERSION" -w "$WHEEL_DIR"
    WHEEL="$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)"
  else
    say "      reusing cached wheel $WHEEL"
  fi
  run_logged mmcv-install "${PIP[@]}" install --no-deps --force-reinstall "$WHEEL"
  STEP="[4/6] checking that mmcv's compiled ops import"
  run_logged mmcv-check "$PY" -c "import mmcv._ext"
fi

STEP="[5/6] installing pvtv2_dense (editable)"
say "$STEP"
if [ "$WITH_TESTS" = "1" ]; then
  run_logged tests "${PIP[@]}" install -r "$ROOT/requirements/tests.txt"
fi
if [ "$WITH_DEPLOY" = "1" ]; then
  run_logged deploy "${PIP[@]}" install -r "$ROOT/requirements/deploy.txt" "numpy>=1.23,<2"
fi
run_logged package "${PIP[@]}" install --no-deps --no-build-isolation -e "$ROOT"

STEP="[6/6] checking the installation"
say "$STEP"
run_logged check "$PY" -c "
import torch, mmcv, mmcv._ext, mmengine, mmseg, mmdet, pvtv2_dense
print('torch', torch.__version__, 'mmcv', mmcv.__version__, 'mmengine', mmengine.__version__,
      'mmseg', mmseg.__version__, 'mmdet', mmdet.__version__)"
cat "$LAST_LOG"
echo "$WANT" >"$STAMP_FILE"
say "done: activate with 'source $VENV/bin/activate'"

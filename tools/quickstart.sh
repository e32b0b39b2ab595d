#!/usr/bin/env bash
# The main job on the built-in data: set up, generate the synthetic ADE20K-layout set, train the
# PVTv2-b0 segmentation quickstart on the CPU, evaluate it on held-out images and report.
# bash tools/quickstart.sh [seg|depth|det|pan|cls] [--work-dir DIR]: another task's built-in set;
# arguments after the task go to tools/quickstart.py.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY="${VENV:-$ROOT/.venv}/bin/python"
TASK="${1:-seg}"
exec "$PY" tools/quickstart.py "$TASK" "${@:2}"

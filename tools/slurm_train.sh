#!/usr/bin/env bash
# Train on a SLURM cluster: one task per GPU, started by srun.
#
# Usage: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py options]
#   WORK_DIR (mmdet style) may be left out (mmseg style); options then follow CONFIG.
# Environment: GPUS (4, total tasks), GPUS_PER_NODE (min(GPUS, 8)), CPUS_PER_TASK (5),
#   SRUN_ARGS (extra srun options), PYTHON (the repo's .venv python if present, else python).
# Examples:
#   GPUS=16 bash tools/slurm_train.sh gpu pvt_seg CONFIG work_dirs/pvt_seg
#   GPUS=8 SRUN_ARGS="--time=24:00:00" bash tools/slurm_train.sh gpu pvt_seg CONFIG --resume
set -euo pipefail
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then usage; exit 0; fi
if [[ $# -lt 3 ]]; then usage >&2; exit 2; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
EXTRA=()
if [[ $# -gt 0 && "$1" != -* ]]; then
    EXTRA=(--work-dir "$1")
    shift
fi
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# shellcheck disable=SC2086  # SRUN_ARGS is a list of options
srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 $SRUN_ARGS \
    "$PYTHON" -u "$ROOT/tools/train.py" "$CONFIG" --launcher slurm "${EXTRA[@]}" "$@"

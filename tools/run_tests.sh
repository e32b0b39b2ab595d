#!/usr/bin/env bash
# Set up the environment if needed, check lint, then run the test suite.
# Extra arguments go to pytest, e.g.: bash tools/run_tests.sh -k backbone -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY="${VENV:-$ROOT/.venv}/bin/python"
echo "[tests] ruff check + format --check"
"$PY" -m ruff check .
"$PY" -m ruff format --check .
echo "[tests] pytest"
exec "$PY" -m pytest tests "$@"

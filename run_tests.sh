#!/usr/bin/env bash
# The kit's tests: pytest (unit + integration) and nbval (every RQ notebook executed with the
# smoke profile). Sets up .venv on first use. Extra arguments go to pytest.
#   NAS_CORE_DATA=/path/to/data ./run_tests.sh      # with the real benchmark data
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
ensure_fashion_mnist || true
export MPLBACKEND=Agg PYTHONHASHSEED=0
echo "[tests] data root: ${NAS_CORE_DATA:-<none: mini benchmark; real-data tests skip>}"
echo "[tests] ruff (lint: unused/undefined names, syntax)"
"$PY" -m ruff check .
"$PY" -m pytest tests -m "not outputs" "$@"
echo "[tests] nbval: executing every notebook with the smoke profile (writes outputs/smoke)"
"$PY" -m pytest --nbval-lax -p no:cacheprovider notebooks/*.ipynb
echo "[tests] key numbers of the files the notebooks just wrote"
"$PY" -m pytest tests -m outputs "$@"

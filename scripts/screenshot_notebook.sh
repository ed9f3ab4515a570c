#!/usr/bin/env bash
# Open an executed notebook in JupyterLab, as a reader would, and screenshot it with headless
# Chromium (Debian: apt-get install chromium). Not run by CI.
#   scripts/screenshot_notebook.sh [outputs/quick/notebooks/rq1_ranking.ipynb] [out.png]
set -euo pipefail
cd "$(dirname "$0")/.."
nb="${1:-outputs/quick/notebooks/rq1_ranking.ipynb}"
out="${2:-/tmp/notebook.png}"
port="${PORT:-8899}"
browser="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$browser" ] || { echo "needs Chromium: apt-get install chromium" >&2; exit 2; }
[ -f "$nb" ] || { echo "no notebook $nb (run ./run_all.sh first)" >&2; exit 2; }
.venv/bin/jupyter lab --no-browser --ip 127.0.0.1 --port "$port" --allow-root \
  --IdentityProvider.token='' --ServerApp.password='' --ServerApp.root_dir="$PWD" >/tmp/jupyterlab.log 2>&1 &
lab=$!
trap 'kill $lab 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -s "http://127.0.0.1:$port/lab" >/dev/null && break; sleep 1; done
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,2600 \
  --virtual-time-budget=30000 --screenshot="$out" "http://127.0.0.1:$port/lab/tree/$nb" 2>/dev/null
echo "screenshot: $out"

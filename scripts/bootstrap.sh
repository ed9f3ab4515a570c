# Sourced by run_all.sh and run_tests.sh: make (or reuse) the local virtualenv .venv with the
# kit installed, so a fresh machine needs nothing installed by hand.
#   NAS_CORE_PYTHON      interpreter used to create .venv (default: python3)
#   NAS_CORE_TORCH_SPEC  how to install PyTorch when it is missing (default: torch==2.13.0,
#                        the CPU build on this project's machines; on a GPU machine use the
#                        CUDA build, e.g. NAS_CORE_TORCH_SPEC="torch==2.13.0" from your index)
#   NAS_CORE_PIP_ARGS    extra pip arguments (e.g. an index URL)
set -euo pipefail
KIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$KIT_ROOT/.venv"
PY="$VENV/bin/python"

if [ ! -x "$PY" ]; then
  echo "[setup] creating the virtualenv $VENV"
  "${NAS_CORE_PYTHON:-python3}" -m venv "$VENV" || {
    echo "[setup] error: could not create a virtualenv; install python3-venv (Debian: apt-get install python3-venv)" >&2; exit 2; }
fi
stamp="$VENV/.nas_core_installed"
want="$(cat "$KIT_ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] installing the kit and its dependencies into .venv (once)"
  if ! "$PY" -c "import torch" 2>/dev/null; then
    "$PY" -m pip install -q ${NAS_CORE_PIP_ARGS:-} "${NAS_CORE_TORCH_SPEC:-torch==2.13.0}"
  fi
  "$PY" -m pip install -q ${NAS_CORE_PIP_ARGS:-} -e "$KIT_ROOT[notebooks,test]"
  "$PY" -m ipykernel install --sys-prefix --name python3 >/dev/null
  echo "$want" > "$stamp"
fi

# Fashion-MNIST feeds the built-in mini benchmark (used when no data root is configured).
ensure_fashion_mnist() {
  local dir=/usr/share/datasets/fashion-mnist
  if [ -f "$dir/train-images-idx3-ubyte.gz" ] || [ -f "$dir/train-images-idx3-ubyte" ]; then return 0; fi
  if [ -n "${NAS_CORE_DATA:-}" ] && [ -d "$NAS_CORE_DATA/fashion-mnist" ]; then return 0; fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "[setup] installing Fashion-MNIST (Debian package dataset-fashion-mnist)"
    (apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
     (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1)) && return 0
  fi
  echo "[setup] Fashion-MNIST is missing. Install it with:  sudo apt-get install dataset-fashion-mnist" >&2
  echo "        or put its four IDX files in \$NAS_CORE_DATA/fashion-mnist/" >&2
  return 1
}

#!/usr/bin/env bash
# The "glacier" Jupyter kernel: the repo's .venv Python, registered inside the venv (--sys-prefix)
# so that `.venv/bin/jupyter lab` and the nbval tests run the tutorial notebooks with it.
# Idempotent: skipped when the kernel spec already points at this venv's Python.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${GLACIER_VENV:-.venv}/bin/python"
if [ ! -x "$PY" ]; then
  echo "40-kernel: $PY not found; run 'make test' (it creates the venv first)" >&2
  exit 1
fi
SPEC="$("$PY" -c 'import sys; print(sys.prefix)')/share/jupyter/kernels/glacier/kernel.json"
if [ -f "$SPEC" ] && grep -q "$("$PY" -c 'import sys; print(sys.executable)')" "$SPEC"; then
  exit 0
fi
"$PY" -m ipykernel install --sys-prefix --name glacier --display-name "Python (glacier)" >/dev/null
echo "40-kernel: installed the 'glacier' kernel into $("$PY" -c 'import sys; print(sys.prefix)')"

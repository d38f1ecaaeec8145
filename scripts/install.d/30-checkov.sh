#!/usr/bin/env bash
# checkov in its own virtual environment (its pins clash with Glacier's): .venv-checkov/bin/checkov.
# Idempotent: does nothing once checkov is installed (stamp file in the venv).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-checkov
# The project venv's interpreter is known to have a working venv module (Debian's python3 may lack it).
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
STAMP="$VENV/.stamp-checkov"
if [ -x "$VENV/bin/checkov" ] && [ -e "$STAMP" ]; then
  exit 0
fi
echo "installing checkov into $VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "checkov>=3.2,<4"
"$VENV/bin/checkov" --version
touch "$STAMP"
